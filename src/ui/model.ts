/**
 * What the demo's page shows, built from the processes' statuses, the clients' latencies, the
 * live checks and the actions taken: a pure model (no files, no clock of its own; time comes in
 * as `nowMs`), so that every number on the page is unit-tested. The server feeds it and sends
 * `view()` to the page as it is.
 */
import { percentile as nearestRank } from "../report/latency.ts";
import type { LiveResult } from "../check/live.ts";
import type { Group } from "../protocol/messages.ts";
import { majority } from "../protocol/tally.ts";
import type { RecentInstance } from "../runtime/recent.ts";
import { GROUP_OF, type RoleName } from "../runtime/role-names.ts";
import type { ProcessStatus } from "../runtime/status.ts";

/** One process as the supervisor sees it at a poll. */
export interface ProcessSample {
  readonly name: string;
  readonly role: RoleName;
  readonly id: number;
  readonly pid: number;
  readonly alive: boolean;
  /** Stopped with SIGSTOP by the page. */
  readonly paused: boolean;
  readonly exitCode: number | null;
  readonly status: ProcessStatus | undefined;
}

/** up: working; starting: not joined yet; paused: SIGSTOP; done: exited 0 (a client with all values decided); down: killed or failed. */
export type RowState = "starting" | "up" | "stopping" | "paused" | "done" | "down";

export interface ProcessRow {
  readonly name: string;
  readonly role: RoleName;
  readonly id: number;
  readonly pid: number;
  readonly state: RowState;
  readonly exitCode: number | null;
  readonly leader: boolean;
  readonly loss: number;
  readonly sentPerS: number;
  readonly receivedPerS: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly proposer?: ProcessStatus["proposer"];
  readonly acceptor?: ProcessStatus["acceptor"];
  readonly learner?: Omit<NonNullable<ProcessStatus["learner"]>, "recent">;
  readonly client?: ProcessStatus["client"];
  /** Whether the page offers a restart once it is down, and why not. */
  readonly restart: { readonly allowed: boolean; readonly short: string; readonly why: string };
  /** An acceptor of the set in force (the page offers to replace it); true for the other roles. */
  readonly member?: boolean;
}

export interface LatencyView {
  /** Values in the window the figures are over (the latest LATENCY_WINDOW). */
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Counts per bin, up to `toMs` inclusive (null: the last bin, everything above). */
  readonly bins: readonly { readonly toMs: number | null; readonly count: number }[];
}

export interface LogLine {
  readonly atMs: number;
  readonly text: string;
}

export interface View {
  readonly atMs: number;
  /** The acceptor set in force: the latest configuration any live process reports (`paxos reconfigure`), else the config's 1..N. */
  readonly configuration: { readonly epoch: number; readonly members: readonly number[] };
  readonly acceptors: number;
  readonly majority: number;
  /** Acceptors running and up (not paused): fewer than `majority` and nothing can be decided. */
  readonly acceptorsUp: number;
  readonly processes: readonly ProcessRow[];
  readonly leader: { readonly name: string; readonly round: number } | null;
  /** Values the most advanced learner delivered; values given to clients. */
  readonly learned: number;
  readonly proposed: number;
  /** Values learned per second, one point a second, oldest first (at most RATE_POINTS). */
  readonly ratePerS: readonly number[];
  readonly latency: LatencyView;
  readonly groups: Readonly<Record<Group, { readonly sentPerS: number; readonly receivedPerS: number }>>;
  /** Datagrams dropped, by reason, summed over the running incarnations. */
  readonly drops: Readonly<Record<string, number>>;
  readonly recent: readonly { readonly learner: string; readonly instances: readonly RecentInstance[] }[];
  readonly checks: readonly LiveResult[];
  readonly log: readonly LogLine[];
}

export const RATE_POINTS = 60;
export const LATENCY_WINDOW = 20_000;
export const LOG_LINES = 40;
/** Histogram bin upper bounds (1-2-5 steps); the last bin takes everything above. */
export const LATENCY_BINS_MS = [0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, Infinity];
/** Datagram rates are over at least this long a stretch of polls. */
const RATE_SPAN_MS = 1000;

/** Whether a process may be started again after a crash, and why not. */
export function restartPolicy(role: RoleName, status: ProcessStatus | undefined): { allowed: boolean; short: string; why: string } {
  if (role === "acceptor" && status?.acceptor?.durable !== true) {
    return {
      allowed: false,
      short: "an in-memory acceptor forgot its promises",
      why: "an in-memory acceptor forgets its promises and votes when it dies: started again under its id, it could vote against what it promised and two values could be chosen (a durable acceptor, acceptor.storage, can come back)",
    };
  }
  if (role === "client") {
    return { allowed: false, short: "it would submit its values again", why: "a client started again would submit its whole values file again as a new client: values already decided would be decided twice; add a new client instead" };
  }
  return { allowed: true, short: "", why: "" };
}

function rowState(s: ProcessSample): RowState {
  if (!s.alive) return s.exitCode === 0 ? "done" : "down";
  if (s.paused) return "paused";
  const st = s.status?.pid === s.pid ? s.status.state : undefined;
  return st === "up" ? "up" : st === "stopping" || st === "stopped" ? "stopping" : "starting";
}

interface Counts {
  readonly atMs: number;
  readonly pid: number;
  readonly sent: number;
  readonly received: number;
}

/** The report's nearest-rank percentile with `p` as a fraction; 0 when there are no samples yet. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : nearestRank(sorted, p * 100);
}

export class UiModel {
  private samples: readonly ProcessSample[] = [];
  private readonly counts = new Map<string, Counts[]>();
  private readonly rates = new Map<string, { sentPerS: number; receivedPerS: number }>();
  private readonly ratePerS: number[] = [];
  private lastSecond: { second: number; learned: number } | undefined;
  private learnedNow = 0;
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private latencyCount = 0;
  private checks: readonly LiveResult[] = [];
  private proposed = 0;
  private readonly log: LogLine[] = [];

  constructor(
    readonly acceptors: number,
    private readonly startedMs: number,
  ) {}

  /** The processes at a poll (every incarnation's newest). */
  observe(nowMs: number, samples: readonly ProcessSample[]): void {
    this.samples = samples;
    for (const s of samples) this.noteCounts(nowMs, s);
    this.learnedNow = this.learnedOf(samples);
    const second = Math.floor((nowMs - this.startedMs) / 1000);
    if (this.lastSecond === undefined) this.lastSecond = { second, learned: this.learnedNow };
    else if (second > this.lastSecond.second) {
      const perS = Math.max(0, this.learnedNow - this.lastSecond.learned) / (second - this.lastSecond.second);
      for (let k = this.lastSecond.second; k < second; k++) this.ratePerS.push(perS);
      this.ratePerS.splice(0, Math.max(0, this.ratePerS.length - RATE_POINTS));
      this.lastSecond = { second, learned: this.learnedNow };
    }
  }

  /** Values learned: the most any learner delivered, or (no learners) decided at the clients. */
  private learnedOf(samples: readonly ProcessSample[]): number {
    const learners = samples.filter((s) => s.role === "learner");
    if (learners.length > 0) return Math.max(...learners.map((s) => s.status?.learner?.delivered ?? 0));
    return samples.reduce((n, s) => n + (s.status?.client?.decided ?? 0), 0);
  }

  private noteCounts(nowMs: number, s: ProcessSample): void {
    const d = s.status?.datagrams;
    if (d === undefined || s.status?.pid !== s.pid) return; // no status of this incarnation yet
    let history = this.counts.get(s.name) ?? [];
    const last = history.at(-1);
    if (last !== undefined && (last.pid !== s.pid || d.sent < last.sent || d.received < last.received)) history = [];
    history.push({ atMs: nowMs, pid: s.pid, sent: d.sent, received: d.received });
    while (history.length > 2 && nowMs - history[1]!.atMs >= RATE_SPAN_MS) history.shift();
    this.counts.set(s.name, history);
    const first = history[0]!;
    const spanS = (nowMs - first.atMs) / 1000;
    const latest = history.at(-1)!;
    this.rates.set(s.name, spanS <= 0 ? { sentPerS: 0, receivedPerS: 0 } : {
      sentPerS: (latest.sent - first.sent) / spanS,
      receivedPerS: (latest.received - first.received) / spanS,
    });
  }

  /** Latencies (ms) of values clients saw decided since the last call. */
  addLatencies(latenciesMs: readonly number[]): void {
    for (const ms of latenciesMs) this.latencies[this.latencyCount++ % LATENCY_WINDOW] = ms;
  }

  setChecks(results: readonly LiveResult[]): void {
    this.checks = results;
  }

  /** Values given to clients so far. */
  setProposed(values: number): void {
    this.proposed = values;
  }

  /** An action or event for the page's log. */
  note(nowMs: number, text: string): void {
    this.log.push({ atMs: nowMs, text });
    this.log.splice(0, Math.max(0, this.log.length - LOG_LINES));
  }

  private rows(): ProcessRow[] {
    const leader = this.leader();
    return this.samples.map((s) => {
      const st = s.status?.pid === s.pid ? s.status : undefined; // a restarted one's predecessor's status is not its own
      const rate = s.alive ? this.rates.get(s.name) : undefined;
      const learner = st?.learner === undefined ? undefined : { decidedPrefix: st.learner.decidedPrefix, delivered: st.learner.delivered, waiting: st.learner.waiting };
      return {
        name: s.name,
        role: s.role,
        id: s.id,
        pid: s.pid,
        state: rowState(s),
        exitCode: s.exitCode,
        leader: leader?.name === s.name,
        loss: st?.loss ?? 0,
        sentPerS: rate?.sentPerS ?? 0,
        receivedPerS: rate?.receivedPerS ?? 0,
        dropped: st?.datagrams.dropped ?? {},
        // A dead proposer's last status may say it leads: its mode is not current.
        ...(st?.proposer && s.alive ? { proposer: st.proposer } : {}),
        ...(st?.acceptor ? { acceptor: st.acceptor } : {}),
        ...(learner ? { learner } : {}),
        ...(st?.client ? { client: st.client } : {}),
        restart: restartPolicy(s.role, s.status),
      };
    });
  }

  /** The running proposer whose status says it leads, with the highest round if several still think so. */
  leader(): { name: string; round: number } | null {
    let best: { name: string; round: number } | null = null;
    for (const s of this.samples) {
      const p = s.status?.proposer;
      if (!s.alive || s.status?.pid !== s.pid || p?.leader !== true) continue;
      if (best === null || p.round > best.round) best = { name: s.name, round: p.round };
    }
    return best;
  }

  private latencyView(): LatencyView {
    const n = Math.min(this.latencyCount, LATENCY_WINDOW);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const bins = LATENCY_BINS_MS.map((toMs) => ({ toMs, count: 0 }));
    let b = 0;
    for (const ms of sorted) {
      while (ms > bins[b]!.toMs) b++;
      bins[b]!.count++;
    }
    return {
      count: n,
      p50Ms: percentile(sorted, 0.5),
      p90Ms: percentile(sorted, 0.9),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.at(-1) ?? 0,
      bins: bins.map((b) => ({ toMs: Number.isFinite(b.toMs) ? b.toMs : null, count: b.count })),
    };
  }

  /** The latest configuration a process of this run reports in its status (epoch 0: the config's acceptors). */
  private configuration(): View["configuration"] {
    let best: View["configuration"] = { epoch: 0, members: Array.from({ length: this.acceptors }, (_, i) => i + 1) };
    for (const s of this.samples) {
      const c = s.status?.configuration;
      if (c !== undefined && c.epoch > best.epoch) best = { epoch: c.epoch, members: c.acceptors };
    }
    return best;
  }

  view(nowMs: number): View {
    const configuration = this.configuration();
    const processes = this.rows().map((p) => ({ ...p, member: p.role !== "acceptor" || configuration.members.includes(p.id) }));
    const groups = { clients: { sentPerS: 0, receivedPerS: 0 }, proposers: { sentPerS: 0, receivedPerS: 0 }, acceptors: { sentPerS: 0, receivedPerS: 0 }, learners: { sentPerS: 0, receivedPerS: 0 } };
    const drops: Record<string, number> = {};
    for (const p of processes) {
      const g = groups[GROUP_OF[p.role]];
      g.sentPerS += p.sentPerS;
      g.receivedPerS += p.receivedPerS;
      for (const [reason, n] of Object.entries(p.dropped)) drops[reason] = (drops[reason] ?? 0) + n;
    }
    const recent = this.samples
      .filter((s) => s.role === "learner" && s.status?.pid === s.pid && s.status.learner?.recent !== undefined)
      .map((s) => ({ learner: s.name, instances: s.status!.learner!.recent! }));
    return {
      atMs: nowMs,
      configuration,
      acceptors: configuration.members.length,
      majority: majority(configuration.members.length),
      acceptorsUp: processes.filter((p) => p.role === "acceptor" && p.state === "up" && configuration.members.includes(p.id)).length,
      processes,
      leader: this.leader(),
      learned: this.learnedNow,
      proposed: this.proposed,
      ratePerS: [...this.ratePerS],
      latency: this.latencyView(),
      groups,
      drops,
      recent,
      checks: this.checks,
      log: [...this.log],
    };
  }
}
