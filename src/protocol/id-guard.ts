/**
 * A proposer's guard against another live process with its id (an operator's mistake: a unit
 * copied to a second machine). Two proposers with one id stay safe (acceptors bind every round to
 * one incarnation), but one of them should stop, and never the only one alive.
 *
 * The evidence is the other process's Hellos: every proposer says Hello every few hundred
 * milliseconds with its id, incarnation nonce and wall-clock start time. A late copy of this
 * process's previous incarnation's Hellos is not evidence: only Hellos of one other nonce heard
 * over at least `graceMs` (and still coming) show a live process. Then both processes know both
 * (start, nonce) pairs and agree which stops: the one that started later (ties: the larger
 * nonce). The one that stays says so; if the other still runs two grace periods later (it cannot
 * hear this one: a one-way link), this one stops instead, so that one of the two always stops.
 */
import type { Effects, Hello } from "./messages.ts";

interface Twin {
  readonly nonce: number;
  readonly startedMs: number;
  firstMs: number;
  lastMs: number;
  alerted: boolean;
}

export class IdGuard {
  private readonly twins = new Map<number, Twin>();

  constructor(
    private readonly id: number,
    private readonly nonce: number,
    /** This process's wall-clock start (ms), as its Hellos say. */
    private readonly startedMs: number,
    private readonly graceMs: number,
    /** A twin not heard for this long is forgotten (its next Hellos start a new record). */
    private readonly silenceMs: number,
  ) {}

  /** A Hello from another process; true when this one must stop (`fx.fatal` says why). */
  onHello(msg: Hello, nowMs: number, fx: Effects): boolean {
    if (msg.id !== this.id || msg.nonce === this.nonce) return false;
    let t = this.twins.get(msg.nonce);
    if (t !== undefined && nowMs - t.lastMs > this.silenceMs) t = undefined; // a new episode
    if (t === undefined) {
      if (this.twins.size >= 16) this.forgetSilent(nowMs);
      t = { nonce: msg.nonce, startedMs: msg.startedMs, firstMs: nowMs, lastMs: nowMs, alerted: false };
      this.twins.set(msg.nonce, t);
    }
    t.lastMs = nowMs;
    const liveForMs = t.lastMs - t.firstMs;
    if (liveForMs < this.graceMs) return false;
    const theyStartedFirst = t.startedMs < this.startedMs || (t.startedMs === this.startedMs && t.nonce < this.nonce);
    if (theyStartedFirst) {
      fx.fatal = {
        cause: "duplicate-id",
        reason: `another process has been running as proposer ${this.id} since before this one started; this one stops: give every proposer its own id`,
      };
      return true;
    }
    if (liveForMs >= 3 * this.graceMs) {
      fx.fatal = {
        cause: "duplicate-id",
        reason: `another process started as proposer ${this.id} after this one and runs on (it does not hear this one); this one stops: give every proposer its own id`,
      };
      return true;
    }
    if (!t.alerted) {
      t.alerted = true;
      fx.alert({ cause: "duplicate-id", reason: `another process started as proposer ${this.id} after this one; it should stop: give every proposer its own id` });
    }
    return false;
  }

  private forgetSilent(nowMs: number): void {
    for (const [nonce, t] of this.twins) if (nowMs - t.lastMs > this.silenceMs) this.twins.delete(nonce);
    if (this.twins.size >= 16) this.twins.delete(this.twins.keys().next().value!);
  }
}
