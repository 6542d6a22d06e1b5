/**
 * A demo run: a whole local cluster of real processes (through the Supervisor), values fed to its
 * clients, live progress, then the checks and a latency report. `paxos demo`, the benchmarks and
 * the soak run use it.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkAll } from "../check/check.ts";
import { formatResults, gatherLogs } from "../check/files.ts";
import { decidedInClientLog } from "../report/latency-log.ts";
import { writeReport } from "../report/files.ts";
import { failureLineOf } from "../runtime/log.ts";
import { renderTextSummary } from "../report/html.ts";
import { DEFAULT_CONFIG, loadConfigFile, mergeDeep, validateConfig, type Config } from "../config.ts";
import { EXIT } from "../exit-codes.ts";
import { majority } from "../protocol/tally.ts";
import { selfCommand } from "../runtime/self.ts";
import { AcceptorLog } from "../storage/acceptor-log.ts";
import { memoryOf, Supervisor, type Member } from "./supervisor.ts";

export interface DemoOptions {
  num: number;
  batch?: number;
  clients: number;
  proposers: number;
  acceptors: number;
  learners: number;
  loss: number;
  catchup: boolean;
  sleepS: number;
  ip?: string;
  debug: boolean;
  config?: string;
  logs: string;
  timeoutS: number;
  check: boolean;
  report: boolean;
  /** Pad every value to this many bytes (benchmarks); default: short distinct values. */
  valueBytes?: number;
  /** No progress lines and no summary on stderr (benchmarks print their own). */
  quiet?: boolean;
  /** The program to start the processes with (default: this one). */
  command?: string[];
  /** Whether that program writes status files (--status; builds before it did not). Default true. */
  statusFiles?: boolean;
  /** Learners write when they deliver each value (latency-learner-N.tsv), for submit-to-delivery latencies. */
  learnerLatency?: boolean;
  /** Called at every progress poll with the values learned so far (soak tests inject faults). */
  onPoll?: (learned: number, run: DemoRun) => Promise<void> | void;
  /**
   * Keep the cluster running (`paxos demo --ui`): once its processes are started, hand it to this,
   * whose result is the exit code; learners deliver without --count, every process takes
   * --control FILE, and there are no checks or report at the end (the page checks live).
   */
  live?: (run: DemoRun) => Promise<number>;
}

export interface ChildUsage {
  readonly name: string;
  readonly cpuS: number;
  readonly maxRssBytes: number;
}

export interface DemoResult {
  /** From the first client's start until every learner had every value (or clients were done). */
  readonly clientPhaseS: number;
  readonly total: number;
  readonly usage: readonly ChildUsage[];
}

/** The config every process of the run gets: base file or defaults, with this run's settings. */
async function runConfig(o: DemoOptions): Promise<Config> {
  const base = o.config ? await loadConfigFile(o.config) : DEFAULT_CONFIG;
  const over: Record<string, unknown> = {
    // A fresh cluster id: another run on the same groups cannot mix its datagrams into this one.
    cluster: Math.floor(Math.random() * 0xffff_ffff),
    acceptors: o.acceptors,
    loss: o.loss,
  };
  if (o.batch !== undefined) over.batch = { valuesMax: o.batch };
  if (o.ip !== undefined) {
    const g = base.network.groups;
    over.network = {
      groups: Object.fromEntries(Object.entries(g).map(([name, { port }]) => [name, { address: o.ip, port }])),
    };
  }
  return validateConfig(mergeDeep(base, over), "demo settings");
}

const POLL_MS = 20;

/** Files of an earlier run that this run replaces. */
const RUN_FILE = /^(values-client-\d+\.txt|learner-\d+\.txt|latency-(client|learner)-\d+\.tsv|(client|proposer|acceptor|learner)-\d+\.(log|status\.json|control\.json)|pids|config\.json|report\.html)$/;

export class DemoRun {
  private sup!: Supervisor;
  private config!: Config;
  private readonly total: number;
  private readonly log = (line: string) => {
    if (!this.o.quiet) process.stderr.write(`${line}\n`);
  };
  private clientPhaseMs = 0;
  /** Set by interrupt(): the processes ending now are not a failure to report. */
  private interrupted = false;
  private readonly counter = new LineCounter();
  /** Peak resident memory per process (Linux: VmHWM, sampled while it runs). */
  private readonly peakRss = new Map<string, number>();

  constructor(readonly o: DemoOptions) {
    this.total = o.num * o.clients;
  }

  /** The processes of the run (after run() started them). */
  get supervisor(): Supervisor {
    return this.sup;
  }

  private sampleRss(): void {
    for (const m of this.sup.members) {
      if (!m.alive) continue;
      const bytes = memoryOf(m.pid, "VmHWM");
      if (bytes !== undefined) this.peakRss.set(m.name, Math.max(this.peakRss.get(m.name) ?? 0, bytes));
    }
  }

  /** After run(): timing and each process's CPU time (all its incarnations) and peak memory. */
  result(): DemoResult {
    const cpu = new Map<string, number>();
    for (const m of this.sup.members) {
      const u = m.proc.resourceUsage();
      cpu.set(m.name, (cpu.get(m.name) ?? 0) + (u ? Number(u.cpuTime.user + u.cpuTime.system) / 1e6 : NaN));
    }
    const usage = [...cpu].map(([name, cpuS]) => ({ name, cpuS, maxRssBytes: this.peakRss.get(name) ?? NaN }));
    return { clientPhaseS: this.clientPhaseMs / 1000, total: this.total, usage };
  }

  private path(name: string): string {
    return join(this.o.logs, name);
  }

  /** Creates the run's directory (the CLI checked it can) and removes an earlier run's files from it. */
  private prepareLogs(): void {
    mkdirSync(this.o.logs, { recursive: true });
    for (const f of readdirSync(this.o.logs)) if (RUN_FILE.test(f)) rmSync(this.path(f));
  }

  /** A durable acceptor without a log yet starts with --init (its restarts must not: see AcceptorLog.open). */
  private firstStart(id: number): string[] {
    const dir = this.config.acceptor.storage;
    return dir !== null && !existsSync(AcceptorLog.pathOf(dir, id)) ? ["--init"] : [];
  }

  /** Kills a process with SIGKILL and, after `downMs`, starts it again with the same id and arguments. */
  async crashRestart(name: string, downMs: number): Promise<void> {
    const m = this.sup.get(name);
    if (m === undefined || !m.alive) return;
    await this.sup.crash(name);
    await Bun.sleep(downMs);
    this.sup.restart(name);
  }

  /** The proposer whose status says it leads, if any. */
  leader(): string | undefined {
    return this.sup.leader()?.name;
  }

  /** Resident memory now (Linux VmRSS) of each running process, by name. */
  currentRss(): Map<string, number> {
    const rss = new Map<string, number>();
    for (const m of this.sup.live()) {
      const bytes = memoryOf(m.pid, "VmRSS");
      if (bytes !== undefined) rss.set(m.name, bytes);
    }
    return rss;
  }

  /** Stops every running process (an interrupted demo) and waits for them; returns how many there were. */
  async interrupt(): Promise<number> {
    this.interrupted = true;
    if (this.sup === undefined) return 0;
    const n = this.sup.live().length;
    await this.sup.stopAll("SIGTERM", 3000);
    rmSync(this.path("pids"), { force: true });
    return n;
  }



  async run(): Promise<number> {
    const o = this.o;
    this.prepareLogs();
    this.config = await runConfig(o);
    await Bun.write(this.path("config.json"), JSON.stringify(this.config, null, 2));
    this.sup = new Supervisor({
      command: o.command ?? selfCommand(),
      dir: o.logs,
      configPath: this.path("config.json"),
      args: o.debug ? ["--debug"] : [],
      pidsFile: this.path("pids"),
      statusFiles: o.statusFiles !== false,
      controlFiles: o.live !== undefined,
    });
    for (let k = 1; k <= o.clients; k++) await this.writeValues(k);
    const g = this.config.network.groups.clients;
    this.log(`paxos demo: ${o.clients} clients × ${o.num} values, ${o.proposers} proposers, ${o.acceptors} acceptors, ${o.learners} learners` +
      `${o.loss > 0 ? `, loss ${o.loss}` : ""}${o.catchup ? ", one late learner" : ""} on ${g.address} via ${this.config.network.interface}`);
    const startedMs = performance.now();
    const code = await this.drive();
    const elapsedS = (performance.now() - startedMs) / 1000;
    this.sampleRss();
    await this.sup.stopAll();
    rmSync(this.path("pids"), { force: true });
    if (code !== 0 || o.live !== undefined) return code;
    return this.finish(elapsedS);
  }

  /** The run's directory of logs and outputs. */
  get logs(): string {
    return this.o.logs;
  }

  /** The config every process of the run got (after run() wrote it). */
  get settings(): Config {
    return this.config;
  }

  /** A learner started after the others (a live run's page): it catches up on what was decided. */
  addLearner(id: number): Member {
    return this.startLearner(id, []);
  }

  /** A client started after the others (a live run's page) with `num` values of its own. */
  async addClient(id: number, num: number): Promise<Member> {
    await this.writeValues(id, num);
    return this.startClient(id);
  }

  /** Client k's values: distinct lines, padded to --value-bytes when asked. */
  private async writeValues(k: number, num = this.o.num): Promise<void> {
    const w = Bun.file(this.path(`values-client-${k}.txt`)).writer();
    for (let i = 1; i <= num; i++) {
      const v = `client${k}-value${i}`;
      w.write(`${this.o.valueBytes === undefined ? v : v.padEnd(this.o.valueBytes, "x").slice(0, this.o.valueBytes)}\n`);
    }
    await w.end();
  }

  private startLearner(i: number, countArgs: string[]): Member {
    const latency = this.o.learnerLatency ? ["--latency-log", this.path(`latency-learner-${i}.tsv`)] : [];
    return this.sup.start({ role: "learner", id: i, args: [...countArgs, ...latency], stdout: { file: this.path(`learner-${i}.txt`) } });
  }

  private startClient(k: number): Member {
    const latency = ["--latency-log", this.path(`latency-client-${k}.tsv`)];
    return this.sup.start({ role: "client", id: k, args: latency, stdin: { file: this.path(`values-client-${k}.txt`) } });
  }

  /** Starts the processes in phases and waits until every value is learned (or gives up). */
  private async drive(): Promise<number> {
    const o = this.o;
    const countArgs = o.live === undefined ? ["--count", String(this.total)] : [];
    const servers: Member[] = [];
    for (let i = 1; i <= o.acceptors; i++) servers.push(this.sup.start({ role: "acceptor", id: i, once: this.firstStart(i) }));
    for (let i = 1; i <= o.proposers; i++) servers.push(this.sup.start({ role: "proposer", id: i }));
    const onTime = o.catchup ? o.learners - 1 : o.learners;
    const learners: Member[] = [];
    for (let i = 1; i <= onTime; i++) learners.push(this.startLearner(i, countArgs));
    // At most --sleep seconds for every process to join its group (status "up").
    await this.sup.waitUp([...servers, ...learners], o.sleepS * 1000);
    const clients: Member[] = [];
    for (let k = 1; k <= o.clients; k++) clients.push(this.startClient(k));
    if (o.live !== undefined) return o.live(this);
    const clientsStartedMs = performance.now();
    const progress = new Progress(this.total, this.log, this.o.quiet);
    const firstWait = await this.waitDone([...clients, ...learners], progress);
    this.clientPhaseMs = performance.now() - clientsStartedMs;
    if (firstWait !== 0) return firstWait;
    if (o.catchup) {
      await Bun.sleep(o.sleepS * 1000);
      this.log(`starting learner ${o.learners} late, to catch up on ${this.total} decided values`);
      const late = this.startLearner(o.learners, countArgs);
      return this.waitDone([late], new Progress(this.total, this.log, this.o.quiet));
    }
    return 0;
  }

  /** Values learned so far: the fewest any waited-for learner has written, or (no learners) decided at the clients. */
  private async learned(waitFor: readonly Member[]): Promise<number> {
    const learners = waitFor.filter((m) => m.role === "learner");
    const counts = learners.length > 0
      ? await Promise.all(learners.map((m) => this.counter.count(this.path(`learner-${m.id}.txt`))))
      : [await this.decidedAtClients()];
    return Math.min(...counts);
  }

  private async decidedAtClients(): Promise<number> {
    let n = 0;
    for (let k = 1; k <= this.o.clients; k++) {
      const log = Bun.file(this.path(`latency-client-${k}.tsv`));
      if (await log.exists()) n += decidedInClientLog(await log.text());
    }
    return n;
  }

  /** The newest incarnation of each waited-for member (a restarted one replaces its predecessor). */
  private newest(waitFor: readonly Member[]): Member[] {
    return waitFor.map((m) => this.sup.get(m.name) ?? m);
  }

  private async waitDone(waitFor: readonly Member[], progress: Progress): Promise<number> {
    let lastCount = -1;
    let lastChangeMs = performance.now();
    for (;;) {
      if (this.interrupted) return EXIT.interrupted;
      const now = this.newest(waitFor);
      const failed = now.find((m) => m.exitCode !== null && m.exitCode !== 0);
      if (failed) return this.giveUp(`${failed.name} exited with code ${failed.exitCode}${failureLine(failed)}`);
      const count = await this.learned(now);
      this.sampleRss();
      progress.update(count);
      await this.o.onPoll?.(count, this);
      if (now.every((m) => m.exitCode === 0)) {
        progress.done(count);
        return 0;
      }
      if (count !== lastCount) {
        lastCount = count;
        lastChangeMs = performance.now();
      } else if (performance.now() - lastChangeMs > this.o.timeoutS * 1000) {
        progress.done(count);
        return this.giveUp(`no progress for ${this.o.timeoutS} s at ${count} of ${this.total} values: ${this.diagnose()}`);
      }
      await Bun.sleep(POLL_MS);
    }
  }

  /** What keeps the run from finishing, as far as the processes' states tell. */
  private diagnose(): string {
    const current = this.sup.current();
    const running = (role: string) => current.filter((m) => m.role === role && m.alive).length;
    const reasons: string[] = [];
    const acc = running("acceptor");
    if (acc < majority(this.o.acceptors)) reasons.push(`no majority of acceptors (${acc} of ${this.o.acceptors} running)`);
    if (running("proposer") === 0) reasons.push("no proposer running");
    else if (this.sup.leader() === undefined && this.o.statusFiles !== false) reasons.push("no proposer leads");
    const dead = current.filter((m) => m.exitCode !== null && m.exitCode !== 0);
    // Processes that ended for one reason are named together: a bad config stops them all alike.
    const byReason = new Map<string, string[]>();
    for (const m of dead) {
      const why = `exited with code ${m.exitCode}${failureLine(m)}`;
      byReason.set(why, [...(byReason.get(why) ?? []), m.name]);
    }
    for (const [why, names] of byReason) reasons.push(`${names.join(", ")} ${why}`);
    if (reasons.length === 0) reasons.push(`all processes run; see the logs in ${this.o.logs}/ (loss too high, or multicast blocked on ${this.config.network.interface}?)`);
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

/** Why a member ended, as its own last words say (this incarnation's log), as ": reason", or "". */
function failureLine(m: Member): string {
  const line = failureLineOf(m.stderr);
  return line === undefined ? "" : `: ${line}`;
}

/** Counts the lines of growing files, reading only what was appended since the last call. */
class LineCounter {
  private readonly seen = new Map<string, { bytes: number; lines: number }>();

  async count(path: string): Promise<number> {
    const state = this.seen.get(path) ?? { bytes: 0, lines: 0 };
    this.seen.set(path, state);
    const f = Bun.file(path);
    if (!(await f.exists())) return 0;
    const fresh = await f.slice(state.bytes).bytes();
    state.bytes += fresh.length;
    for (let i = fresh.indexOf(0x0a); i !== -1; i = fresh.indexOf(0x0a, i + 1)) state.lines++;
    return state.lines;
  }
}


/** Live progress on stderr: a redrawn bar on a terminal, a plain line a second otherwise. */
class Progress {
  private readonly tty: boolean;
  private readonly startedMs = performance.now();
  private lastPrintMs = 0;
  private lastCount = 0;
  private lastRateMs = performance.now();
  private rate = 0;

  constructor(
    private readonly total: number,
    private readonly log: (line: string) => void,
    private readonly quiet = false,
  ) {
    this.tty = !quiet && process.stderr.isTTY === true;
  }

  update(count: number): void {
    const now = performance.now();
    if (now - this.lastRateMs >= 500) {
      this.rate = ((count - this.lastCount) * 1000) / (now - this.lastRateMs);
      this.lastCount = count;
      this.lastRateMs = now;
    }
    if (this.tty) process.stderr.write(`\r${this.line(count)}\x1b[K`);
    else if (now - this.lastPrintMs >= 1000) {
      this.lastPrintMs = now;
      this.log(this.line(count));
    }
  }

  done(count: number): void {
    const secs = (performance.now() - this.startedMs) / 1000;
    this.rate = count / Math.max(secs, 1e-3);
    if (this.tty) process.stderr.write(`\r${this.line(count)}\x1b[K\n`);
    else if (!this.quiet) this.log(this.line(count));
  }

  private line(count: number): string {
    const width = 30;
    const frac = this.total === 0 ? 1 : Math.min(1, count / this.total);
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    return `[${bar}] ${count}/${this.total} values learned  ${this.rate.toFixed(0)} values/s`;
  }
}

