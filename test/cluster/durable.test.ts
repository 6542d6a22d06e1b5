/** Durable acceptors (compiled binary): kill -9 all of them mid-run and restart them. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { clusterTests, exitOf, sleep, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

describe("durable acceptors (compiled binary)", () => {
  test("kill -9 of all three acceptors mid-run, restarted from their logs: all learned once, same order", async () => {
    const c = newCluster();
    const storage = ["--storage", join(c.dir, "acceptors")];
    const a = values("d", 1500);
    let acceptors = c.startMany("acceptor", 3, [...storage, "--init"]); // their first start
    c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2, ["--count", "1500"]);
    const client = c.client(1, a, ["--outstanding", "5"]);
    await waitFor(() => learners[0]!.lines().length >= 300, 20_000, "300 values learned");
    for (const p of acceptors) p.kill("SIGKILL");
    await Promise.all(acceptors.map((p) => p.done));
    const learnedWhileDown = learners[0]!.lines().length;
    expect(learnedWhileDown).toBeLessThan(1500);
    await sleep(300);
    acceptors = c.startMany("acceptor", 3, storage);
    await c.waitUp(acceptors);
    expect(acceptors[0]!.stderr).toMatch(/restored promise \d+ and [1-9]\d* votes/);
    expect(await exitOf(client, 30_000)).toBe(0);
    for (const l of learners) expect(await exitOf(l, 15_000)).toBe(0);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
  }, 60_000);

  test("an acceptor refuses to start on a log that is not its own", async () => {
    const c = newCluster();
    const dir = join(c.dir, "acceptors");
    await Bun.write(join(dir, "acceptor-1.log"), "definitely not an acceptor log");
    const p = c.start("acceptor", 1, ["--storage", dir]);
    expect(await exitOf(p, 10_000)).toBe(3);
    expect(p.stderr).toContain("bad magic");
  }, 60_000);
});
