/**
 * `paxos demo`: a whole local cluster of real processes of this binary, live progress, then the
 * checks and a latency report. scripts/run.sh is this command with the specification's defaults.
 */
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { defineCommand } from "citty";
import { checkAll } from "../check/check.ts";
import { DEFAULT_CONFIG, loadConfigFile, mergeDeep, validateConfig, type Config } from "../config.ts";
import { majority } from "../protocol/tally.ts";
import { selfCommand } from "../runtime/self.ts";
import { AcceptorLog } from "../storage/acceptor-log.ts";
import { formatResults, gatherLogs } from "./check.ts";
import { UsageError } from "./errors.ts";
import { EXIT } from "../exit-codes.ts";
import { failureLineOf } from "./failure.ts";
import { isSystemError, reasonOf } from "../os-errors.ts";
import { writeReport, renderTextSummary } from "./report.ts";

export const demoArgs = {
  num: { type: "string", alias: "n", description: "Values per client", default: "1000", valueHint: "n" },
  batch: { type: "string", alias: "b", description: "Proposer batch size: values per instance (default: config)", valueHint: "n" },
  clients: { type: "string", alias: "c", description: "Number of clients", default: "2", valueHint: "n" },
  proposers: { type: "string", alias: "p", description: "Number of proposers", default: "2", valueHint: "n" },
  acceptors: { type: "string", alias: "a", description: "Number of acceptors", default: "3", valueHint: "n" },
  learners: { type: "string", alias: "l", description: "Number of learners (0: latencies only)", default: "2", valueHint: "n" },
  loss: { type: "string", description: "Drop each received datagram with this probability", default: "0", valueHint: "rate" },
  catchup: { type: "boolean", description: "Start one learner only after all values are decided", default: false },
  sleep: { type: "string", alias: "s", description: "Seconds between phases (at most, while processes come up)", default: "2", valueHint: "sec" },
  ip: { type: "string", description: "Multicast address for all four groups (default: the config's)", valueHint: "address" },
  debug: { type: "boolean", alias: "d", description: "Debug logging in every process's log", default: false },
  config: { type: "string", description: "Base config file for every process", valueHint: "file" },
  logs: { type: "string", description: "Directory for logs, outputs and the report", default: "logs", valueHint: "dir" },
  timeout: { type: "string", description: "Give up after this many seconds without progress", default: "30", valueHint: "sec" },
  check: { type: "boolean", description: "Run the checks at the end (--no-check to skip)", default: true },
  report: { type: "boolean", description: "Write the HTML latency report at the end (--no-report to skip)", default: true },
} as const;

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
  /** Learners write when they deliver each value (latency-learner-N.tsv), for submit-to-delivery latencies. */
  learnerLatency?: boolean;
  /** Called at every progress poll with the values learned so far (soak tests inject faults). */
  onPoll?: (learned: number, run: DemoRun) => Promise<void> | void;
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

function int(name: string, raw: unknown, min: number, max: number): number {
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, found '${String(raw)}'`);
  }
  return n;
}

function num(name: string, raw: unknown, min: number, max: number): number {
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !(n >= min && n <= max)) {
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, found '${String(raw)}'`);
  }
  return n;
}

export function parseDemoArgs(args: Record<string, unknown>): DemoOptions {
  const o: DemoOptions = {
    num: int("num", args.num, 0, 100_000_000),
    clients: int("clients", args.clients, 1, 999),
    proposers: int("proposers", args.proposers, 1, 999),
    acceptors: int("acceptors", args.acceptors, 1, 255),
    learners: int("learners", args.learners, 0, 999),
    loss: num("loss", args.loss, 0, 0.99),
    catchup: args.catchup === true,
    sleepS: num("sleep", args.sleep, 0, 3600),
    debug: args.debug === true,
    logs: String(args.logs),
    timeoutS: num("timeout", args.timeout, 1, 86_400),
    check: args.check !== false,
    report: args.report !== false,
  };
  if (args.batch !== undefined) o.batch = int("batch", args.batch, 1, 1_000_000);
  if (args.ip !== undefined) o.ip = String(args.ip);
  if (args.config !== undefined) o.config = String(args.config);
  if (o.catchup && o.learners === 0) throw new UsageError("--catchup needs at least one learner");
  return o;
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

interface Child {
  readonly name: string;
  readonly role: string;
  readonly id: number;
  readonly extra: string[];
  readonly proc: Subprocess;
  readonly logFile: string;
  /** Where this incarnation's lines start in the (appended) log. */
  readonly logOffset: number;
}

const POLL_MS = 20;

/** Files of an earlier run that this run replaces. */
const RUN_FILE = /^(values-client-\d+\.txt|learner-\d+\.txt|latency-client-\d+\.tsv|(client|proposer|acceptor|learner)-\d+\.log|pids|config\.json|report\.html)$/;

export class DemoRun {
  private readonly children: Child[] = [];
  private readonly self: string[];
  private config!: Config;
  private readonly total: number;
  private readonly log = (line: string) => {
    if (!this.o.quiet) process.stderr.write(`${line}\n`);
  };
  private clientPhaseMs = 0;
  private readonly counter = new LineCounter();
  /** Peak resident memory per process (Linux: VmHWM, sampled while it runs). */
  private readonly peakRss = new Map<string, number>();

  private sampleRss(): void {
    for (const c of this.children) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      let status = "";
      try {
        status = readFileSync(`/proc/${c.proc.pid}/status`, "utf8"); // Bun.file reads /proc files as empty
      } catch {
        continue; // not Linux, or just exited
      }
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      if (kb !== undefined) this.peakRss.set(c.name, Math.max(this.peakRss.get(c.name) ?? 0, Number(kb) * 1024));
    }
  }

  /** After run(): timing and each process's CPU time and peak memory. */
  result(): DemoResult {
    const usage = this.children.map((c) => {
      const u = c.proc.resourceUsage();
      const cpuS = u ? Number(u.cpuTime.user + u.cpuTime.system) / 1e6 : NaN;
      return { name: c.name, cpuS, maxRssBytes: this.peakRss.get(c.name) ?? NaN };
    });
    return { clientPhaseS: this.clientPhaseMs / 1000, total: this.total, usage };
  }

  constructor(readonly o: DemoOptions) {
    this.total = o.num * o.clients;
    this.self = o.command ?? selfCommand();
  }

  private path(name: string): string {
    return join(this.o.logs, name);
  }

  private prepareLogs(): void {
    const dir = this.o.logs;
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--logs ${dir}: is a file, not a directory; name a directory (it is created when missing)`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      if (!isSystemError(e)) throw e;
      throw new UsageError(`--logs ${dir}: cannot create the directory: ${reasonOf(e.code)}`);
    }
    for (const f of readdirSync(this.o.logs)) if (RUN_FILE.test(f)) rmSync(this.path(f));
  }

  /** A durable acceptor without a log yet starts with --init (its restarts must not: see AcceptorLog.open). */
  private firstStart(id: number): string[] {
    const dir = this.config.acceptor.storage;
    return dir !== null && !existsSync(AcceptorLog.pathOf(dir, id)) ? ["--init"] : [];
  }

  private spawn(role: string, id: number, extra: string[], stdin?: string, stdout?: string, once: string[] = []): Child {
    const name = `${role}-${id}`;
    const logFile = this.path(`${name}.log`);
    const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
    const args = ["--role", role, "--id", String(id), "--config", this.path("config.json"), ...extra, ...once];
    if (this.o.debug) args.push("--debug");
    const proc = Bun.spawn([...this.self, ...args], {
      stdin: stdin ? Bun.file(stdin) : "ignore",
      stdout: stdout ? Bun.file(stdout) : "ignore",
      stderr: openSync(logFile, "a"), // appended: a restarted process keeps its predecessor's log
    });
    const child = { name, role, id, extra, proc, logFile, logOffset };
    this.children.push(child);
    this.recordPids();
    return child;
  }

  /** Kills a process with SIGKILL and, after `downMs`, starts it again with the same id and arguments. */
  async crashRestart(name: string, downMs: number): Promise<void> {
    const i = this.children.findIndex((c) => c.name === name && c.proc.exitCode === null && c.proc.signalCode === null);
    if (i < 0) return;
    const old = this.children[i]!;
    old.proc.kill("SIGKILL");
    await old.proc.exited;
    this.children.splice(i, 1);
    await Bun.sleep(downMs);
    this.spawn(old.role, old.id, old.extra);
  }

  /** The proposer whose log last said it leads, if any. */
  async leader(): Promise<string | undefined> {
    for (const c of this.children.filter((c) => c.role === "proposer" && c.proc.exitCode === null)) {
      const said = (await Bun.file(c.logFile).slice(c.logOffset).text()).match(/leading in round|standing by/g);
      if (said?.[said.length - 1] === "leading in round") return c.name;
    }
    return undefined;
  }

  /** Resident memory now (Linux VmRSS) of each running process, by name. */
  currentRss(): Map<string, number> {
    const rss = new Map<string, number>();
    for (const c of this.children) {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.proc.pid}/status`, "utf8"))?.[1];
        if (kb !== undefined) rss.set(c.name, Number(kb) * 1024);
      } catch {
        // exited meanwhile, or not Linux
      }
    }
    return rss;
  }

  /** logs/pids lists what this run started, so scripts/cleanup.sh can stop exactly those. */
  private recordPids(): void {
    const live = this.children.filter((c) => c.proc.exitCode === null);
    Bun.write(this.path("pids"), live.map((c) => `${c.proc.pid} ${c.name}\n`).join(""));
  }

  stopAll(signal: NodeJS.Signals = "SIGTERM"): void {
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill(signal);
  }

  async run(): Promise<number> {
    const o = this.o;
    this.prepareLogs();
    this.config = await runConfig(o);
    await Bun.write(this.path("config.json"), JSON.stringify(this.config, null, 2));
    for (let k = 1; k <= o.clients; k++) await this.writeValues(k);
    const g = this.config.network.groups.clients;
    this.log(`paxos demo: ${o.clients} clients × ${o.num} values, ${o.proposers} proposers, ${o.acceptors} acceptors, ${o.learners} learners` +
      `${o.loss > 0 ? `, loss ${o.loss}` : ""}${o.catchup ? ", one late learner" : ""} on ${g.address} via ${this.config.network.interface}`);
    const startedMs = performance.now();
    const code = await this.drive();
    const elapsedS = (performance.now() - startedMs) / 1000;
    this.sampleRss();
    this.stopAll();
    await Promise.all(this.children.map((c) => c.proc.exited));
    rmSync(this.path("pids"), { force: true });
    if (code !== 0) return code;
    return this.finish(elapsedS);
  }

  /** Client k's values: distinct lines, padded to --value-bytes when asked. */
  private async writeValues(k: number): Promise<void> {
    const w = Bun.file(this.path(`values-client-${k}.txt`)).writer();
    for (let i = 1; i <= this.o.num; i++) {
      const v = `client${k}-value${i}`;
      w.write(`${this.o.valueBytes === undefined ? v : v.padEnd(this.o.valueBytes, "x").slice(0, this.o.valueBytes)}\n`);
    }
    await w.end();
  }

  /** Starts the processes in phases and waits until every value is learned (or gives up). */
  private async drive(): Promise<number> {
    const o = this.o;
    const countArgs = ["--count", String(this.total)];
    const servers: Child[] = [];
    for (let i = 1; i <= o.acceptors; i++) servers.push(this.spawn("acceptor", i, [], undefined, undefined, this.firstStart(i)));
    for (let i = 1; i <= o.proposers; i++) servers.push(this.spawn("proposer", i, []));
    const onTime = o.catchup ? o.learners - 1 : o.learners;
    const learners: Child[] = [];
    for (let i = 1; i <= onTime; i++) {
      const latency = o.learnerLatency ? ["--latency-log", this.path(`latency-learner-${i}.tsv`)] : [];
      learners.push(this.spawn("learner", i, [...countArgs, ...latency], undefined, this.path(`learner-${i}.txt`)));
    }
    await this.waitUp([...servers, ...learners]);
    const clients: Child[] = [];
    for (let k = 1; k <= o.clients; k++) {
      const latency = ["--latency-log", this.path(`latency-client-${k}.tsv`)];
      clients.push(this.spawn("client", k, latency, this.path(`values-client-${k}.txt`)));
    }
    const clientsStartedMs = performance.now();
    const progress = new Progress(this.total, this.log, this.o.quiet);
    const firstWait = await this.waitDone([...clients, ...learners], progress);
    this.clientPhaseMs = performance.now() - clientsStartedMs;
    if (firstWait !== 0) return firstWait;
    if (o.catchup) {
      await Bun.sleep(o.sleepS * 1000);
      this.log(`starting learner ${o.learners} late, to catch up on ${this.total} decided values`);
      const late = this.spawn("learner", o.learners, countArgs, undefined, this.path(`learner-${o.learners}.txt`));
      learners.push(late);
      return this.waitDone([late], new Progress(this.total, this.log, this.o.quiet));
    }
    return 0;
  }

  /** Waits (at most --sleep seconds) until each process logged that it joined its group. */
  private async waitUp(children: Child[]): Promise<void> {
    const deadline = performance.now() + this.o.sleepS * 1000;
    for (const c of children) {
      while (performance.now() < deadline) {
        if ((await Bun.file(c.logFile).text()).includes(" up on ")) break;
        if (c.proc.exitCode !== null) break;
        await Bun.sleep(10);
      }
    }
  }

  /** Values learned so far: the fewest any waited-for learner has, or (no learners) decided at the clients. */
  private async learned(waitFor: Child[]): Promise<number> {
    const learners = waitFor.filter((c) => c.role === "learner");
    const counts = learners.length > 0
      ? await Promise.all(learners.map((c) => this.counter.count(this.path(`learner-${c.name.split("-")[1]}.txt`))))
      : [await this.decidedAtClients()];
    return Math.min(...counts);
  }

  private async decidedAtClients(): Promise<number> {
    let n = 0;
    for (let k = 1; k <= this.o.clients; k++) n += Math.max(0, (await this.counter.count(this.path(`latency-client-${k}.tsv`))) - 1);
    return n;
  }

  private async waitDone(waitFor: Child[], progress: Progress): Promise<number> {
    let lastCount = -1;
    let lastChangeMs = performance.now();
    for (;;) {
      const failed = waitFor.find((c) => c.proc.exitCode !== null && c.proc.exitCode !== 0);
      if (failed) return this.giveUp(`${failed.name} exited with code ${failed.proc.exitCode}${await this.failureLine(failed)}`);
      const count = await this.learned(waitFor);
      this.sampleRss();
      progress.update(count);
      await this.o.onPoll?.(count, this);
      if (waitFor.every((c) => c.proc.exitCode === 0)) {
        progress.done(count);
        return 0;
      }
      if (count !== lastCount) {
        lastCount = count;
        lastChangeMs = performance.now();
      } else if (performance.now() - lastChangeMs > this.o.timeoutS * 1000) {
        progress.done(count);
        return this.giveUp(`no progress for ${this.o.timeoutS} s at ${count} of ${this.total} values: ${await this.diagnose()}`);
      }
      await Bun.sleep(POLL_MS);
    }
  }

  /** What keeps the run from finishing, as far as the processes' states tell. */
  private async diagnose(): Promise<string> {
    const running = (role: string) => this.children.filter((c) => c.role === role && c.proc.exitCode === null && c.proc.signalCode === null).length;
    const reasons: string[] = [];
    const acc = running("acceptor");
    if (acc < majority(this.o.acceptors)) reasons.push(`no majority of acceptors (${acc} of ${this.o.acceptors} running)`);
    if (running("proposer") === 0) reasons.push("no proposer running");
    const dead = this.children.filter((c) => c.proc.exitCode !== null && c.proc.exitCode !== 0);
    // Processes that ended for one reason are named together: a bad config stops them all alike.
    const byReason = new Map<string, string[]>();
    for (const c of dead) {
      const why = `exited with code ${c.proc.exitCode}${await this.failureLine(c)}`;
      byReason.set(why, [...(byReason.get(why) ?? []), c.name]);
    }
    for (const [why, names] of byReason) reasons.push(`${names.join(", ")} ${why}`);
    if (reasons.length === 0) reasons.push(`all processes run; see the logs in ${this.o.logs}/ (loss too high, or multicast blocked on ${this.config.network.interface}?)`);
    return reasons.join("; ");
  }

  /** Why a child ended, from its log (this incarnation's part), as ": reason", or "" when it does not say. */
  private async failureLine(c: Child): Promise<string> {
    const line = existsSync(c.logFile) ? failureLineOf(await Bun.file(c.logFile).slice(c.logOffset).text()) : undefined;
    return line === undefined ? "" : `: ${line}`;
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
    this.log(`logs: ${o.logs}/ (learner-N.txt outputs, values-client-N.txt proposed, latency-client-N.tsv, *.log)`);
    return ok ? 0 : 1;
  }
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

export const demoCommand = defineCommand({
  meta: { name: "demo", description: "Run a local cluster of real processes, show progress, check the results and write a report" },
  args: demoArgs,
  async run({ args }) {
    const run = new DemoRun(parseDemoArgs(args));
    const stop = () => {
      run.stopAll();
      process.exit(EXIT.interrupted);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return run.run();
  },
});
