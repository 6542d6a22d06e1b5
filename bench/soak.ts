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
const configPath = join(logs, "soak.yaml");
await Bun.write(configPath, `acceptor: { storage: ${JSON.stringify(join(logs, "acceptors"))} }\n`);
await $`rm -rf ${join(logs, "acceptors")}`;
await $`bun run build`.cwd(ROOT).quiet();

interface Sample {
  learned: number;
  atS: number;
  rssMb: Record<string, number>;
}
const samples: Sample[] = [];
const kills: string[] = [];
const startedMs = performance.now();
let nextKillMs = startedMs + killEveryMs;
let nextSample = total / 10;
let killAcceptor = true;
let busy = false;

const run = new DemoRun({
  num: Math.ceil(total / 2),
  clients: 2,
  proposers: 2,
  acceptors: 3,
  learners: 2,
  loss: Number(args.loss),
  catchup: false,
  sleepS: 5,
  debug: false,
  config: configPath,
  logs,
  timeoutS: 60,
  check: true,
  report: false,
  command: [join(ROOT, "dist/paxos")],
  async onPoll(learned, r) {
    if (learned >= nextSample) {
      const rssMb = Object.fromEntries([...r.currentRss()].map(([name, b]) => [name, Math.round(b / 2 ** 20)]));
      samples.push({ learned, atS: (performance.now() - startedMs) / 1000, rssMb });
      nextSample += total / 10;
    }
    if (busy || performance.now() < nextKillMs) return;
    busy = true;
    // One fault at a time, a second long: a majority of acceptors and one proposer stay up.
    const victim = killAcceptor ? `acceptor-${1 + Math.floor(Math.random() * 3)}` : await r.leader();
    killAcceptor = !killAcceptor;
    if (victim !== undefined) {
      kills.push(`${((performance.now() - startedMs) / 1000).toFixed(1)}s ${victim} at ${learned} values`);
      void r.crashRestart(victim, 1000).finally(() => {
        busy = false;
      });
    } else busy = false;
    nextKillMs = performance.now() + killEveryMs;
  },
});
const code = await run.run();
const elapsedS = (performance.now() - startedMs) / 1000;
console.log(`\nsoak: ${total} values in ${elapsedS.toFixed(1)} s (${(total / elapsedS).toFixed(0)} values/s), ${kills.length} kill -9 + restart, checks ${code === 0 ? "OK" : "FAILED"}`);
const names = [...new Set(samples.flatMap((s) => Object.keys(s.rssMb)))].sort();
console.log(`RSS MB at each tenth:\n${["values", ...names].join("\t")}`);
for (const s of samples) console.log([s.learned, ...names.map((n) => s.rssMb[n] ?? "-")].join("\t"));
const out = join(logs, "soak.json");
await Bun.write(out, JSON.stringify({ date: new Date().toISOString(), total, loss: Number(args.loss), elapsedS, code, kills, samples }, null, 2));
console.log(`kills: ${kills.join("; ")}\nresults: ${out}`);
process.exit(code);
