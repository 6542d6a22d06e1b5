/**
 * `bun run sim -- --runs N [--seed S] [--mutant NAME] [--trace]`
 * Runs N seeded simulations (seeds S, S+1, …), prints the replay command of each failing run and
 * ends with `sim: <N> runs, <V> violations`; exits 1 when V > 0. On stderr: runs per second and
 * how many runs met each fault.
 */
import { parseArgs } from "node:util";
import { MUTANTS, type MutantName } from "./mutants.ts";
import { FAMILIES, type Family } from "./scenario.ts";
import { replayCommand, runSeed, type FaultCounts } from "./sim.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    seed: { type: "string" },
    mutant: { type: "string" },
    trace: { type: "boolean", default: false },
    family: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(`usage: bun run sim -- --runs N [--seed S] [--mutant ${MUTANTS.join("|")}] [--family mix|${FAMILIES.join("|")}] [--trace]`);
  process.exit(0);
}
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 1_000_000_000 : Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed) || seed < 0) {
  console.error("sim: --runs must be a positive integer and --seed a non-negative integer");
  process.exit(2);
}
const mutant = values.mutant as MutantName | undefined;
if (mutant !== undefined && !MUTANTS.includes(mutant)) {
  console.error(`sim: unknown mutant '${mutant}'; known: ${MUTANTS.join(", ")}`);
  process.exit(2);
}

const family = values.family as Family | undefined;
if (family !== undefined && family !== "mix" && !FAMILIES.includes(family as never)) {
  console.error(`sim: unknown family '${family}'; known: mix, ${FAMILIES.join(", ")}`);
  process.exit(2);
}
const started = performance.now();
let violations = 0;
let events = 0;
let gaveUp = 0;
/** Runs in which each fault happened at least once. */
const hit: Record<string, number> = {};
for (let i = 0; i < runs; i++) {
  const s = seed + i;
  const trace = values.trace ? (line: string) => console.log(line) : undefined;
  const r = runSeed(s, mutant, trace, family);
  events += r.events;
  gaveUp += r.gaveUp;
  for (const [fault, n] of Object.entries(r.faults) as [keyof FaultCounts, number][]) if (n > 0) hit[fault] = (hit[fault] ?? 0) + 1;
  if (r.scenario.clockSkewMs > 0) hit.clockSkew = (hit.clockSkew ?? 0) + 1;
  if (r.violations.length > 0) {
    violations++;
    console.log(`FAIL seed ${s}: ${r.violations.map((v) => `${v.property}: ${v.detail}`).join("; ")}`);
    console.log(`  scenario ${JSON.stringify(r.scenario)}`);
    console.log(`  replay: ${replayCommand(s, mutant, family)}`);
  }
}
const secs = (performance.now() - started) / 1000;
console.error(
  `(seeds ${seed}..${seed + runs - 1}, ${(runs / secs).toFixed(0)} runs/s, ${(events / secs / 1000).toFixed(0)}k events/s, ${gaveUp} learners gave up on trimmed instances)`,
);
console.error(`(runs with each fault: ${Object.entries(hit).map(([k, n]) => `${k} ${n}`).join(", ")})`);
console.log(`sim: ${runs} runs, ${violations} violations`);
process.exit(violations > 0 ? 1 : 0);
