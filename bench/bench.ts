/**
 * `bun run bench [-- --scenario NAME] [--runs N] [--values N] [--libpaxos3 DIR]`
 * Runs benchmark scenarios against the compiled binary (real processes, loopback multicast),
 * each several times, prints a table (medians) and writes the results as JSON under
 * bench/results/ with the machine, date and commit. With --libpaxos3, LibPaxos3's samples
 * (bench/libpaxos3.ts) run the `lan-*` loads too, and every run gets a private network namespace.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "bun";
import { DemoRun, type DemoOptions, type DemoResult } from "../src/cluster/demo-run.ts";
import { readLatencyLogs, latencyLogFiles } from "../src/report/files.ts";
import { summarize } from "../src/report/latency.ts";
import { RunDir } from "../src/run-dir.ts";
import { clientNumberOf, parseDeliveryLog, parseLatencyLog } from "../src/report/latency-log.ts";
import { libpaxos3Missing, runLibpaxos3, type ClientReport } from "./libpaxos3.ts";
import { netnsUnavailable, privateNetns } from "./netns.ts";

const ROOT = join(import.meta.dir, "..");
/** The binary under test: this tree's build, or another one (PAXOS_BIN=path); `--baseline BIN` runs a second one alongside. */
const BINARY = process.env.PAXOS_BIN ?? join(ROOT, "dist/paxos");

/** Loopback-tuned settings: one datagram holds up to 64 KB of values. */
const LOOPBACK_CONFIG = `network: { datagramBytesMax: 65000 }
batch: { valuesMax: 100000, bytesMax: 64000 }
client: { outstanding: 50000 }
proposer: { pipelineWindow: 32 }
`;

interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly values: number;
  readonly valueBytes: number;
  readonly clients: number;
  readonly proposers: number;
  readonly learners: number;
  readonly loss?: number;
  /** A `lan-*` load (default config, 1 client with this many values outstanding): LibPaxos3 runs it too. */
  readonly lanOutstanding?: number;
  /** The config file's text; `dir` is the run's scratch directory. */
  readonly config: string | ((dir: string) => string);
}

/** The deployed (LAN-safe) configuration: defaults, 1400-byte datagrams; only the client's window varies. */
const lan = (outstanding: number, values: number, valueBytes = 64): Scenario => ({
  name: valueBytes === 64 ? `lan-w${outstanding}` : `lan-${valueBytes}b-w${outstanding}`,
  what: `${valueBytes} B values, ${outstanding} outstanding, default config (1400-byte datagrams); 1 client, 1 proposer, 3 acceptors, 1 learner`,
  values,
  valueBytes,
  clients: 1,
  proposers: 1,
  learners: 1,
  lanOutstanding: outstanding,
  config: `client: { outstanding: ${outstanding} }\n`,
});

const SCENARIOS: Scenario[] = [
  lan(1, 5000),
  lan(10, 30_000),
  lan(100, 100_000),
  lan(1000, 300_000),
  lan(100, 50_000, 1024),
  {
    name: "lan-w100-c10",
    what: "64 B values, 10 clients × 100 outstanding, default config; 1 proposer, 3 acceptors, 1 learner (values/s of all clients)",
    values: 300_000,
    valueBytes: 64,
    clients: 10,
    proposers: 1,
    learners: 1,
    config: "client: { outstanding: 100 }\n",
  },
  {
    name: "lan-w100-l2",
    what: "64 B values, 100 outstanding, default config; 1 client, 1 proposer, 3 acceptors, 2 learners (until both delivered all)",
    values: 100_000,
    valueBytes: 64,
    clients: 1,
    proposers: 1,
    learners: 2,
    config: "client: { outstanding: 100 }\n",
  },
  { name: "throughput-64", what: "64 B values, 1 client, 1 proposer, 3 acceptors, 1 learner", values: 1_000_000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, config: LOOPBACK_CONFIG },
  { name: "throughput-1k", what: "1 KB values, same topology", values: 200_000, valueBytes: 1024, clients: 1, proposers: 1, learners: 1, config: LOOPBACK_CONFIG },
  { name: "latency-1", what: "64 B values, 1 outstanding, default (LAN-safe) config", values: 5000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, config: "client: { outstanding: 1 }\n" },
  { name: "demo-cluster", what: "64 B values, 2 clients, 2 proposers, 3 acceptors, 2 learners", values: 500_000, valueBytes: 64, clients: 2, proposers: 2, learners: 2, config: LOOPBACK_CONFIG },
  { name: "durable", what: "throughput-64 with durable acceptors (fsync'd log, group commit)", values: 1_000_000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, config: (dir) => `${LOOPBACK_CONFIG}acceptor: { storage: ${JSON.stringify(new RunDir(dir).storage)} }\n` },
  { name: "auth", what: "throughput-64 with authenticated datagrams (HMAC-SHA256)", values: 1_000_000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, config: `${LOOPBACK_CONFIG}auth: { key: "bench-key-0123456789abcdef" }\n` },
  { name: "loss-10", what: "throughput-64 with 10% loss injected at every process", values: 300_000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, loss: 0.1, config: LOOPBACK_CONFIG },
  { name: "tiny", what: "smoke test: 2,000 values", values: 2000, valueBytes: 64, clients: 1, proposers: 1, learners: 1, config: LOOPBACK_CONFIG },
];

interface RunFigures {
  valuesPerS: number;
  mbPerS: number;
  /** Submit until the client saw the value acked. */
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  /** Submit until learner 1 delivered the value (null: the binary cannot log deliveries; LibPaxos3 gives only a mean). */
  deliveryMs: { mean: number | null; p50: number | null; p99: number | null };
  cpuS: Record<string, number>;
  /** CPU microseconds per value, per process and in all. */
  cpuUsPerValue: Record<string, number>;
  maxRssMb: Record<string, number>;
  /** LibPaxos3 runs: its client's per-second reports and what the CPU figures were measured over. */
  libpaxos3?: { reports: ClientReport[]; measuredValues: number; measuredS: number };
}

/**
 * Submit-to-delivery latencies at learner 1: its delivery log joined with the clients' logs on
 * (client number, seq); each client log names its client number (format: src/report/latency-log.ts).
 */
async function deliveryLatencies(dir: string): Promise<number[]> {
  const submitted = new Map<string, number>();
  for (const f of latencyLogFiles(dir)) {
    const text = await Bun.file(f.path).text();
    const wire = clientNumberOf(text);
    if (wire === undefined) return [];
    for (const sample of parseLatencyLog(text, f.client, f.path)) submitted.set(`${wire}:${sample.seq}`, sample.submitUnixMs);
  }
  const out: number[] = [];
  const path = new RunDir(dir).learnerLatency(1);
  const log = Bun.file(path);
  if (!(await log.exists())) return out;
  for (const d of parseDeliveryLog(await log.text(), path)) {
    const submit = submitted.get(`${d.client}:${d.seq}`);
    if (submit !== undefined) out.push(d.deliveredUnixMs - submit);
  }
  return out.sort((a, b) => a - b);
}

/** What a paxos binary can do that older builds could not (they refuse the options). */
interface Capabilities {
  /** Learners log deliveries (--latency-log for learners). */
  readonly deliveries: boolean;
  /** Processes write status files (--status). */
  readonly statusFiles: boolean;
}

async function capabilitiesOf(binary: string): Promise<Capabilities> {
  // Words, not lines: help wraps its descriptions (since 0.3), older builds did not.
  const help = (await $`${binary} --help`.nothrow().quiet()).stdout.toString().replace(/\s+/g, " ");
  return { deliveries: help.includes("learner: when each value"), statusFiles: help.includes("--status") };
}

const rank = (sorted: number[], p: number): number | null => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);

/** `prefix` runs each process under a command (a private network namespace's nsenter), or is empty. */
async function runOnce(s: Scenario, valuesOverride: number | undefined, binary: string, can: Capabilities, prefix: readonly string[]): Promise<RunFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), `paxos-bench-${s.name}-`));
  await Bun.write(join(dir, "bench.yaml"), typeof s.config === "string" ? s.config : s.config(dir));
  const perClient = Math.ceil((valuesOverride ?? s.values) / s.clients);
  const o: DemoOptions = {
    logs: dir,
    topology: { num: perClient, clients: s.clients, proposers: s.proposers, acceptors: 3, learners: s.learners },
    settings: { config: join(dir, "bench.yaml"), loss: s.loss ?? 0 },
    launch: { command: [...prefix, binary], valueBytes: s.valueBytes, learnerLatency: can.deliveries, statusFiles: can.statusFiles },
    catchup: false,
    sleepS: 5,
    timeoutS: 60,
    check: false,
    report: false,
    quiet: true,
  };
  const run = new DemoRun(o);
  const code = await run.run();
  if (code !== 0) throw new Error(`scenario ${s.name} failed (exit ${code}); logs kept in ${dir}`);
  const r = run.result();
  const summary = summarize(await readLatencyLogs(latencyLogFiles(dir)));
  const delivery = await deliveryLatencies(dir);
  rmSync(dir, { recursive: true, force: true });
  return figures(r, s, summary, delivery);
}

function figures(r: DemoResult, s: Scenario, summary: ReturnType<typeof summarize>, delivery: number[]): RunFigures {
  const valuesPerS = r.total / r.clientPhaseS;
  const cpuS: Record<string, number> = {};
  const cpuUsPerValue: Record<string, number> = {};
  const maxRssMb: Record<string, number> = {};
  let cpuTotalS = 0;
  for (const u of r.usage) {
    cpuS[u.name] = round(u.cpuS, 2);
    cpuUsPerValue[u.name] = round((u.cpuS * 1e6) / r.total, 1);
    maxRssMb[u.name] = round(u.maxRssBytes / 2 ** 20, 1);
    cpuTotalS += u.cpuS;
  }
  cpuUsPerValue.all = round((cpuTotalS * 1e6) / r.total, 1);
  return {
    valuesPerS: Math.round(valuesPerS),
    mbPerS: round((valuesPerS * s.valueBytes) / 1e6, 1),
    latencyMs: { p50: summary.latencyMsP50, p90: summary.latencyMsP90, p99: summary.latencyMsP99, max: summary.latencyMsMax },
    deliveryMs: { mean: delivery.length === 0 ? null : round(delivery.reduce((a, x) => a + x, 0) / delivery.length, 3), p50: rank(delivery, 50), p99: rank(delivery, 99) },
    cpuS,
    cpuUsPerValue,
    maxRssMb,
  };
}

/** Reports of LibPaxos3's client skipped as warm-up (libpaxos3-run.sh's `tail -n +3`). */
const LIBPAXOS3_WARMUP = 2;

/** One LibPaxos3 run of a `lan-*` load, as figures like ours: latency is its client's own mean, submit to delivery. */
async function runLibpaxos3Once(s: Scenario, dir: string, seconds: number, prefix: readonly string[]): Promise<RunFigures> {
  const r = await runLibpaxos3({ dir, outstanding: s.lanOutstanding!, valueBytes: s.valueBytes, seconds, warmup: LIBPAXOS3_WARMUP, prefix });
  return {
    valuesPerS: Math.round(r.valuesPerS), // a median of an even number of reports may end in .5
    mbPerS: round((r.valuesPerS * s.valueBytes) / 1e6, 1),
    latencyMs: { p50: null, p90: null, p99: null, max: null },
    deliveryMs: { mean: r.avgLatencyUs / 1000, p50: null, p99: null },
    cpuS: r.cpuS,
    cpuUsPerValue: r.cpuUsPerValue,
    maxRssMb: r.maxRssMb,
    libpaxos3: { reports: r.reports, measuredValues: r.measuredValues, measuredS: r.measuredS },
  };
}

/** Runs `f` with a fresh private network namespace's command prefix when `netns`, else with none. */
async function maybeInNetns<T>(netns: boolean, f: (prefix: readonly string[]) => Promise<T>): Promise<T> {
  if (!netns) return f([]);
  const ns = await privateNetns();
  try {
    return await f(ns.prefix);
  } finally {
    await ns.close();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const roundOrNull = (x: number | null, digits: number) => (x === null ? null : round(x, digits));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const medianOf = (runs: RunFigures[], f: (r: RunFigures) => number | null): number | null => {
  const xs = runs.map(f).filter((x): x is number => x !== null);
  return xs.length === 0 ? null : median(xs);
};

/**
 * `vs`: LibPaxos3's runs of the same load, run for run: the row gets the median of its values/s
 * over LibPaxos3's in the same run i.
 */
function summaryRow(name: string, system: "paxos" | "LibPaxos3", runs: RunFigures[], vs?: RunFigures[]) {
  const procs = Object.keys(runs[0]!.cpuS);
  const perProc = (pick: (r: RunFigures) => Record<string, number>) =>
    Object.fromEntries(procs.map((p) => [p, medianOf(runs, (r) => pick(r)[p] ?? null)]));
  return {
    scenario: name,
    system,
    runs: runs.length,
    valuesPerS: medianOf(runs, (r) => r.valuesPerS),
    mbPerS: medianOf(runs, (r) => r.mbPerS),
    latencyMsP50: medianOf(runs, (r) => r.latencyMs.p50),
    latencyMsP90: medianOf(runs, (r) => r.latencyMs.p90),
    latencyMsP99: medianOf(runs, (r) => r.latencyMs.p99),
    latencyMsMax: medianOf(runs, (r) => r.latencyMs.max),
    deliveryMsMean: roundOrNull(medianOf(runs, (r) => r.deliveryMs.mean), 3),
    deliveryMsP50: medianOf(runs, (r) => r.deliveryMs.p50),
    deliveryMsP99: medianOf(runs, (r) => r.deliveryMs.p99),
    valuesPerSRange: [Math.min(...runs.map((r) => r.valuesPerS)), Math.max(...runs.map((r) => r.valuesPerS))],
    vsLibpaxos3: vs === undefined || vs.length !== runs.length ? null : round(median(runs.map((r, i) => r.valuesPerS / vs[i]!.valuesPerS)), 3),
    cpuS: perProc((r) => r.cpuS),
    cpuUsPerValue: Object.fromEntries([...procs, "all"].map((p) => [p, medianOf(runs, (r) => r.cpuUsPerValue[p] ?? null)])),
    maxRssMb: perProc((r) => r.maxRssMb),
    all: runs,
  };
}

const fmt = (x: number | null, digits = 0) => (x === null ? "-" : x.toFixed(digits));

/** Prints rows of cells in aligned columns: the first left-aligned, the others right-aligned. */
function printColumns(lines: string[][]): void {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
}

/** acceptor-1.., proposer-1.., learner-1.., client-1..: the roles in the order the data flows, then by number. */
const ROLE_ORDER = ["acceptor", "proposer", "learner", "client"];
const processOrder = (a: string, b: string): number => {
  const key = (p: string) => [ROLE_ORDER.indexOf(p.replace(/-\d+$/, "")), Number(/\d+$/.exec(p)?.[0] ?? 0)] as const;
  const [ra, na] = key(a);
  const [rb, nb] = key(b);
  return ra - rb || na - nb;
};

function printTable(rows: ReturnType<typeof summaryRow>[]): void {
  const vs = rows.some((r) => r.system === "LibPaxos3");
  const head = ["scenario", "values/s", "(range)", "MB/s", "ack p50 ms", "p90 ms", "p99 ms", "max ms", "deliver mean ms", "p50 ms", "p99 ms", "CPU µs/value", ...(vs ? ["vs LibPaxos3"] : [])];
  printColumns([
    head,
    ...rows.map((r) => [
      r.scenario,
      fmt(r.valuesPerS),
      `${r.valuesPerSRange[0]}–${r.valuesPerSRange[1]}`,
      fmt(r.mbPerS, 1),
      fmt(r.latencyMsP50, 3),
      fmt(r.latencyMsP90, 3),
      fmt(r.latencyMsP99, 3),
      fmt(r.latencyMsMax, 3),
      fmt(r.deliveryMsMean, 3),
      fmt(r.deliveryMsP50, 3),
      fmt(r.deliveryMsP99, 3),
      fmt(r.cpuUsPerValue.all ?? null, 1),
      ...(vs ? [r.vsLibpaxos3 === null ? "-" : `${r.vsLibpaxos3.toFixed(2)}×`] : []),
    ]),
  ]);
  const procs = [...new Set(rows.flatMap((r) => Object.keys(r.cpuS)))].sort(processOrder);
  console.log("\nCPU µs per value per process (medians):");
  printColumns([["scenario", ...procs, "all"], ...rows.map((r) => [r.scenario, ...[...procs, "all"].map((p) => fmt(r.cpuUsPerValue[p] ?? null, 1))])]);
  console.log("\nCPU seconds / peak RSS MB per process (medians):");
  for (const r of rows) {
    const procs = Object.keys(r.cpuS);
    console.log(`  ${r.scenario}: ${procs.map((p) => `${p} ${fmt(r.cpuS[p] ?? null, 2)}s ${fmt(r.maxRssMb[p] ?? null, 0)}MB`).join("  ")}`);
  }
  if (vs) {
    console.log(
      `\nLibPaxos3 rows: values/s is the median of its client's per-second reports after the first ${LIBPAXOS3_WARMUP} (ours: end to end over all\n` +
        "values); MB/s is values/s × value size, as ours; deliver mean is its client's own mean of submit-to-delivery at its learner (the\n" +
        "median of its per-second means); its client-1 is also its learner (there is no learner-1); its CPU is over the measured seconds\n" +
        "(ours: over each process's life). vs LibPaxos3: the median over runs of the row's values/s ÷ LibPaxos3's in the same run.",
    );
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    // `--scenario A B C`, as BENCHMARKS.md's commands write it: the names after the first are positionals.
    allowPositionals: true,
    options: {
      scenario: { type: "string", multiple: true },
      runs: { type: "string", default: "3" },
      values: { type: "string" },
      out: { type: "string" },
      baseline: { type: "string", multiple: true },
      libpaxos3: { type: "string" },
      "libpaxos3-seconds": { type: "string", default: "10" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: bun run bench [-- --scenario NAME ...] [--runs N] [--values N] [--out FILE] [--baseline [LABEL=]BIN ...]\n" +
        "                 [--libpaxos3 DIR [--libpaxos3-seconds S]]\n" +
        "  --baseline [LABEL=]BIN  also run another build (an older paxos binary), run for run alternating with this one\n" +
        "  --libpaxos3 DIR         also run LibPaxos3's samples (a build in DIR, see BENCHMARKS.md) on the lan-* loads, run for\n" +
        "                          run before the paxos builds; every run then gets its own private network namespace (root)\n" +
        `  --libpaxos3-seconds S   how long each LibPaxos3 run reads its client's per-second reports (default 10; the first ${LIBPAXOS3_WARMUP} are warm-up)\n` +
        "scenarios:",
    );
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(14)} ${s.what} (${s.values} values)`);
    return;
  }
  const named = [...(values.scenario ?? []), ...positionals];
  const names = named.length > 0 ? named : SCENARIOS.filter((s) => s.name !== "tiny").map((s) => s.name);
  const chosen = names.map((n) => SCENARIOS.find((s) => s.name === n) ?? fail(`unknown scenario '${n}'`));
  const runs = Number(values.runs);
  const valuesOverride = values.values === undefined ? undefined : Number(values.values);
  const lpSeconds = Number(values["libpaxos3-seconds"]);
  if (!Number.isInteger(lpSeconds) || lpSeconds <= LIBPAXOS3_WARMUP) fail(`--libpaxos3-seconds must be a whole number above ${LIBPAXOS3_WARMUP}`);
  // LibPaxos3, when asked for and runnable: then every run, its and ours, gets a fresh private network namespace.
  let lpDir: string | undefined;
  let lpSkipped: string | undefined;
  if (values.libpaxos3 !== undefined) {
    const missing = libpaxos3Missing(values.libpaxos3);
    lpSkipped =
      missing !== undefined ? `${missing} (build it with ../shared/anchors/libpaxos3-build.sh, see BENCHMARKS.md)` : await netnsUnavailable();
    if (lpSkipped === undefined) lpDir = values.libpaxos3;
    else console.error(`bench: LibPaxos3 not run: ${lpSkipped}; running the paxos builds only, on this host's loopback.`);
    const other = chosen.filter((s) => s.lanOutstanding === undefined).map((s) => s.name);
    if (lpDir !== undefined && other.length > 0) {
      console.error(`bench: LibPaxos3 not run for ${other.join(", ")}: no LibPaxos3 equivalent (loopback-tuned config); only the lan-* loads have one.`);
    }
  }
  const netns = lpDir !== undefined;
  await $`bun run build`.cwd(ROOT).quiet();
  const rows = [];
  const baselines = (values.baseline ?? []).map((b, k) => {
    const eq = b.indexOf("=");
    return eq > 0 ? { label: b.slice(0, eq), binary: b.slice(eq + 1) } : { label: `baseline ${k + 1}`, binary: b };
  });
  const builds = [...baselines, { label: "", binary: BINARY }];
  const capabilities = await Promise.all(builds.map((b) => capabilitiesOf(b.binary)));
  for (const s of chosen) {
    const results: RunFigures[][] = builds.map(() => []);
    const lp: RunFigures[] | undefined = lpDir !== undefined && s.lanOutstanding !== undefined ? [] : undefined;
    for (let i = 0; i < runs; i++) {
      if (lp !== undefined) {
        lp.push(await maybeInNetns(true, (prefix) => runLibpaxos3Once(s, lpDir!, lpSeconds, prefix)));
        console.error(`${s.name} (LibPaxos3) run ${i + 1}/${runs}: ${lp[i]!.valuesPerS} values/s`);
      }
      for (const [k, b] of builds.entries()) {
        const name = b.label === "" ? s.name : `${s.name} (${b.label})`;
        results[k]!.push(await maybeInNetns(netns, (prefix) => runOnce(s, valuesOverride, b.binary, capabilities[k]!, prefix)));
        console.error(`${name} run ${i + 1}/${runs}: ${results[k]![i]!.valuesPerS} values/s`);
      }
    }
    if (lp !== undefined) rows.push(summaryRow(`${s.name} (LibPaxos3)`, "LibPaxos3", lp));
    for (const [k, b] of builds.entries()) rows.push(summaryRow(b.label === "" ? s.name : `${s.name} (${b.label})`, "paxos", results[k]!, lp));
  }
  printTable(rows);
  const commit = (await $`git rev-parse --short HEAD`.cwd(ROOT).nothrow().quiet()).stdout.toString().trim();
  const report = {
    date: new Date().toISOString(),
    commit,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), platform: `${os.platform()}-${os.arch()}`, bun: Bun.version },
    builds: builds.map((b) => ({ label: b.label || "this build", binary: b.binary })),
    /** Whether every run had its own private network namespace (only with LibPaxos3), or the host's loopback. */
    privateNetns: netns,
    libpaxos3:
      values.libpaxos3 === undefined
        ? null
        : { dir: values.libpaxos3, ran: lpDir !== undefined, skipped: lpSkipped ?? null, seconds: lpSeconds, warmupReports: LIBPAXOS3_WARMUP },
    results: rows,
  };
  const out = values.out ?? join(ROOT, "bench/results", `${report.date.replace(/[:.]/g, "-")}.json`);
  mkdirSync(join(out, ".."), { recursive: true });
  await Bun.write(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
}

function fail(msg: string): never {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

await main();
