/**
 * A cluster of real processes on this host, in one run directory (src/run-dir.ts's layout): the
 * one place that starts, adds, crashes (kill -9), restarts, pauses and resumes them, and stops
 * them all. `paxos demo` (and its live page), the benchmarks, the soak run and the cluster tests
 * all go through it. Readiness is read from each process's status file (src/runtime/status.ts):
 * it waits for states (up, leading), never for a time.
 */
import { closeSync, existsSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import type { Config } from "../config.ts";
import { RunDir } from "../run-dir.ts";
import { writeControl } from "../runtime/control.ts";
import type { RoleName } from "../runtime/role-names.ts";
import { selfCommand } from "../runtime/self.ts";
import { AcceptorLog } from "../storage/acceptor-log.ts";
import { Member, nameOf, type MemberSpec } from "./member.ts";
import { memoryOf, UsageMeter, type ChildUsage } from "./usage.ts";

export interface LocalClusterOptions {
  /** The run directory: the config, each process's log and status file, outputs (RunDir). */
  readonly dir: string;
  /** The config every process gets (written to the run directory's config.json). */
  readonly config: Config;
  /** The program that runs a role (default: this one; or the compiled binary, `bun src/main.ts`). */
  readonly command?: readonly string[];
  /** A command every process runs under (e.g. `ip netns exec NS`). */
  readonly prefix?: readonly string[];
  /** Every process logs at debug level. */
  readonly debug?: boolean;
  /** The processes' working directory (default: this process's). */
  readonly cwd?: string;
  /** Whether the program writes status files (`--status`; older builds did not). Default true; without, nothing is ever seen up. */
  readonly statusFiles?: boolean;
  /** Whether processes take a control file (live settings such as loss: setLoss). Default false. */
  readonly controlFiles?: boolean;
  /** Keep `pid name` of the running processes in the run directory's pids file (scripts/cleanup.sh). Default false. */
  readonly recordPids?: boolean;
  /** Learners log when they deliver each value (latency-learner-N.tsv). */
  readonly learnerLatency?: boolean;
  /** Pad every client value to this many bytes; default: short distinct values. */
  readonly valueBytes?: number;
}

/** What a live page sees of a started cluster, and does to it (src/ui/server.ts). */
export interface RunningCluster {
  readonly dir: RunDir;
  readonly config: Config;
  /** The newest incarnation of each process, in the order they were first started. */
  processes(): Member[];
  get(name: string): Member | undefined;
  crash(name: string): Promise<Member>;
  restart(name: string): Member;
  pause(name: string): void;
  resume(name: string): void;
  setLoss(name: string, loss: number): void;
  addLearner(): Member;
  addClient(values: number): Promise<Member>;
  replaceAcceptor(name: string): Promise<{ joined: Member; output: string }>;
}

export class LocalCluster implements RunningCluster {
  readonly dir: RunDir;
  private readonly all: Member[] = [];
  private readonly meter = new UsageMeter();
  /** Set by stop(): nothing starts any more (a restart still pending would outlive the cluster). */
  private stopped = false;

  constructor(readonly opts: LocalClusterOptions) {
    this.dir = new RunDir(opts.dir);
    writeFileSync(this.dir.config, JSON.stringify(opts.config, null, 2));
  }

  get config(): Config {
    return this.opts.config;
  }

  // Starting processes.

  /** Starts a process; by default its stderr is appended to its log in the run directory, and nothing is piped. */
  start(spec: MemberSpec): Member {
    if (this.stopped) throw new Error(`the cluster was stopped: ${nameOf(spec)} not started`);
    const name = nameOf(spec);
    const statusPath = this.dir.status(name);
    writeFileSync(statusPath, ""); // no stale status of an earlier incarnation
    const stderr = spec.stderr ?? { file: this.dir.log(name) };
    const logFile = typeof stderr === "object" ? stderr.file : undefined;
    const logOffset = logFile !== undefined && existsSync(logFile) ? statSync(logFile).size : 0;
    const member = new Member(spec, this.spawn(spec, statusPath, stderr), statusPath, logFile, logOffset);
    this.all.push(member);
    this.recordPids();
    void member.done.then(() => this.recordPids());
    return member;
  }

  private spawn(spec: MemberSpec, statusPath: string, stderr: NonNullable<MemberSpec["stderr"]>): Subprocess {
    const o = this.opts;
    const cmd = [
      ...(spec.prefix ?? o.prefix ?? []),
      ...(o.command ?? selfCommand()),
      "--role", spec.role, "--id", String(spec.id),
      "--config", spec.config ?? this.dir.config,
      ...(o.statusFiles === false ? [] : ["--status", statusPath]),
      ...(o.controlFiles === true ? ["--control", this.dir.control(nameOf(spec))] : []),
      ...(o.debug === true ? ["--debug"] : []),
      ...(spec.args ?? []),
      ...(spec.once ?? []),
    ];
    const stdin = spec.stdin ?? "ignore";
    const out = spec.stdout ?? "ignore";
    const errFd = typeof stderr === "object" ? openSync(stderr.file, "a") : undefined; // appended: a restart keeps the log
    try {
      return Bun.spawn(cmd, {
        stdin: typeof stdin === "string" ? stdin : "file" in stdin ? Bun.file(stdin.file) : new Blob([stdin.text]),
        stdout: typeof out === "string" ? out : Bun.file(out.file),
        stderr: errFd ?? (stderr as "pipe" | "ignore"),
        ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      });
    } finally {
      if (errFd !== undefined) closeSync(errFd);
    }
  }

  /** Acceptor `id`; a durable one without a log yet starts with --init (its restarts must not: see AcceptorLog.open). */
  startAcceptor(id: number): Member {
    const dir = this.config.acceptor.storage;
    const first = dir !== null && !existsSync(resolve(this.opts.cwd ?? ".", AcceptorLog.pathOf(dir, id))) ? ["--init"] : [];
    return this.start({ role: "acceptor", id, once: first });
  }

  startProposer(id: number): Member {
    return this.start({ role: "proposer", id });
  }

  /** Learner `id`, delivering to the run directory's learner-N.txt; with `count`, it exits 0 after that many values. */
  startLearner(id: number, count?: number): Member {
    const args = [
      ...(count !== undefined ? ["--count", String(count)] : []),
      ...(this.opts.learnerLatency ? ["--latency-log", this.dir.learnerLatency(id)] : []),
    ];
    return this.start({ role: "learner", id, args, stdout: { file: this.dir.learned(id) } });
  }

  /** Client `id`, submitting its values file (writeValues first) and logging latencies. */
  startClient(id: number): Member {
    return this.start({ role: "client", id, args: ["--latency-log", this.dir.clientLatency(id)], stdin: { file: this.dir.proposed(id) } });
  }

  /** Client `id`'s values file: `count` distinct lines, padded to valueBytes when asked. */
  async writeValues(id: number, count: number): Promise<void> {
    const w = Bun.file(this.dir.proposed(id)).writer();
    const bytes = this.opts.valueBytes;
    for (let i = 1; i <= count; i++) {
      const v = `client${id}-value${i}`;
      w.write(`${bytes === undefined ? v : v.padEnd(bytes, "x").slice(0, bytes)}\n`);
    }
    await w.end();
  }

  /** One more learner, after the others: it catches up on what was decided. */
  addLearner(): Member {
    return this.startLearner(this.nextId("learner"));
  }

  /** One more client, with `values` values of its own. */
  async addClient(values: number): Promise<Member> {
    const id = this.nextId("client");
    await this.writeValues(id, values);
    return this.startClient(id);
  }

  private nextId(role: RoleName): number {
    return Math.max(0, ...this.processes().filter((m) => m.role === role).map((m) => m.id)) + 1;
  }

  // The processes.

  /** Every incarnation started, in order (restarted processes appear once per incarnation). */
  get members(): readonly Member[] {
    return this.all;
  }

  processes(): Member[] {
    const byName = new Map<string, Member>();
    for (const m of this.all) byName.set(m.name, m);
    return [...byName.values()];
  }

  /** Processes running now, of one role or all. */
  live(role?: RoleName): Member[] {
    return this.processes().filter((m) => m.alive && (role === undefined || m.role === role));
  }

  get(name: string): Member | undefined {
    return this.processes().find((m) => m.name === name);
  }

  private running(name: string): Member {
    const m = this.get(name);
    if (m === undefined) throw new Error(`no process ${name}`);
    if (!m.alive) throw new Error(`${name} is not running`);
    return m;
  }

  // Faults.

  /** Kills a process with SIGKILL (a crash) and waits until it is gone. */
  async crash(name: string): Promise<Member> {
    const m = this.running(name);
    m.kill("SIGKILL");
    await m.proc.exited;
    return m;
  }

  /**
   * Starts a process again, with its arguments but not its first-start ones, after a crash or an
   * exit. A stdout file starts over: a restarted learner delivers the sequence again from its start.
   */
  restart(name: string): Member {
    const old = this.get(name);
    if (old === undefined) throw new Error(`no process ${name}`);
    if (old.alive) throw new Error(`${name} is running`);
    const { once: _, ...spec } = old.spec;
    if (typeof spec.stdout === "object") writeFileSync(spec.stdout.file, "");
    return this.start(spec);
  }

  /** Kills a running process with SIGKILL and, after `downMs`, starts it again (nothing when it is not running, or once the cluster stopped). */
  async crashRestart(name: string, downMs: number): Promise<void> {
    if (this.get(name)?.alive !== true) return;
    await this.crash(name);
    await Bun.sleep(downMs);
    if (!this.stopped) this.restart(name);
  }

  /**
   * The acceptor set in force: the latest configuration a process of this cluster reports in its
   * status (`paxos reconfigure` changes it), else the config's acceptors 1..N.
   */
  acceptorSet(): number[] {
    let best = { epoch: 0, acceptors: Array.from({ length: this.config.acceptors }, (_, i) => i + 1) as readonly number[] };
    for (const m of this.all) {
      const c = m.status()?.configuration;
      if (c !== undefined && c.epoch > best.epoch) best = c;
    }
    return [...best.acceptors];
  }

  /**
   * OPERATIONS.md's "Replacing a failed acceptor": kill -9 acceptor `name` if it runs, start a new
   * id with --join, and `paxos reconfigure` to the set with the new id in the old one's place.
   * Resolves once the change is decided, with what `paxos reconfigure` printed; rejects with its
   * sentence when it refuses.
   */
  async replaceAcceptor(name: string, timeoutS = 30): Promise<{ joined: Member; output: string }> {
    const old = this.get(name);
    if (old === undefined || old.role !== "acceptor") throw new Error(`no acceptor ${name}`);
    const members = this.acceptorSet();
    if (!members.includes(old.id)) throw new Error(`${name} is not in the acceptor set in force (${members.join(",")})`);
    if (old.alive) await this.crash(name);
    const joined = this.start({ role: "acceptor", id: this.nextId("acceptor"), args: ["--join"] });
    const ids = [...members.filter((id) => id !== old.id), joined.id].sort((a, b) => a - b);
    const o = this.opts;
    const p = Bun.spawn([...(o.prefix ?? []), ...(o.command ?? selfCommand()), "reconfigure", "--acceptors", ids.join(","), "--config", this.dir.config, "--timeout", String(timeoutS)], {
      stdout: "pipe",
      stderr: "pipe",
      ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    if (code !== 0) throw new Error(`paxos reconfigure --acceptors ${ids.join(",")} (exit ${code}): ${err.trim().split("\n").at(-1) ?? ""}`);
    return { joined, output: out.trim() };
  }

  /** SIGSTOP: the process stays, silent, until resumed. */
  pause(name: string): void {
    this.running(name).kill("SIGSTOP");
  }

  /** SIGCONT. */
  resume(name: string): void {
    this.running(name).kill("SIGCONT");
  }

  /** The datagram loss a process injects from now on (with controlFiles: runtime/control.ts). */
  setLoss(name: string, loss: number): void {
    if (this.get(name) === undefined) throw new Error(`no process ${name}`);
    writeControl(this.dir.control(name), { loss });
  }

  // Readiness: states, read from the status files.

  /** Waits until every one of `members` is up or has exited, for at most `timeoutMs`; returns those not up. */
  async waitUp(members: readonly Member[], timeoutMs: number): Promise<Member[]> {
    const deadline = performance.now() + timeoutMs;
    let pending = [...members];
    while (pending.length > 0 && performance.now() < deadline) {
      pending = pending.filter((m) => m.alive && !m.up);
      if (pending.length > 0) await Bun.sleep(10);
    }
    return members.filter((m) => !m.up);
  }

  /** The running proposer whose status says it leads (the highest round, if two still think so). */
  leader(): Member | undefined {
    let best: { m: Member; round: number } | undefined;
    for (const m of this.live("proposer")) {
      const p = m.status()?.proposer;
      if (p?.leader && (best === undefined || p.round > best.round)) best = { m, round: p.round };
    }
    return best?.m;
  }

  /** Waits until some running proposer leads, and returns it; throws after `timeoutMs`. */
  async waitLeader(timeoutMs: number): Promise<Member> {
    await waitFor(() => this.leader() !== undefined, timeoutMs, "a leading proposer");
    return this.leader()!;
  }

  // What the processes cost.

  /** Notes each running process's peak memory so far (sample while they run: it is gone once they exit). */
  sampleMemory(): void {
    this.meter.sample(this.all);
  }

  /** Each process's CPU time (all its incarnations) and the peak memory sampled. */
  usage(): ChildUsage[] {
    return this.meter.usage(this.all);
  }

  /** Resident memory now (Linux VmRSS) of each running process, by name. */
  currentRss(): Map<string, number> {
    const rss = new Map<string, number>();
    for (const m of this.live()) {
      const bytes = memoryOf(m.pid, "VmRSS");
      if (bytes !== undefined) rss.set(m.name, bytes);
    }
    return rss;
  }

  // Stopping.

  /** Stops every running process (SIGCONT first: a paused one cannot act on SIGTERM), SIGKILL after `killAfterMs`; waits for them. */
  async stop(signal: NodeJS.Signals = "SIGTERM", killAfterMs = 5000): Promise<void> {
    this.stopped = true;
    this.killAll(signal);
    const timer = setTimeout(() => {
      for (const m of this.all) m.kill("SIGKILL");
    }, killAfterMs);
    await Promise.all(this.all.map((m) => m.done));
    clearTimeout(timer);
    if (this.opts.recordPids === true) rmSync(this.dir.pids, { force: true }); // nothing left to clean up
  }

  /** Signals every running process at once without waiting (a command on its way out). */
  killAll(signal: NodeJS.Signals = "SIGTERM"): void {
    for (const m of this.all) {
      m.kill("SIGCONT");
      m.kill(signal);
    }
  }

  private recordPids(): void {
    if (this.opts.recordPids !== true) return;
    const live = this.all.filter((m) => m.alive);
    try {
      writeFileSync(this.dir.pids, live.map((m) => `${m.pid} ${m.name}\n`).join(""));
    } catch {
      // the run directory went away: nothing to clean up by it then
    }
  }
}

/** Waits until `cond` holds, polling every `everyMs`; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
