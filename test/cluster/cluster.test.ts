/**
 * Multi-process cluster tests: the compiled binary (dist/paxos, built when stale), real UDP
 * multicast on loopback.
 */
import { describe, expect, test } from "bun:test";
import { clusterTests, exitOf, sleep, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

/** Learners' outputs are identical and equal, as a multiset, to what the clients read. */
function expectAllLearned(outputs: string[][], submitted: string[]): void {
  for (const out of outputs) {
    expect(out.length).toBe(submitted.length);
    expect(out).toEqual(outputs[0]!);
  }
  expect(sorted(outputs[0]!)).toEqual(sorted(submitted));
}

describe("cluster (compiled binary, loopback multicast)", () => {
  test("2 clients × 1000 values, 2 proposers, 3 acceptors, 2 learners: identical complete sequences", async () => {
    const c = newCluster();
    const a = values("a", 1000);
    const b = values("b", 1000);
    const servers = [...c.startMany("acceptor", 3), ...c.startMany("proposer", 2)];
    const learners = c.startMany("learner", 2, ["--count", "2000"]);
    await c.waitUp([...servers, ...learners]);
    const clients = [c.client(1, a), c.client(2, b)];
    for (const p of [...clients, ...learners]) expect(await exitOf(p, 30_000)).toBe(0);
    expectAllLearned(learners.map((l) => l.lines()), [...a, ...b]);
    expect(clients[0]!.stderr).toContain("1000 values decided");
  });

  test("with only 2 of 3 acceptors every value is learned", async () => {
    const c = newCluster();
    const a = values("x", 300);
    c.startMany("acceptor", 2);
    c.start("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "300"]);
    expect(await exitOf(c.client(1, a), 30_000)).toBe(0);
    expect(await exitOf(learner, 10_000)).toBe(0);
    expectAllLearned([learner.lines()], a);
  });

  test("with 1 of 3 acceptors nothing is learned; a 2nd acceptor unblocks everything", async () => {
    const c = newCluster();
    const a = values("y", 100);
    c.start("acceptor", 1);
    c.start("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "100"]);
    const client = c.client(1, a);
    // The client submits, the proposer cannot finish Phase 1 with one acceptor: nothing decided.
    await waitFor(() => (client.status()?.client?.submitted ?? 0) > 0, 10_000, "the client submitting");
    await sleep(2000);
    expect(learner.lines()).toEqual([]);
    expect(c.local.leader()).toBeUndefined();
    expect(client.alive).toBe(true);
    c.start("acceptor", 2);
    expect(await exitOf(client, 30_000)).toBe(0);
    expect(await exitOf(learner, 10_000)).toBe(0);
    expectAllLearned([learner.lines()], a);
  });

  test("10% loss on every process: all learned, identical, exactly once", async () => {
    const c = newCluster();
    const loss = ["--loss", "0.1"];
    const a = values("p", 500);
    const b = values("q", 500);
    c.startMany("acceptor", 3, loss);
    c.startMany("proposer", 2, loss);
    const learners = c.startMany("learner", 2, [...loss, "--count", "1000"]);
    const clients = [c.client(1, a, loss), c.client(2, b, loss)];
    for (const p of [...clients, ...learners]) expect(await exitOf(p, 60_000)).toBe(0);
    expectAllLearned(learners.map((l) => l.lines()), [...a, ...b]);
  });

  test("catch-up: a learner started after client 1 finished learns the whole sequence", async () => {
    const c = newCluster();
    const a = values("early", 500);
    const b = values("late", 500);
    c.startMany("acceptor", 3);
    c.startMany("proposer", 2);
    const l1 = c.start("learner", 1, ["--count", "1000"]);
    expect(await exitOf(c.client(1, a), 30_000)).toBe(0);
    const l2 = c.start("learner", 2, ["--count", "1000"]);
    await c.waitUp([l2]);
    expect(await exitOf(c.client(2, b), 30_000)).toBe(0);
    for (const l of [l1, l2]) expect(await exitOf(l, 30_000)).toBe(0);
    expectAllLearned([l1.lines(), l2.lines()], [...a, ...b]);
    // Client 1's values were all decided before client 2 started (in any order: a resent value
    // can overtake others).
    expect(sorted(l2.lines().slice(0, 500))).toEqual(sorted(a));
  });

  test("kill -9 of the deciding proposer mid-run: all values still learned", async () => {
    const c = newCluster();
    const a = values("k", 1500);
    c.startMany("acceptor", 3);
    const proposers = c.startMany("proposer", 2);
    const learner = c.start("learner", 1, ["--count", "1500"]);
    await c.leader();
    const client = c.client(1, a, ["--outstanding", "5"]);
    await waitFor(() => learner.lines().length >= 300, 20_000, "300 values learned");
    const leader = await c.leader();
    expect(proposers).toContain(leader);
    leader.kill("SIGKILL");
    expect(learner.lines().length).toBeLessThan(1500);
    expect(await exitOf(client, 30_000)).toBe(0);
    expect(await exitOf(learner, 10_000)).toBe(0);
    expectAllLearned([learner.lines()], a);
  });

  test("kill -9 of 1 of 3 acceptors mid-run: all values learned", async () => {
    const c = newCluster();
    const a = values("m", 1500);
    const acceptors = c.startMany("acceptor", 3);
    c.start("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "1500"]);
    const client = c.client(1, a, ["--outstanding", "5"]);
    await waitFor(() => learner.lines().length >= 300, 20_000, "300 values learned");
    acceptors[1]!.kill("SIGKILL");
    expect(learner.lines().length).toBeLessThan(1500);
    expect(await exitOf(client, 30_000)).toBe(0);
    expect(await exitOf(learner, 10_000)).toBe(0);
    expectAllLearned([learner.lines()], a);
  });

  test("values with equal contents are delivered as many times as submitted", async () => {
    const c = newCluster();
    const a = ["same", "same", "other", "", "same"];
    const b = ["same", "", "other"];
    c.startMany("acceptor", 3);
    c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2, ["--count", "8"]);
    for (const p of [c.client(1, a), c.client(2, b)]) expect(await exitOf(p, 30_000)).toBe(0);
    for (const l of learners) expect(await exitOf(l, 10_000)).toBe(0);
    expectAllLearned(learners.map((l) => l.lines()), [...a, ...b]);
  });
});
