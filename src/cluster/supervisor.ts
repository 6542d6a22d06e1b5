/**
 * Starts, watches and stops the local processes of a cluster: `paxos demo`, the benchmarks, the
 * soak run and the cluster tests all go through here. Each process writes its state to a status
 * file (src/runtime/status.ts), so readiness, leadership and progress are read from there, never
 * from its log.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { RoleName } from "../runtime/role-names.ts";
import { readStatus, type ProcessStatus } from "../runtime/status.ts";

export interface SupervisorOptions {
  /** The program that runs a role (this binary, or `bun src/main.ts`). */
  readonly command: readonly string[];
  /** Where status files and (by default) logs go. */
  readonly dir: string;
  /** The config every member gets unless its spec names another. */
  readonly configPath: string;
  /** A command every member runs under (e.g. `ip netns exec NS`). */
  readonly prefix?: readonly string[];
  /** Arguments every member gets (e.g. --debug). */
  readonly args?: readonly string[];
  /** Keep `pid name` lines of the running members in this file (scripts/cleanup.sh reads it). */
  readonly pidsFile?: string;
  /** The members' working directory (default: this process's). */
  readonly cwd?: string;
  /** Whether the program writes status files (`--status`; default true). Without, members are never seen "up". */
  readonly statusFiles?: boolean;
  /** Whether members take `--control <dir>/<name>.control.json` (runtime/control.ts: live settings such as loss; default false). */
  readonly controlFiles?: boolean;
}

/** Where a member's standard stream goes: a file path (appended for stderr), a pipe kept in memory, or nowhere. */
export type Sink = { readonly file: string } | "pipe" | "ignore";
export type Source = { readonly file: string } | { readonly text: string } | "pipe" | "ignore";

export interface MemberSpec {
  readonly role: RoleName;
  readonly id: number;
  /** Its name (files: NAME.log, NAME.status.json); default `<role>-<id>`. */
  readonly name?: string;
  /** Arguments kept across restarts. */
  readonly args?: readonly string[];
  /** Arguments for the first start only (an acceptor's --init). */
  readonly once?: readonly string[];
  readonly config?: string;
  readonly prefix?: readonly string[];
  readonly stdin?: Source;
  readonly stdout?: Sink;
  /** Default: `<dir>/<role>-<id>.log`, appended (a restarted member keeps its predecessor's log). */
  readonly stderr?: Sink;
}

/** One incarnation of a member process. */
export class Member {
  readonly name: string;
  readonly statusPath: string;
  /** Its exit code, once all piped output is read. */
  readonly done: Promise<number>;
  private out = "";
  private err = "";

  constructor(
    readonly spec: MemberSpec,
    readonly proc: Subprocess,
    statusPath: string,
    /** The log file and where this incarnation's part of it starts, when stderr goes to a file. */
    readonly logFile: string | undefined,
    readonly logOffset: number,
  ) {
    this.name = spec.name ?? `${spec.role}-${spec.id}`;
    this.statusPath = statusPath;
    const collect = async (s: unknown, into: "out" | "err") => {
      if (!(s instanceof ReadableStream)) return;
      const dec = new TextDecoder();
      for await (const chunk of s as ReadableStream<Uint8Array>) this[into] += dec.decode(chunk, { stream: true });
    };
    const streams = Promise.all([collect(proc.stdout, "out"), collect(proc.stderr, "err")]);
    this.done = proc.exited.then(async (code) => {
      await streams;
      return code;
    });
  }

  get role(): RoleName {
    return this.spec.role;
  }

  get id(): number {
    return this.spec.id;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  /** Piped stdout so far. */
  get stdout(): string {
    return this.out;
  }

  /** Piped stderr so far (or this incarnation's part of its log file). */
  get stderr(): string {
    if (this.logFile === undefined) return this.err;
    try {
      return readFileSync(this.logFile, "utf8").slice(this.logOffset);
    } catch {
      return "";
    }
  }

  /** Complete lines of piped stdout. */
  lines(): string[] {
    const lines = this.out.split("\n");
    lines.pop(); // the text after the last newline is not a complete line yet
    return lines;
  }

  /** Its last status, or undefined before it wrote one. */
  status(): ProcessStatus | undefined {
    try {
      return readStatus(readFileSync(this.statusPath, "utf8"));
    } catch {
      return undefined;
    }
  }

  /** Up: it joined its group and works (its status says so and it still runs). */
  get up(): boolean {
    return this.alive && this.status()?.state === "up";
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    if (this.alive) this.proc.kill(signal);
  }
}

export class Supervisor {
  private readonly all: Member[] = [];

  constructor(readonly opts: SupervisorOptions) {}

  /** Every incarnation started, in order (restarted members appear once per incarnation). */
  get members(): readonly Member[] {
    return this.all;
  }

  /** The newest incarnation of each member, by name. */
  current(): Member[] {
    const byName = new Map<string, Member>();
    for (const m of this.all) byName.set(m.name, m);
    return [...byName.values()];
  }

  /** Members running now, of one role or all. */
  live(role?: RoleName): Member[] {
    return this.current().filter((m) => m.alive && (role === undefined || m.role === role));
  }

  get(name: string): Member | undefined {
    return this.current().find((m) => m.name === name);
  }

  start(spec: MemberSpec): Member {
    const name = spec.name ?? `${spec.role}-${spec.id}`;
    const statusPath = join(this.opts.dir, `${name}.status.json`);
    writeFileSync(statusPath, ""); // no stale status of an earlier incarnation
    const stderr = spec.stderr ?? { file: join(this.opts.dir, `${name}.log`) };
    const logFile = typeof stderr === "object" ? stderr.file : undefined;
    const logOffset = logFile !== undefined && existsSync(logFile) ? statSync(logFile).size : 0;
    const cmd = [
      ...(spec.prefix ?? this.opts.prefix ?? []),
      ...this.opts.command,
      "--role", spec.role, "--id", String(spec.id),
      "--config", spec.config ?? this.opts.configPath,
      ...(this.opts.statusFiles === false ? [] : ["--status", statusPath]),
      ...(this.opts.controlFiles === true ? ["--control", this.controlPath(name)] : []),
      ...(this.opts.args ?? []),
      ...(spec.args ?? []),
      ...(spec.once ?? []),
    ];
    const stdin = spec.stdin ?? "ignore";
    const errFd = logFile !== undefined ? openSync(logFile, "a") : undefined; // appended: a restart keeps the log
    const out = spec.stdout ?? "ignore";
    let proc: Subprocess;
    try {
      proc = Bun.spawn(cmd, {
        stdin: typeof stdin === "string" ? stdin : "file" in stdin ? Bun.file(stdin.file) : new Blob([stdin.text]),
        stdout: typeof out === "string" ? out : Bun.file(out.file),
        stderr: errFd ?? (stderr as "pipe" | "ignore"),
        ...(this.opts.cwd !== undefined ? { cwd: this.opts.cwd } : {}),
      });
    } finally {
      if (errFd !== undefined) closeSync(errFd);
    }
    const member = new Member(spec, proc, statusPath, logFile, logOffset);
    this.all.push(member);
    this.recordPids();
    void member.done.then(() => this.recordPids());
    return member;
  }

  /** Where a member finds its live settings, with `controlFiles` (write it with runtime/control.ts's writeControl). */
  controlPath(name: string): string {
    return join(this.opts.dir, `${name}.control.json`);
  }

  /** Kills a member with SIGKILL (a crash) and waits until it is gone. */
  async crash(name: string): Promise<Member | undefined> {
    const m = this.get(name);
    if (m === undefined || !m.alive) return m;
    m.kill("SIGKILL");
    await m.proc.exited;
    return m;
  }

  /** Starts a member again, with its arguments but not its first-start ones, after a crash or an exit. */
  restart(name: string): Member {
    const old = this.get(name);
    if (old === undefined) throw new Error(`no member ${name}`);
    if (old.alive) throw new Error(`${name} is still running`);
    const { once: _, ...spec } = old.spec;
    return this.start(spec);
  }

  /** SIGSTOP / SIGCONT. */
  pause(name: string, paused: boolean): void {
    this.get(name)?.kill(paused ? "SIGSTOP" : "SIGCONT");
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

  /** Stops every running member (SIGCONT first: a paused process cannot act on SIGTERM), SIGKILL after `killAfterMs`. */
  async stopAll(signal: NodeJS.Signals = "SIGTERM", killAfterMs = 5000): Promise<void> {
    for (const m of this.all) {
      if (!m.alive) continue;
      m.kill("SIGCONT");
      m.kill(signal);
    }
    const timer = setTimeout(() => {
      for (const m of this.all) m.kill("SIGKILL");
    }, killAfterMs);
    await Promise.all(this.all.map((m) => m.done));
    clearTimeout(timer);
  }

  /** Stops everything at once without waiting (an interrupted supervisor on its way out). */
  killAll(signal: NodeJS.Signals = "SIGTERM"): void {
    for (const m of this.all) {
      m.kill("SIGCONT");
      m.kill(signal);
    }
  }

  private recordPids(): void {
    if (this.opts.pidsFile === undefined) return;
    const live = this.all.filter((m) => m.alive);
    try {
      writeFileSync(this.opts.pidsFile, live.map((m) => `${m.pid} ${m.name}\n`).join(""));
    } catch {
      // the run directory went away: nothing to clean up by it then
    }
  }
}

/** Peak (VmHWM) or current (VmRSS) resident memory of a process in bytes (Linux), undefined elsewhere or once it exited. */
export function memoryOf(pid: number, which: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const kb = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]; // Bun.file reads /proc as empty
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
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
