/**
 * `bun run soak -- --values N [--loss P] [--kill-every S] [--logs DIR]`
 * The default cluster (2 clients, 2 proposers, 3 durable acceptors, 2 learners) decides N values
 * while, every S seconds, a minority acceptor or the leading proposer is killed with SIGKILL and
 * restarted a second later. At the end: total order, integrity and agreement over every value,
 * and each process's resident memory sampled at every tenth of the run (written as JSON).
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "bun";
import { DemoRun } from "../src/cluster/demo-run.ts";
import { RunDir } from "../src/run-dir.ts";

const ROOT = join(import.meta.dir, "..");
const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    values: { type: "string", default: "1000000" },
    loss: { type: "string", default: "0" },
    "kill-every": { type: "string", default: "5" },
    logs: { type: "string", default: join(os.tmpdir(), "paxos-soak") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log("usage: bun run soak -- --values N [--loss P] [--kill-every SECONDS] [--logs DIR]");
  process.exit(0);
}
const total = Number(args.values);
const killEveryMs = Number(args["kill-every"]) * 1000;
const logs = args.logs!;
mkdirSync(logs, { recursive: true });
const storage = new RunDir(logs).storage;
const configPath = join(logs, "soak.yaml");
await Bun.write(configPath, `acceptor: { storage: ${JSON.stringify(storage)} }\n`);
await $`rm -rf ${storage}`;
await $`bun run build`.cwd(ROOT).quiet();

interface Sample {
  learned: number;
  atS: number;
  rssMb: Record<string, number>;
}
const samples: Sample[] = [];
const kills: string[] = [];
const startedMs = performance.now();

const run = new DemoRun({
  logs,
  topology: { num: Math.ceil(total / 2), clients: 2, proposers: 2, acceptors: 3, learners: 2 },
  settings: { config: configPath, loss: Number(args.loss) },
  launch: { command: [join(ROOT, "dist/paxos")] },
  catchup: false,
  sleepS: 5,
  timeoutS: 60,
  check: true,
  report: false,
});
let running = true;
const done = run.run().finally(() => (running = false));
await faults();
const code = await done;

/** While the run goes on: memory at each tenth of the values, and one kill -9 and restart every --kill-every seconds. */
async function faults(): Promise<void> {
  let nextKillMs = startedMs + killEveryMs;
  let nextSample = total / 10;
  let killAcceptor = true;
  let busy = false;
  for (; running; await Bun.sleep(20)) {
    const cluster = run.cluster;
    if (cluster === undefined) continue;
    const learned = run.valuesLearned;
    if (learned >= nextSample) {
      const rssMb = Object.fromEntries([...cluster.currentRss()].map(([name, b]) => [name, Math.round(b / 2 ** 20)]));
      samples.push({ learned, atS: (performance.now() - startedMs) / 1000, rssMb });
      nextSample += total / 10;
    }
    if (busy || performance.now() < nextKillMs) continue;
    // One fault at a time, a second long: a majority of acceptors and one proposer stay up.
    const victim = killAcceptor ? `acceptor-${1 + Math.floor(Math.random() * 3)}` : cluster.leader()?.name;
    killAcceptor = !killAcceptor;
    nextKillMs = performance.now() + killEveryMs;
    if (victim === undefined) continue;
    busy = true;
    kills.push(`${((performance.now() - startedMs) / 1000).toFixed(1)}s ${victim} at ${learned} values`);
    void cluster.crashRestart(victim, 1000).finally(() => (busy = false));
  }
}
const elapsedS = (performance.now() - startedMs) / 1000;
console.log(`\nsoak: ${total} values in ${elapsedS.toFixed(1)} s (${(total / elapsedS).toFixed(0)} values/s), ${kills.length} kill -9 + restart, checks ${code === 0 ? "OK" : "FAILED"}`);
const names = [...new Set(samples.flatMap((s) => Object.keys(s.rssMb)))].sort();
console.log(`RSS MB at each tenth:\n${["values", ...names].join("\t")}`);
for (const s of samples) console.log([s.learned, ...names.map((n) => s.rssMb[n] ?? "-")].join("\t"));
const out = join(logs, "soak.json");
await Bun.write(out, JSON.stringify({ date: new Date().toISOString(), total, loss: Number(args.loss), elapsedS, code, kills, samples }, null, 2));
console.log(`kills: ${kills.join("; ")}\nresults: ${out}`);
process.exit(code);
