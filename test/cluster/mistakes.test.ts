/**
 * Operator mistakes with real processes (compiled binary, loopback multicast). Each of these used
 * to split two learners silently (one delivered a1… at instance 0, the other b1…); now the mistake
 * is refused, both sides say so, and the learners agree.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { Cluster, clusterTests, exitOf, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

/** Two clients' values, learned by both learners, in one order, each once. */
async function bothLearnersAgree(c: Cluster, a: string[], b: string[], learners: ReturnType<Cluster["startMany"]>): Promise<void> {
  const cb = c.client(2, b, ["--outstanding", "5"]);
  expect(await exitOf(cb, 30_000)).toBe(0);
  for (const l of learners) expect(await exitOf(l, 20_000)).toBe(0);
  expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
  expect(sorted(learners[0]!.lines())).toEqual(sorted([...a, ...b]));
}

describe("operator mistakes (compiled binary)", () => {
  // Found by a new user: the newcomer took over from an idle leader, which then stood by and sent
  // nothing in its own round, so the newcomer never learned of it; both ran on as proposer 1.
  // Issue 20: two live processes with one id hear each other's Hellos; the later one stops.
  test("a second proposer with a running one's id stops (exit 5), the first goes on; every value is learned", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    const first = c.start("proposer", 1);
    const learner = c.start("learner", 1);
    await c.waitUp([first, learner]);
    await c.leader();
    // Past its start-up grace (10 s): what it sees of proposer 1 from now on is a newcomer.
    const startedMs = first.status()!.startedUnixMs;
    await waitFor(() => Date.now() > startedMs + 10_500, 15_000, "the first proposer's start-up grace to pass");
    const all: string[] = [];
    let k = 0;
    const feed = async () => {
      const v = values(`d${++k}-`, 100);
      all.push(...v);
      expect(await exitOf(c.client(k, v, ["--outstanding", "5"]), 30_000)).toBe(0);
    };
    const second = c.local.start({ role: "proposer", id: 1, name: "proposer-1-again", stdin: "pipe", stdout: "pipe", stderr: "pipe" }); // the mistake
    const deadline = Date.now() + 60_000;
    while (first.alive && second.alive && Date.now() < deadline) await feed();
    expect(second.alive).toBe(false);
    expect(await exitOf(second, 5000)).toBe(5);
    expect(second.stderr).toMatch(/another process has been running as proposer 1 since before this one started; this one stops/);
    expect(first.alive).toBe(true);
    await feed(); // the one left goes on
    await waitFor(() => learner.lines().length >= all.length, 20_000, "every value learned");
    expect(sorted(learner.lines())).toEqual(sorted(all));
  }, 120_000);

  test("an in-memory acceptor killed and restarted with its id is refused and stops (exit 5); the others go on", async () => {
    const c = newCluster();
    const [a, b] = [values("a", 500), values("b", 500)];
    const acceptors = c.startMany("acceptor", 3);
    const proposers = c.startMany("proposer", 1);
    const learners = c.startMany("learner", 2, ["--count", "1000"]);
    expect(await exitOf(c.client(1, a, ["--outstanding", "5"]), 20_000)).toBe(0);
    acceptors[1]!.kill("SIGKILL");
    await acceptors[1]!.done;
    const again = c.start("acceptor", 2); // the mistake: it forgot every vote
    await bothLearnersAgree(c, a, b, learners);
    expect(await exitOf(again, 10_000)).toBe(5);
    expect(again.stderr).toMatch(/the cluster knows another process as acceptor 2: .*restarted without its storage/);
    expect(proposers[0]!.stderr).toMatch(/ignoring a second process answering as acceptor 2/);
  }, 60_000);

  test("two acceptor processes with one id: the second is refused and stops (exit 5)", async () => {
    const c = newCluster();
    const [a, b] = [values("a", 500), values("b", 500)];
    c.startMany("acceptor", 3);
    c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2, ["--count", "1000"]);
    expect(await exitOf(c.client(1, a, ["--outstanding", "5"]), 20_000)).toBe(0);
    const copy = c.start("acceptor", 3); // a unit copied to a second machine
    await bothLearnersAgree(c, a, b, learners);
    expect(await exitOf(copy, 10_000)).toBe(5);
    expect(copy.stderr).toMatch(/another process runs with this id/);
  }, 60_000);

  test("a fourth acceptor while the config says acceptors: 3 is a configuration error (exit 2)", async () => {
    const c = newCluster();
    const fourth = c.start("acceptor", 4);
    expect(await exitOf(fourth, 10_000)).toBe(2);
    expect(fourth.stderr).toMatch(/acceptor ids are 1 to 3 \(acceptors: 3 in the config\), found 4/);
  }, 60_000);

  test("a process configured with another acceptor count is not heard (and hears nothing)", async () => {
    const c = newCluster();
    const a = values("a", 200);
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "200"]);
    const other = join(c.dir, "five.json");
    writeFileSync(other, JSON.stringify({ ...(await Bun.file(c.configPath).json()), acceptors: 5 }));
    const odd = c.start("learner", 2, ["--config", other, "--debug"]);
    expect(await exitOf(c.client(1, a, ["--outstanding", "5"]), 20_000)).toBe(0);
    expect(await exitOf(learner, 10_000)).toBe(0);
    await waitFor(() => (odd.status()?.datagrams.dropped["config"] ?? 0) > 0, 5000, "the odd learner refusing datagrams");
    expect(odd.lines()).toEqual([]);
    expect(odd.stderr).toMatch(/: config/);
  }, 60_000);

  test("a durable acceptor without its log starts only with --init, and --init never reuses a log", async () => {
    const c = newCluster();
    const dir = join(c.dir, "acceptors");
    const missing = c.start("acceptor", 1, ["--storage", dir]);
    expect(await exitOf(missing, 10_000)).toBe(3);
    expect(missing.stderr).toMatch(/acceptor-1\.log does not exist \(or is empty\): on an acceptor's first start pass --init/);
    const first = c.start("acceptor", 1, ["--storage", dir, "--init"]);
    await c.waitUp([first]);
    expect(first.stderr).toContain("created (first start)");
    first.kill("SIGKILL");
    await first.done;
    const again = c.start("acceptor", 1, ["--storage", dir, "--init"]);
    expect(await exitOf(again, 10_000)).toBe(3);
    expect(again.stderr).toMatch(/already exists: --init is for an acceptor's first start only/);
    writeFileSync(join(dir, "acceptor-1.log"), ""); // an empty file: a lost volume, say
    const empty = c.start("acceptor", 1, ["--storage", dir]);
    expect(await exitOf(empty, 10_000)).toBe(3);
  }, 60_000);
});
