/**
 * Reconfiguration with real processes (compiled binary): acceptors replaced one by one while a
 * client submits (kill -9, the disk wiped, a new id joins, `paxos reconfigure` names it), and
 * 3 → 5 → 3 acceptors, the removed ones stopping by themselves (exit 8). Every value is delivered
 * once, in the same order at every learner.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";
import { BINARY, clusterTests, exitOf, sorted, values, waitFor, type Cluster, type Proc } from "./harness.ts";

const newCluster = clusterTests();

/** Counts a process's output lines as they come, reading each byte once (a long run's output is megabytes). */
function lineCounter(p: Proc): () => number {
  let at = 0;
  let count = 0;
  return () => {
    const out = p.stdout;
    for (let i = out.indexOf("\n", at); i >= 0; i = out.indexOf("\n", i + 1)) count++;
    at = out.length;
    return count;
  };
}

/** Runs `paxos reconfigure --acceptors IDS` until it is accepted (a change still pending is refused: retried); returns the instance it governs from. */
async function reconfigure(c: Cluster, ids: string, learner: Proc): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = Bun.spawn([BINARY, "reconfigure", "--acceptors", ids, "--config", c.configPath, "--timeout", "30"], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    if (code === 0) {
      const m = /configuration epoch (\d+): acceptors ([\d,]+), in force from instance (\d+)/.exec(out);
      expect(m?.[2]).toBe(ids);
      const from = Number(m![3]);
      // Wait until the change governs at the learner (its decided prefix passed where it starts).
      try {
        await waitFor(() => (learner.status()?.learner?.decidedPrefix ?? 0) >= from && learner.status()?.configuration?.epoch === Number(m![1]), 30_000, `configuration ${ids} in force at ${learner.name}`);
      } catch (e) {
        const leader = c.local.leader();
        throw new Error(`${(e as Error).message}; ${learner.name}: ${JSON.stringify({ learner: learner.status()?.learner?.decidedPrefix, configuration: learner.status()?.configuration })}; leader ${leader?.name}: ${JSON.stringify(leader?.status()?.proposer)} ${JSON.stringify(leader?.status()?.configuration)}; out: ${out}`);
      }
      return from;
    }
    if (code !== EXIT.usage || !/still pending/.test(err)) throw new Error(`paxos reconfigure --acceptors ${ids}: exit ${code}: ${err}`);
    await Bun.sleep(300);
  }
  throw new Error(`paxos reconfigure --acceptors ${ids}: still refused`);
}

describe("reconfiguration (compiled binary)", () => {
  test("every acceptor replaced in turn while a client submits: kill -9, disk wiped, a new id joins", async () => {
    const c = newCluster();
    const dir = join(c.dir, "acceptors");
    const storage = ["--storage", dir];
    // PAXOS_RECONFIG_VALUES=1000000 for the long run (BENCHMARKS.md, "Reconfiguration under load").
    const n = Number(process.env.PAXOS_RECONFIG_VALUES ?? 20_000);
    const a = values("r", n);
    const acceptors = new Map<number, Proc>(c.startMany("acceptor", 3, [...storage, "--init"]).map((p, i) => [i + 1, p]));
    c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2); // no --count: they must still be there when a change comes into force
    const client = c.client(1, a, ["--outstanding", "50"]);
    // The longest time the learner delivered nothing while values were still coming.
    let lastCount = 0;
    let lastProgressMs = performance.now();
    let longestStallMs = 0;
    const sampler = setInterval(() => {
      const got = learners[0]!.stdout.length; // bytes delivered (cheaper than lines on a long run)
      const now = performance.now();
      if (got > lastCount || !client.alive) [lastCount, lastProgressMs] = [got, now];
      longestStallMs = Math.max(longestStallMs, now - lastProgressMs);
    }, 50);
    let members = [1, 2, 3];
    const learned = lineCounter(learners[0]!);
    for (let k = 1; k <= 3; k++) {
      await waitFor(() => learned() >= (k * n) / 5, Math.max(60_000, n / 10), `${(k * n) / 5} values learned`, 100);
      // Acceptor k's machine dies with its disk; acceptor k + 3 replaces it.
      acceptors.get(k)!.kill("SIGKILL");
      await acceptors.get(k)!.done;
      rmSync(join(dir, `acceptor-${k}.log`), { force: true });
      const joined = c.start("acceptor", k + 3, [...storage, "--join"]);
      acceptors.set(k + 3, joined);
      await c.waitUp([joined]);
      members = [...members.filter((m) => m !== k), k + 3].sort((x, y) => x - y);
      await reconfigure(c, members.join(","), learners[0]!);
    }
    expect(await exitOf(client, Math.max(120_000, n / 5))).toBe(0);
    for (const l of learners) {
      const count = lineCounter(l);
      await waitFor(() => count() >= n, 60_000, `every value learned by ${l.name}`, 100);
    }
    clearInterval(sampler);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
    process.stderr.write(`reconfigure test: ${n} values, 3 acceptors replaced; longest stall ${longestStallMs.toFixed(0)} ms\n`);
    expect(longestStallMs).toBeLessThan(10_000); // "a few seconds": a takeover, a Phase 1 with the new members
  }, Math.max(240_000, Number(process.env.PAXOS_RECONFIG_VALUES ?? 0) / 2));

  test("3 → 5 → 3 acceptors; the removed ones stop by themselves (exit 8)", async () => {
    const c = newCluster();
    const n = 10_000;
    const a = values("g", n);
    const first = c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const learner = c.start("learner", 1); // runs on after the values: the changes come into force in an idle cluster
    const client = c.client(1, a, ["--outstanding", "50"]);
    await waitFor(() => learner.lines().length >= n / 5, 60_000, "a fifth learned");
    const joined = [c.start("acceptor", 4, ["--join"]), c.start("acceptor", 5, ["--join"])];
    await c.waitUp(joined);
    await reconfigure(c, "1,2,3,4,5", learner);
    await reconfigure(c, "3,4,5", learner);
    for (const p of first.slice(0, 2)) {
      expect(await exitOf(p, 30_000)).toBe(EXIT.removed);
      expect(p.stderr).toMatch(/was removed from the cluster: configuration epoch 2 \(acceptors 3,4,5\)/);
    }
    expect(await exitOf(client, 120_000)).toBe(0);
    await waitFor(() => learner.lines().length >= n, 60_000, "every value learned");
    expect(sorted(learner.lines())).toEqual(sorted(a));
    // Refused with a sentence, before anything is submitted: an empty set, an id out of range, a removed id back.
    for (const [ids, why] of [
      ["", /empty set/],
      ["3,4,300", /acceptor ids are 1 to 255, found 300/],
      ["1,3,4,5", /acceptor 1 was removed by an earlier change/],
    ] as const) {
      const p = Bun.spawn([BINARY, "reconfigure", "--acceptors", ids, "--config", c.configPath, "--timeout", "20"], { stdout: "pipe", stderr: "pipe" });
      expect(await p.exited).toBe(EXIT.usage);
      expect(await new Response(p.stderr).text()).toMatch(why);
    }
  }, 240_000);
});
