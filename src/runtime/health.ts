/**
 * What a process sees of the cluster, so that a silent hang becomes a diagnosis. The node notes
 * every datagram it accepts (who sent it) and every one it drops for a reason an operator can fix
 * (a wrong key, another cluster or config), and its runner notes progress (a value decided,
 * delivered). When a role has work and has made no progress for STALL_MS, it says what it sees,
 * e.g. "no value decided for 5 s (20 waiting): no answer from any proposer", "1 of 3 acceptors
 * heard in the last 5 s: no majority", "datagrams failing authentication, from 127.0.0.1:41234:
 * check auth.key", and says it again every REPEAT_MS while it lasts. Refused datagrams are said
 * even when nothing waits, naming each sender at most once a minute. The same facts are metrics.
 */
import type { Message } from "../protocol/messages.ts";
import { majority } from "../protocol/tally.ts";
import type { RoleName } from "./role-names.ts";

/** Work stalled this long is reported. */
export const STALL_MS = 5000;
const REPEAT_MS = 30_000;
/** A peer heard within this long counts as heard. */
const HEARD_MS = 5000;
/** Refused datagrams name each sender at most this often (and in every stall diagnosis). */
const REFUSED_REPEAT_MS = 60_000;
/** Senders of refused datagrams remembered at once (the oldest is forgotten first). */
const REFUSED_PEERS_MAX = 64;
/** Senders named in one line; the others are counted. */
const REFUSED_NAMED_MAX = 3;

/** Which role sends each message type (what hearing it tells). */
const SENDER: Record<Exclude<Message["t"], "config">, "clients" | "proposers" | "acceptors" | "learners"> = {
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
  /** Datagrams dropped for reasons an operator fixes, by reason and sender: when last, and when last said. */
  private readonly refused = new Map<string, { reason: string; from: string; atMs: number; saidAtMs: number }>();

  constructor(
    readonly role: RoleName,
    private readonly acceptors: number,
    private readonly work: () => Work,
    nowMs: number,
  ) {
    this.lastProgressMs = nowMs;
  }

  noteMessage(msg: Message, nowMs: number): void {
    const sender = msg.t === "config" ? msg.group : SENDER[msg.t];
    this.lastHeardMs[sender] = nowMs;
    if ("acc" in msg && sender === "acceptors") this.acceptorHeardMs.set(msg.acc, nowMs);
  }

  /** A datagram dropped as `reason` (auth, cluster, config, version), sent from `from` (address:port). */
  noteRefused(reason: string, from: string, nowMs: number): void {
    const key = `${reason} ${from}`;
    const r = this.refused.get(key);
    if (r !== undefined) {
      r.atMs = nowMs;
      return;
    }
    if (this.refused.size >= REFUSED_PEERS_MAX) {
      let oldest: string | undefined;
      let oldestMs = Infinity;
      for (const [k, v] of this.refused) if (v.atMs < oldestMs) [oldest, oldestMs] = [k, v.atMs];
      this.refused.delete(oldest!);
    }
    this.refused.set(key, { reason, from, atMs: nowMs, saidAtMs: -Infinity });
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
    }
    const stalledMs = nowMs - this.lastProgressMs;
    if (work.waiting > 0 && stalledMs >= STALL_MS && nowMs - this.reportedAtMs >= REPEAT_MS) {
      this.reportedAtMs = nowMs;
      const what = this.role === "learner" ? "nothing delivered" : "no value decided";
      return `${what} for ${Math.round(stalledMs / 1000)} s (${work.waiting} ${work.unit} waiting): ${this.diagnosis(nowMs)}`;
    }
    // Refused datagrams are worth saying even when nothing waits: each sender once a minute.
    const lines = this.refusedLines(nowMs, (r) => nowMs - r.saidAtMs >= REFUSED_REPEAT_MS);
    return lines.length === 0 ? undefined : lines.join("; ");
  }

  private diagnosis(nowMs: number): string {
    const seen: string[] = [];
    const heard = (g: keyof Health["lastHeardMs"]) => nowMs - this.lastHeardMs[g] <= HEARD_MS;
    const refused = this.refusedLines(nowMs, () => true);
    if (this.role === "client") {
      // A client hears only acks: it cannot tell a missing proposer from one that cannot decide.
      seen.push(
        heard("proposers")
          ? "proposers answer, but decide nothing (too few acceptors? a proposer's log says)"
          : refused.length > 0
            ? "no proposer answers in this configuration"
            : "no answer from any proposer: none running or reachable, a different auth.key, or too few acceptors (a proposer's log says which)",
      );
    } else {
      const n = this.acceptorsHeard(nowMs);
      const need = majority(this.acceptors);
      seen.push(n < need ? `${n} of ${this.acceptors} acceptors heard in the last ${HEARD_MS / 1000} s: no majority` : `${n} of ${this.acceptors} acceptors heard`);
      if (this.role === "learner" && !heard("proposers")) seen.push("no proposer heard");
    }
    return [...seen, ...refused].join("; ");
  }

  /**
   * A line per reason for the senders refused in the last REFUSED_REPEAT_MS that `due` picks,
   * naming a few of them; those are marked said.
   */
  private refusedLines(nowMs: number, due: (r: { saidAtMs: number }) => boolean): string[] {
    const byReason = new Map<string, string[]>();
    for (const r of this.refused.values()) {
      if (nowMs - r.atMs > REFUSED_REPEAT_MS || !due(r)) continue;
      r.saidAtMs = nowMs;
      byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.from]);
    }
    const out: string[] = [];
    for (const [reason, peers] of byReason) {
      const more = peers.length - REFUSED_NAMED_MAX;
      const from = `from ${peers.slice(0, REFUSED_NAMED_MAX).join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
      if (reason === "auth") out.push(`datagrams failing authentication, ${from}: check auth.key (or auth.keyFile) on both sides`);
      else if (reason === "cluster") out.push(`datagrams of another cluster id, ${from}: another cluster shares these groups, or the configs differ (\`cluster\`)`);
      else if (reason === "config") out.push(`datagrams from a process configured with another acceptor count (this one has acceptors: ${this.acceptors}), ${from}: every process needs the same \`acceptors\``);
      else if (reason === "version") out.push(`datagrams of another wire version, ${from}: run one paxos version in a cluster`);
    }
    return out;
  }
}
