import { describe, expect, test } from "bun:test";
import { MUTANTS } from "./mutants.ts";
import { replayCommand, runSeed } from "./sim.ts";

const RUNS = Number(process.env.SIM_RUNS ?? 5000);
const SEED = Number(process.env.SIM_SEED ?? 1);

describe("simulator", () => {
  test(`${RUNS} randomized runs keep total order, integrity and agreement`, () => {
    const failures: string[] = [];
    let delivered = 0;
    for (let s = SEED; s < SEED + RUNS; s++) {
      const r = runSeed(s);
      delivered += r.delivered;
      if (r.violations.length > 0) failures.push(`${r.violations[0]!.detail} — replay: ${replayCommand(s)}`);
    }
    expect(failures).toEqual([]);
    expect(delivered).toBeGreaterThan(RUNS); // the runs really decided values
  }, 120_000);

  test("the same seed replays the same run", () => {
    const a = runSeed(4242);
    const b = runSeed(4242);
    expect(b).toEqual(a);
    expect(a.events).toBeGreaterThan(0);
  });

  for (const mutant of MUTANTS) {
    test(`mutant ${mutant} is caught`, () => {
      let caught = 0;
      for (let s = 1; s <= 1500 && caught === 0; s++) if (runSeed(s, mutant).violations.length > 0) caught++;
      expect(caught).toBeGreaterThan(0);
    });
  }
});
