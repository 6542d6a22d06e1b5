/**
 * The run checks of check.ts, kept up to date while a run goes on (the demo's page): proposed
 * values and learner outputs arrive a few lines at a time, and each check says ok, failed (with
 * the first offending line, as check.ts words it) or pending.
 *
 *   Total order — each learner's lines are compared with the longest sequence seen so far (the
 *                 reference), which any learner extends when it gets beyond it.
 *   Integrity   — counted on the reference: a learner that matches it line by line has the same
 *                 prefix. A learner that strayed from it (total order failed) is counted apart.
 *   Agreement   — a liveness property: pending until every learner has every proposed value.
 * A failure stays failed: the page must not turn green again once a safety check broke.
 */
import type { CheckResult } from "./check.ts";

export type LiveState = "ok" | "failed" | "pending";

export interface LiveResult extends CheckResult {
  readonly state: LiveState;
}

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

export class LiveCheck {
  private readonly allowed = new Map<string, number>();
  private proposedTotal = 0;
  /** The longest sequence any learner delivered, and who wrote which part of it (segments by start line). */
  private readonly reference: string[] = [];
  private readonly owners: { from: number; name: string }[] = [];
  private readonly used = new Map<string, number>();
  /** Lines seen per learner output. */
  private readonly position = new Map<string, number>();
  /** Per learner that strayed from the reference, its own count of each value. */
  private readonly strayed = new Map<string, Map<string, number>>();
  private totalOrderFailure: string | undefined;
  private integrityFailure: string | undefined;

  /** Values a client was given to propose. */
  propose(lines: readonly string[]): void {
    for (const v of lines) this.allowed.set(v, (this.allowed.get(v) ?? 0) + 1);
    this.proposedTotal += lines.length;
  }

  /** A learner output's next lines. */
  learn(name: string, lines: readonly string[]): void {
    let at = this.position.get(name) ?? 0;
    for (const v of lines) {
      let own = this.strayed.get(name);
      if (own === undefined && at < this.reference.length && this.reference[at] !== v) {
        this.totalOrderFailure ??= `${name} line ${at + 1}: ${show(v)}, but ${this.ownerOf(at)} line ${at + 1}: ${show(this.reference[at]!)}`;
        own = new Map();
        for (let i = 0; i < at; i++) own.set(this.reference[i]!, (own.get(this.reference[i]!) ?? 0) + 1);
        this.strayed.set(name, own);
      }
      if (own !== undefined) this.count(own, name, at, v);
      else if (at >= this.reference.length) this.extend(name, v);
      at++;
    }
    this.position.set(name, at);
  }

  /** A learner's output started over (it was restarted with an empty file). */
  restart(name: string): void {
    this.position.set(name, 0);
    this.strayed.delete(name);
  }

  private extend(name: string, v: string): void {
    const at = this.reference.length;
    if (this.owners.at(-1)?.name !== name) this.owners.push({ from: at, name });
    this.reference.push(v);
    this.count(this.used, name, at, v);
  }

  private count(counts: Map<string, number>, name: string, at: number, v: string): void {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    const max = this.allowed.get(v) ?? 0;
    if (this.integrityFailure !== undefined) return;
    if (max === 0) this.integrityFailure = `${name} line ${at + 1}: ${show(v)} was never proposed`;
    else if (n > max) this.integrityFailure = `${name} line ${at + 1}: ${show(v)} learned ${n} times, proposed ${max} time(s)`;
  }

  private ownerOf(line: number): string {
    let name = "?";
    for (const o of this.owners) if (o.from <= line) name = o.name;
    return name;
  }

  results(): LiveResult[] {
    const learners = this.position.size;
    const longest = this.reference.length;
    const fewest = learners === 0 ? 0 : Math.min(...this.position.values());
    const order: LiveResult = this.totalOrderFailure !== undefined
      ? { property: "Total order", ok: false, state: "failed", detail: this.totalOrderFailure }
      : { property: "Total order", ok: true, state: "ok", detail: `${learners} learner(s) agree on the order of ${longest} values` };
    const integrity: LiveResult = this.integrityFailure !== undefined
      ? { property: "Integrity", ok: false, state: "failed", detail: this.integrityFailure }
      : { property: "Integrity", ok: true, state: "ok", detail: "every learned value was proposed, none more often than proposed" };
    const done = learners > 0 && fewest >= this.proposedTotal;
    const agreement: LiveResult = done
      ? { property: "Agreement", ok: true, state: "ok", detail: `${learners} learner(s) learned all ${this.proposedTotal} proposed values` }
      : { property: "Agreement", ok: true, state: "pending", detail: `${fewest} of ${this.proposedTotal} proposed values learned by every learner (${learners} learner(s))` };
    return [order, integrity, agreement];
  }
}
