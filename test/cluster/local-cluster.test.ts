/**
 * LocalCluster (src/cluster/local-cluster.ts) on the compiled binary: a durable acceptor's first
 * start creates its log and its restarts reuse it; a restarted learner's output starts over; a
 * cluster that was stopped starts nothing more, not even a restart that was pending.
 */
import { describe, expect, test } from "bun:test";
import { clusterTests, exitOf, sleep, waitFor } from "./harness.ts";

const newCluster = clusterTests();

describe("LocalCluster (compiled binary)", () => {
  test("a durable acceptor starts with --init once; after kill -9 it restarts from its log", async () => {
    const c = newCluster({ config: { acceptor: { storage: "acceptors" } } }); // relative to the run directory
    const local = c.local;
    const first = local.startAcceptor(1);
    expect(await local.waitUp([first], 10_000)).toEqual([]);
    expect(first.stderr).toContain("created (first start)");
    await local.crash("acceptor-1");
    expect(first.alive).toBe(false);
    const again = local.restart("acceptor-1");
    expect(again.pid).not.toBe(first.pid);
    expect(await local.waitUp([again], 10_000)).toEqual([]);
    expect(again.stderr).toMatch(/acceptor-1\.log: restored promise \d+ and \d+ votes/);
    // Started anew rather than restarted: its log is there, so no --init (which would refuse it).
    await local.crash("acceptor-1");
    const third = local.startAcceptor(1);
    expect(await local.waitUp([third], 10_000)).toEqual([]);
    expect(local.processes().map((m) => m.name)).toEqual(["acceptor-1"]);
    expect(local.members).toHaveLength(3);
  });

  test("a restarted learner's output file starts over", async () => {
    const c = newCluster();
    const local = c.local;
    for (let i = 1; i <= 3; i++) local.startAcceptor(i);
    local.startProposer(1);
    const learner = local.startLearner(1);
    await local.writeValues(1, 50);
    local.startClient(1);
    const output = local.dir.learned(1);
    await waitFor(() => Bun.file(output).size > 0, 20_000, "values delivered");
    await local.crash("learner-1");
    local.restart("learner-1");
    expect(Bun.file(output).size).toBe(0); // before the new learner wrote anything
    expect(learner.alive).toBe(false);
    await waitFor(() => (local.get("learner-1")!.status()?.learner?.delivered ?? 0) === 50, 20_000, "50 values delivered again");
    const lines = (await Bun.file(output).text()).trimEnd().split("\n");
    expect(lines).toHaveLength(50);
    expect(new Set(lines).size).toBe(50);
  });

  test("once stopped, it starts nothing: a pending restart is dropped, a start refused", async () => {
    const c = newCluster();
    const local = c.local;
    const acceptor = local.startAcceptor(1);
    expect(await local.waitUp([acceptor], 10_000)).toEqual([]);
    const restarting = local.crashRestart("acceptor-1", 500);
    await waitFor(() => !acceptor.alive, 5000, "the crash");
    await local.stop();
    await restarting;
    await sleep(100);
    expect(local.members).toHaveLength(1);
    expect(local.live()).toEqual([]);
    expect(() => local.startProposer(1)).toThrow("the cluster was stopped");
    expect(await exitOf(acceptor, 1000)).not.toBe(0);
  });
});
