/**
 * Catch-up after trimming (compiled binary): acceptors keep only the last 1,024 decided
 * instances; a learner that starts later gets the older ones from another learner's archive,
 * or, with no archive configured, says it cannot and exits 4.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Cluster, clusterTests, exitOf, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

/** 3,000 values, one per instance, decided with only learner 1 up. */
async function history(archive: boolean): Promise<{ c: Cluster; all: string[] }> {
  const c = newCluster({
    config: { acceptor: { retainInstances: 1024 }, batch: { valuesMax: 1 }, ...(archive ? { learner: { archive: "archive" } } : {}) },
  });
  const all = values("h", 3000);
  c.startMany("acceptor", 3);
  c.start("proposer", 1);
  const l1 = c.start("learner", 1);
  expect(await exitOf(c.client(1, all, ["--outstanding", "20"]), 60_000)).toBe(0);
  await waitFor(() => l1.lines().length === 3000, 20_000, "learner 1 to have all 3,000 values");
  return { c, all };
}

describe("catch-up after trimming (compiled binary)", () => {
  test("a late learner gets trimmed instances from another learner's archive", async () => {
    const { c, all } = await history(true);
    const l2 = c.start("learner", 2, ["--count", "3000"]);
    expect(await exitOf(l2, 30_000)).toBe(0);
    expect(l2.lines()).toHaveLength(3000);
    expect(new Set(l2.lines())).toEqual(new Set(all));
    expect(await Bun.file(join(c.dir, "archive", "learner-1.archive")).exists()).toBe(true);
  });

  test("without archives, a late learner says what is missing and exits 4", async () => {
    const { c } = await history(false);
    const l2 = c.start("learner", 2, ["--count", "3000"]);
    expect(await exitOf(l2, 30_000)).toBe(4);
    expect(l2.stderr).toMatch(/instance 0 is needed but a majority of acceptors dropped every instance below \d+/);
    expect(l2.lines()).toEqual([]);
  });
});
