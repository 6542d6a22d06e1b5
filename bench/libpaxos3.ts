/**
 * LibPaxos3 (the C reference implementation of Multi-Paxos, github.com/heyker/libpaxos3) in the
 * benchmark: runs the sample acceptor, proposer and client of a build the user points at (nothing
 * of LibPaxos3 is in this repository; BENCHMARKS.md says how to build it). Same topology as the
 * `lan-*` scenarios: 3 acceptors, 1 proposer, 1 client with W values outstanding; its client is also
 * its learner (sample/client.c: it submits over TCP to the proposer and learns from the acceptors).
 *
 * Its client prints one report a second: "N value/sec, M Mbps, latency min A us max B us avg C us"
 * (N: its own values delivered to its learner in that second; the latency is submit to delivery at
 * that learner; all reset every report). The figures here: the median of the reports after the
 * warm-up ones, and each process's CPU time (utime + stime, /proc/PID/stat) from the end of the
 * warm-up report to the last report, over the values reported in between.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const SAMPLES = ["acceptor", "proposer", "client"] as const;
const ACCEPTOR_PORTS = [8800, 8801, 8802];
const PROPOSER_PORT = 5550;
/** Without a report for this long, the run failed. */
const REPORT_TIMEOUT_MS = 5000;

/** Why LibPaxos3 cannot run from `dir` (a sentence's reason), or undefined when it can. */
export function libpaxos3Missing(dir: string): string | undefined {
  if (!existsSync(dir)) return `${dir} not found`;
  for (const s of SAMPLES) {
    const p = join(dir, "sample", s);
    if (!existsSync(p)) return `${p} not found`;
  }
  // Its client printf()s its reports: into a pipe they would come in 4 KB blocks, not each second.
  if (Bun.which("stdbuf") === null) return "stdbuf (coreutils), which makes its client's reports line-buffered, is not installed";
  return undefined;
}

/** One per-second report of LibPaxos3's sample client (sample/client.c, on_stats). */
export interface ClientReport {
  /** Values of this client delivered by its learner in that second. */
  readonly values: number;
  /** Its own figure: bytes delivered (value + its 32-byte header) × 8 / 2^20. Not used for MB/s. */
  readonly mbps: number;
  /** Submit to delivery at its learner, µs: min, max and its running mean (integer arithmetic). */
  readonly minUs: number;
  readonly maxUs: number;
  readonly avgUs: number;
}

const REPORT = /^(\d+) value\/sec, ([\d.]+) Mbps, latency min (\d+) us max (\d+) us avg (-?\d+) us$/;

export function parseClientReport(line: string): ClientReport | undefined {
  const m = REPORT.exec(line.trim());
  if (m === null) return undefined;
  return { values: Number(m[1]), mbps: Number(m[2]), minUs: Number(m[3]), maxUs: Number(m[4]), avgUs: Number(m[5]) };
}

/** utime + stime in clock ticks: fields 14 and 15 of /proc/PID/stat (after the parenthesized name, which may hold spaces). */
export function cpuTicksOf(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  return Number(f[14 - 3]) + Number(f[15 - 3]);
}

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux in practice). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const n = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim());
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** The TCP ports listening in `pid`'s network namespace (its /proc/PID/net/tcp). */
function listeningPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  try {
    for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A") ports.add(Number.parseInt(f[1]!.split(":")[1]!, 16)); // 0A: LISTEN
    }
  } catch {
    // it exited: the caller's wait times out and says so
  }
  return ports;
}

async function waitListening(pid: number, ports: number[], what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!ports.every((p) => listeningPorts(pid).has(p))) {
    if (performance.now() > deadline) throw new Error(`${what} did not listen on ${ports.join(", ")} within 5 s`);
    await Bun.sleep(10);
  }
}

const peakRssMb = (pid: number): number => {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? Number.NaN : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return Number.NaN;
  }
};

export interface Libpaxos3Options {
  /** The build directory (with sample/acceptor, sample/proposer, sample/client). */
  readonly dir: string;
  readonly outstanding: number;
  readonly valueBytes: number;
  /** Reports to read in all (one a second), the warm-up ones included. */
  readonly seconds: number;
  /** Reports skipped at the start. */
  readonly warmup: number;
  /** Runs every process under this (a private network namespace: bench/netns.ts). */
  readonly prefix: readonly string[];
}

export interface Libpaxos3Run {
  /** Median of the measured reports' values/sec. */
  readonly valuesPerS: number;
  /** Median of the measured reports' mean latency, µs (its own figure: submit to delivery at its learner). */
  readonly avgLatencyUs: number;
  /** Values reported delivered, and wall time, between the end of the warm-up and the last report. */
  readonly measuredValues: number;
  readonly measuredS: number;
  /** Per process (acceptor-1..3, proposer-1, client-1): CPU seconds in the measured time, µs per value, peak RSS. */
  readonly cpuS: Record<string, number>;
  readonly cpuUsPerValue: Record<string, number>;
  readonly maxRssMb: Record<string, number>;
  /** Every report, the warm-up ones included. */
  readonly reports: ClientReport[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One run: starts the cluster, reads `seconds` reports from its client, stops it. Throws (logs kept) when it fails. */
export async function runLibpaxos3(o: Libpaxos3Options): Promise<Libpaxos3Run> {
  if (o.seconds <= o.warmup) throw new Error(`LibPaxos3 needs more than ${o.warmup} reports (seconds), got ${o.seconds}`);
  const tmp = mkdtempSync(join(os.tmpdir(), "paxos-bench-libpaxos3-"));
  const conf = join(tmp, "paxos.conf");
  await Bun.write(
    conf,
    [...ACCEPTOR_PORTS.map((port, i) => `acceptor ${i} 127.0.0.1 ${port}`), `proposer 0 127.0.0.1 ${PROPOSER_PORT}`, "verbosity error", ""].join("\n"),
  );
  const procs: { name: string; proc: Subprocess }[] = [];
  const start = (name: string, cmd: string[], stdout: "pipe" | "file") => {
    const log = Bun.file(join(tmp, `${name}.log`));
    const proc = Bun.spawn([...o.prefix, ...cmd], { cwd: tmp, stdin: "ignore", stdout: stdout === "pipe" ? "pipe" : log, stderr: log });
    procs.push({ name, proc });
    return proc;
  };
  const sample = (s: (typeof SAMPLES)[number]) => join(o.dir, "sample", s);
  let ok = false;
  try {
    const acceptors = ACCEPTOR_PORTS.map((_, i) => start(`acceptor-${i + 1}`, [sample("acceptor"), String(i), conf], "file"));
    await waitListening(acceptors[0]!.pid, ACCEPTOR_PORTS, "LibPaxos3's acceptors");
    start("proposer-1", [sample("proposer"), "0", conf], "file");
    await waitListening(acceptors[0]!.pid, [PROPOSER_PORT], "LibPaxos3's proposer");
    const client = start("client-1", ["stdbuf", "-oL", sample("client"), conf, "-o", String(o.outstanding), "-v", String(o.valueBytes)], "pipe");

    const reports: ClientReport[] = [];
    const other: string[] = [];
    const ticks = (): number[] => procs.map(({ proc }) => cpuTicksOf(readFileSync(`/proc/${proc.pid}/stat`, "utf8")));
    let from: { t: number; ticks: number[] } | undefined;
    let to: { t: number; ticks: number[] } | undefined;
    let watchdog = setTimeout(() => client.kill(), REPORT_TIMEOUT_MS);
    const decoder = new TextDecoder();
    let pending = "";
    read: for await (const chunk of client.stdout as ReadableStream<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const r = parseClientReport(line);
        if (r === undefined) {
          if (line.trim() !== "") other.push(line.trim());
          continue;
        }
        // Sampled as each report arrives: the report was printed (and its counters reset) just now.
        const now = { t: performance.now(), ticks: ticks() };
        reports.push(r);
        clearTimeout(watchdog);
        watchdog = setTimeout(() => client.kill(), REPORT_TIMEOUT_MS);
        if (reports.length === o.warmup) from = now;
        if (reports.length === o.seconds) {
          to = now;
          break read;
        }
      }
    }
    clearTimeout(watchdog);
    if (from === undefined || to === undefined) {
      throw new Error(`LibPaxos3's client stopped after ${reports.length} of ${o.seconds} reports${other.length > 0 ? ` (it said: ${other.join("; ")})` : ""}`);
    }
    const measured = reports.slice(o.warmup);
    const measuredValues = measured.reduce((a, r) => a + r.values, 0);
    if (measuredValues === 0) throw new Error(`LibPaxos3 delivered no values${other.length > 0 ? ` (its client said: ${other.join("; ")})` : ""}`);
    const cpuS: Record<string, number> = {};
    const cpuUsPerValue: Record<string, number> = {};
    const maxRssMb: Record<string, number> = {};
    let total = 0;
    for (const [k, { name, proc }] of procs.entries()) {
      const s = (to.ticks[k]! - from.ticks[k]!) / clkTck();
      cpuS[name] = Math.round(s * 100) / 100;
      cpuUsPerValue[name] = Math.round((s * 1e6 * 10) / measuredValues) / 10;
      maxRssMb[name] = peakRssMb(proc.pid);
      total += s;
    }
    cpuUsPerValue.all = Math.round((total * 1e6 * 10) / measuredValues) / 10;
    ok = true;
    return {
      valuesPerS: median(measured.map((r) => r.values)),
      avgLatencyUs: median(measured.map((r) => r.avgUs)),
      measuredValues,
      measuredS: Math.round(to.t - from.t) / 1000,
      cpuS,
      cpuUsPerValue,
      maxRssMb,
      reports,
    };
  } catch (e) {
    throw new Error(`LibPaxos3 (${o.outstanding} outstanding, ${o.valueBytes} B): ${(e as Error).message}; logs kept in ${tmp}`);
  } finally {
    for (const { proc } of procs) proc.kill();
    await Promise.all(procs.map(({ proc }) => proc.exited));
    if (ok) rmSync(tmp, { recursive: true, force: true });
  }
}
