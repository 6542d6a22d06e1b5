/**
 * What a process sees of the cluster, so that a silent hang becomes a diagnosis. The node notes
 * every datagram it accepts (who sent it) and every one it drops for a reason an operator can fix
 * (a wrong key, another cluster or config), and its runner notes progress (a value decided,
 * delivered). When a role has work and has made no progress for STALL_MS, it says what it sees,
 * e.g. "no value decided for 5 s (20 waiting): no answer from any proposer", "1 of 3 acceptors
 * heard in the last 5 s: no majority", "datagrams failing authentication from 127.0.0.1:
 * check auth.key", and says it again every REPEAT_MS while it lasts. The same facts are metrics.
 */
import type { Message } from "../protocol/messages.ts";
import { majority } from "../protocol/tally.ts";
import type { RoleName } from "./roles/common.ts";

/** Work stalled this long is reported. */
export const STALL_MS = 5000;
const REPEAT_MS = 30_000;
/** A peer heard within this long counts as heard. */
const HEARD_MS = 5000;

/** Which role sends each message type (what hearing it tells). */
const SENDER: Record<Message["t"], "clients" | "proposers" | "acceptors" | "learners"> = {
  submit: "clients",
  ack: "proposers",
  "1a": "proposers",
  "2a": "proposers",
  decision: "proposers",
  refuse: "proposers",
  hello: "proposers",
  "1b": "acceptors",
  nack: "acceptors",
  "2b": "acceptors",
  votes: "acceptors",
  trimmed: "acceptors",
  catchup: "learners",
};

export interface Work {
  /** Values (or instances) this role waits on; 0: nothing to do, nothing to report. */
  readonly waiting: number;
  /** What it waits for, for the message: "values", "instances". */
  readonly unit: string;
}

export class Health {
  private readonly lastHeardMs: Record<"clients" | "proposers" | "acceptors" | "learners", number> = {
    clients: -Infinity,
    proposers: -Infinity,
    acceptors: -Infinity,
    learners: -Infinity,
  };
  private readonly acceptorHeardMs = new Map<number, number>();
  private lastProgressMs: number;
  private reportedAtMs = -Infinity;
  /** Datagrams dropped for reasons an operator fixes, by reason: how many, and the last sender. */
  private readonly refused = new Map<string, { count: number; from: string; atMs: number }>();

  constructor(
    readonly role: RoleName,
    private readonly acceptors: number,
    private readonly work: () => Work,
    nowMs: number,
  ) {
    this.lastProgressMs = nowMs;
  }

  noteMessage(msg: Message, nowMs: number): void {
    this.lastHeardMs[SENDER[msg.t]] = nowMs;
    if ("acc" in msg && SENDER[msg.t] === "acceptors") this.acceptorHeardMs.set(msg.acc, nowMs);
  }

  /** A datagram dropped as `reason` (auth, cluster, config, version), sent from `from`. */
  noteRefused(reason: string, from: string, nowMs: number): void {
    const r = this.refused.get(reason);
    if (r === undefined) this.refused.set(reason, { count: 1, from, atMs: nowMs });
    else Object.assign(r, { count: r.count + 1, from, atMs: nowMs });
  }

  noteProgress(nowMs: number): void {
    this.lastProgressMs = nowMs;
  }

  /** Acceptors heard in the last HEARD_MS. */
  acceptorsHeard(nowMs: number): number {
    let n = 0;
    for (const at of this.acceptorHeardMs.values()) if (nowMs - at <= HEARD_MS) n++;
    return n;
  }

  /** Seconds since each group was last heard (Infinity: never), for metrics. */
  secondsSinceHeard(nowMs: number): Record<string, number> {
    return Object.fromEntries(Object.entries(this.lastHeardMs).map(([g, at]) => [g, (nowMs - at) / 1000]));
  }

  secondsSinceProgress(nowMs: number): number {
    return (nowMs - this.lastProgressMs) / 1000;
  }

  /** What to say now (undefined: nothing): called every second or so. */
  check(nowMs: number): string | undefined {
    const work = this.work();
    if (work.waiting === 0) {
      this.lastProgressMs = Math.max(this.lastProgressMs, nowMs - STALL_MS / 2); // idle is not stalled
      this.reportedAtMs = -Infinity;
      return this.refusedOnly(nowMs);
    }
    const stalledMs = nowMs - this.lastProgressMs;
    if (stalledMs < STALL_MS || nowMs - this.reportedAtMs < REPEAT_MS) return undefined;
    this.reportedAtMs = nowMs;
    const what = this.role === "learner" ? "nothing delivered" : "no value decided";
    return `${what} for ${Math.round(stalledMs / 1000)} s (${work.waiting} ${work.unit} waiting): ${this.diagnosis(nowMs)}`;
  }

  private diagnosis(nowMs: number): string {
    const seen: string[] = [];
    const heard = (g: keyof Health["lastHeardMs"]) => nowMs - this.lastHeardMs[g] <= HEARD_MS;
    if (this.role === "client") {
      // A client hears only acks: it cannot tell a missing proposer from one that cannot decide.
      seen.push(
        heard("proposers")
          ? "proposers answer, but decide nothing (too few acceptors? a proposer's log says)"
          : "no answer from any proposer: none running or reachable, a different auth.key, or too few acceptors (a proposer's log says which)",
      );
    } else {
      const n = this.acceptorsHeard(nowMs);
      const need = majority(this.acceptors);
      seen.push(n < need ? `${n} of ${this.acceptors} acceptors heard in the last ${HEARD_MS / 1000} s: no majority` : `${n} of ${this.acceptors} acceptors heard`);
      if (this.role === "learner" && !heard("proposers")) seen.push("no proposer heard");
    }
    const refused = this.refusedLines(nowMs);
    return [...seen, ...refused].join("; ");
  }

  /** Refused datagrams are worth saying even when nothing waits (every REPEAT_MS). */
  private refusedOnly(nowMs: number): string | undefined {
    const lines = this.refusedLines(nowMs);
    if (lines.length === 0 || nowMs - this.reportedAtMs < REPEAT_MS) return undefined;
    this.reportedAtMs = nowMs;
    return lines.join("; ");
  }

  private refusedLines(nowMs: number): string[] {
    const out: string[] = [];
    for (const [reason, r] of this.refused) {
      if (nowMs - r.atMs > REPEAT_MS) continue;
      if (reason === "auth") out.push(`${r.count} datagrams failing authentication, the last from ${r.from}: check auth.key (or auth.keyFile) on both sides`);
      else if (reason === "cluster") out.push(`${r.count} datagrams of another cluster id, the last from ${r.from}: another cluster shares these groups, or the configs differ (cluster)`);
      else if (reason === "config") out.push(`${r.count} datagrams from a process configured with another acceptor count, the last from ${r.from}: every process needs the same \`acceptors\``);
      else if (reason === "version") out.push(`${r.count} datagrams of another wire version, the last from ${r.from}: run one paxos version in a cluster`);
    }
    return out;
  }
}
