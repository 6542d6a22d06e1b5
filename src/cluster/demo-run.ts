/**
 * A demo run on a LocalCluster: values written for its clients, the processes started in phases,
 * live progress until every learner has every value (or a diagnosis of why not), then the checks
 * and a latency report. `paxos demo` (and, kept running, its live page), the benchmarks and the
 * soak run use it; the cluster itself (start, crash, restart, readiness) is local-cluster.ts's.
 */
import { mkdirSync } from "node:fs";
import { checkAll } from "../check/check.ts";
import { formatResults, gatherLogs } from "../check/files.ts";
import { DEFAULT_CONFIG, loadConfigFile, mergeDeep, validateConfig, type Config } from "../config.ts";
import { EXIT } from "../exit-codes.ts";
import { majority } from "../protocol/tally.ts";
import { decidedInClientLog } from "../report/latency-log.ts";
import { writeReport } from "../report/files.ts";
import { renderTextSummary } from "../report/html.ts";
import { FileTail, RunDir } from "../run-dir.ts";
import { failureLineOf } from "../runtime/log.ts";
import type { RoleName } from "../runtime/role-names.ts";
import { LocalCluster, type LocalClusterOptions } from "./local-cluster.ts";
import type { Member } from "./member.ts";
import { Progress } from "./progress.ts";
import type { ChildUsage } from "./usage.ts";

/** The processes of a run, and the values each client submits. */
export interface Topology {
  readonly clients: number;
  readonly proposers: number;
  readonly acceptors: number;
  readonly learners: number;
  /** Values per client. */
  readonly num: number;
}

/** The config every process of the run gets: a base file (or the defaults) with these over it. */
export interface RunSettings {
  readonly config?: string;
  /** Values per instance (batch.valuesMax). */
  readonly batch?: number;
  readonly loss: number;
  /** One multicast address for all four groups. */
  readonly ip?: string;
}

/** How the processes are started (see LocalClusterOptions). */
export type LaunchOptions = Pick<LocalClusterOptions, "command" | "debug" | "statusFiles" | "learnerLatency" | "valueBytes">;

export interface DemoOptions {
  /** The run directory (created when missing; an earlier run's files in it are replaced). */
  readonly logs: string;
  readonly topology: Topology;
  readonly settings: RunSettings;
  readonly launch?: LaunchOptions;
  /** Start the last learner only after every value was learned: it catches up. */
  readonly catchup: boolean;
  /** At most this long for the processes to come up before the clients start; the pause before a late learner. */
  readonly sleepS: number;
  /** Give up after this long without progress. */
  readonly timeoutS: number;
  /** At the end: the three checks, the latency report. */
  readonly check: boolean;
  readonly report: boolean;
  /** No progress lines and no summary on stderr (benchmarks print their own). */
  readonly quiet?: boolean;
}

export interface DemoResult {
  /** From the first client's start until every learner had every value (or clients were done). */
  readonly clientPhaseS: number;
  readonly total: number;
  readonly usage: readonly ChildUsage[];
}

/** The config every process of the run gets: base file or defaults, with this run's settings. */
export async function demoConfig(s: RunSettings, acceptors: number): Promise<Config> {
  const base = s.config ? await loadConfigFile(s.config) : DEFAULT_CONFIG;
  const over: Record<string, unknown> = {
    // A fresh cluster id: another run on the same groups cannot mix its datagrams into this one.
    cluster: Math.floor(Math.random() * 0xffff_ffff),
    acceptors,
    loss: s.loss,
  };
  if (s.batch !== undefined) over.batch = { valuesMax: s.batch };
  if (s.ip !== undefined) {
    const g = base.network.groups;
    over.network = {
      groups: Object.fromEntries(Object.entries(g).map(([name, { port }]) => [name, { address: s.ip, port }])),
    };
  }
  return validateConfig(mergeDeep(base, over), "demo settings");
}

const POLL_MS = 20;

export class DemoRun {
  private local: LocalCluster | undefined;
  private readonly total: number;
  private readonly log = (line: string) => {
    if (!this.o.quiet) process.stderr.write(`${line}\n`);
  };
  private clientPhaseMs = 0;
  /** Set by interrupt(): the processes ending now are not a failure to report. */
  private interrupted = false;
  private readonly outputs = new Map<string, FileTail>();
  private lastLearned = 0;

  constructor(readonly o: DemoOptions) {
    this.total = o.topology.num * o.topology.clients;
  }

  /** Values learned at the last poll: the fewest any learner waited for has written (see learned()). */
  get valuesLearned(): number {
    return this.lastLearned;
  }

  /** The run's cluster, once started. */
  get cluster(): LocalCluster | undefined {
    return this.local;
  }

  /** The whole demo: start, wait until every value is learned, stop, check and report; the exit code. */
  async run(): Promise<number> {
    const cluster = await this.launch(false);
    const startedMs = performance.now();
    const code = await this.drive(cluster);
    const elapsedS = (performance.now() - startedMs) / 1000;
    await this.stop();
    return code !== 0 ? code : this.finish(elapsedS);
  }

  /**
   * The demo kept running (`paxos demo --ui`): its processes started as for run(), learners
   * without --count, each with a control file; the cluster is handed back for a live page, and
   * stop() ends it. There are no checks or report at the end (the page checks live).
   */
  async startLive(): Promise<LocalCluster> {
    const cluster = await this.launch(true);
    await this.startAll(cluster, undefined);
    return cluster;
  }

  /** Stops every process and waits for them. */
  async stop(): Promise<void> {
    this.local?.sampleMemory();
    await this.local?.stop();
  }

  /** Stops every running process (an interrupted demo) and waits for them; returns how many there were. */
  async interrupt(): Promise<number> {
    this.interrupted = true;
    if (this.local === undefined) return 0;
    const n = this.local.live().length;
    await this.local.stop("SIGTERM", 3000);
    return n;
  }

  /** After run(): timing and each process's CPU time (all its incarnations) and peak memory. */
  result(): DemoResult {
    return { clientPhaseS: this.clientPhaseMs / 1000, total: this.total, usage: this.local?.usage() ?? [] };
  }

  /** The run directory made ready, the config written, the clients' values written: a cluster with nothing started. */
  private async launch(live: boolean): Promise<LocalCluster> {
    const { o } = this;
    const t = o.topology;
    mkdirSync(o.logs, { recursive: true }); // the CLI checked it can
    new RunDir(o.logs).removeEarlierRun();
    const config = await demoConfig(o.settings, t.acceptors);
    const cluster = new LocalCluster({ ...o.launch, dir: o.logs, config, controlFiles: live, recordPids: true });
    this.local = cluster;
    for (let k = 1; k <= t.clients; k++) await cluster.writeValues(k, t.num);
    const g = config.network.groups.clients;
    this.log(`paxos demo: ${t.clients} clients × ${t.num} values, ${t.proposers} proposers, ${t.acceptors} acceptors, ${t.learners} learners` +
      `${o.settings.loss > 0 ? `, loss ${o.settings.loss}` : ""}${o.catchup ? ", one late learner" : ""} on ${g.address} via ${config.network.interface}`);
    return cluster;
  }

  /**
   * Starts the acceptors, proposers and learners (all but a late one, each exiting after `count`
   * values when given), waits at most --sleep seconds for them to be up, then starts the clients.
   */
  private async startAll(cluster: LocalCluster, count: number | undefined): Promise<Member[]> {
    const t = this.o.topology;
    const servers: Member[] = [];
    for (let i = 1; i <= t.acceptors; i++) servers.push(cluster.startAcceptor(i));
    for (let i = 1; i <= t.proposers; i++) servers.push(cluster.startProposer(i));
    const learners: Member[] = [];
    for (let i = 1; i <= (this.o.catchup ? t.learners - 1 : t.learners); i++) learners.push(cluster.startLearner(i, count));
    await cluster.waitUp([...servers, ...learners], this.o.sleepS * 1000);
    const clients: Member[] = [];
    for (let k = 1; k <= t.clients; k++) clients.push(cluster.startClient(k));
    return [...clients, ...learners];
  }

  /** Starts the processes in phases and waits until every value is learned (or gives up). */
  private async drive(cluster: LocalCluster): Promise<number> {
    const waitFor = await this.startAll(cluster, this.total);
    const clientsStartedMs = performance.now();
    const first = await this.waitDone(cluster, waitFor, new Progress(this.total, this.log, this.o.quiet));
    this.clientPhaseMs = performance.now() - clientsStartedMs;
    if (first !== 0 || !this.o.catchup) return first;
    await Bun.sleep(this.o.sleepS * 1000);
    this.log(`starting learner ${this.o.topology.learners} late, to catch up on ${this.total} decided values`);
    const late = cluster.startLearner(this.o.topology.learners, this.total);
    return this.waitDone(cluster, [late], new Progress(this.total, this.log, this.o.quiet));
  }

  /** Values learned so far: the fewest any waited-for learner has written, or (no learners) decided at the clients. */
  private async learned(cluster: LocalCluster, waitFor: readonly Member[]): Promise<number> {
    const learners = waitFor.filter((m) => m.role === "learner");
    const counts = learners.length > 0
      ? await Promise.all(learners.map((m) => this.output(cluster.dir.learned(m.id)).count()))
      : [await this.decidedAtClients(cluster.dir)];
    return Math.min(...counts);
  }

  private output(path: string): FileTail {
    let t = this.outputs.get(path);
    if (t === undefined) this.outputs.set(path, (t = new FileTail(path)));
    return t;
  }

  private async decidedAtClients(dir: RunDir): Promise<number> {
    let n = 0;
    for (let k = 1; k <= this.o.topology.clients; k++) {
      const log = Bun.file(dir.clientLatency(k));
      if (await log.exists()) n += decidedInClientLog(await log.text());
    }
    return n;
  }

  private async waitDone(cluster: LocalCluster, waitFor: readonly Member[], progress: Progress): Promise<number> {
    let lastCount = -1;
    let lastChangeMs = performance.now();
    for (;;) {
      if (this.interrupted) return EXIT.interrupted;
      // The newest incarnation of each: a restarted process replaces its predecessor.
      const now = waitFor.map((m) => cluster.get(m.name) ?? m);
      const failed = now.find((m) => m.exitCode !== null && m.exitCode !== 0);
      if (failed) return this.giveUp(`${failed.name} exited with code ${failed.exitCode}${failureLine(failed)}`);
      const count = await this.learned(cluster, now);
      this.lastLearned = count;
      cluster.sampleMemory();
      progress.update(count);
      if (now.every((m) => m.exitCode === 0)) {
        progress.done(count);
        return 0;
      }
      if (count !== lastCount) {
        lastCount = count;
        lastChangeMs = performance.now();
      } else if (performance.now() - lastChangeMs > this.o.timeoutS * 1000) {
        progress.done(count);
        return this.giveUp(`no progress for ${this.o.timeoutS} s at ${count} of ${this.total} values: ${this.diagnose(cluster)}`);
      }
      await Bun.sleep(POLL_MS);
    }
  }

  /** What keeps the run from finishing, as far as the processes' states tell. */
  private diagnose(cluster: LocalCluster): string {
    const current = cluster.processes();
    const running = (role: RoleName) => cluster.live(role).length;
    const reasons: string[] = [];
    const acc = running("acceptor");
    const acceptors = this.o.topology.acceptors;
    if (acc < majority(acceptors)) reasons.push(`no majority of acceptors (${acc} of ${acceptors} running)`);
    if (running("proposer") === 0) reasons.push("no proposer running");
    else if (cluster.leader() === undefined && this.o.launch?.statusFiles !== false) reasons.push("no proposer leads");
    const dead = current.filter((m) => m.exitCode !== null && m.exitCode !== 0);
    // Processes that ended for one reason are named together: a bad config stops them all alike.
    const byReason = new Map<string, string[]>();
    for (const m of dead) {
      const why = `exited with code ${m.exitCode}${failureLine(m)}`;
      byReason.set(why, [...(byReason.get(why) ?? []), m.name]);
    }
    for (const [why, names] of byReason) reasons.push(`${names.join(", ")} ${why}`);
    if (reasons.length === 0) reasons.push(`all processes run; see the logs in ${this.o.logs}/ (loss too high, or multicast blocked on ${cluster.config.network.interface}?)`);
    return reasons.join("; ");
  }

  private giveUp(why: string): number {
    this.log(`paxos demo: FAILED: ${why}`);
    return 1;
  }

  private async finish(elapsedS: number): Promise<number> {
    const o = this.o;
    let ok = true;
    if (o.check) {
      const { proposed, learned } = await gatherLogs([o.logs]);
      const results = checkAll(proposed, learned);
      ok = results.every((r) => r.ok);
      this.log(formatResults(results));
    }
    this.log(`${this.total} values in ${elapsedS.toFixed(2)} s: ${(this.total / elapsedS).toFixed(0)} values/s end to end (process start-up included)`);
    if (o.report && this.total > 0) {
      try {
        const { path, summary } = await writeReport(o.logs);
        this.log(renderTextSummary(summary));
        this.log(`report: ${path}`);
      } catch (e) {
        this.log(`report: not written: ${(e as Error).message}`);
      }
    }
    this.log(`logs: ${o.logs}/ (learner-N.txt outputs, values-client-N.txt proposed, latency-client-N.tsv, *.log, *.status.json)`);
    return ok ? 0 : 1;
  }
}

/** Why a process ended, as its own last words say (this incarnation's log), as ": reason", or "". */
function failureLine(m: Member): string {
  const line = failureLineOf(m.stderr);
  return line === undefined ? "" : `: ${line}`;
}
