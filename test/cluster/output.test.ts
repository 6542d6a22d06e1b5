/**
 * A learner's output is exactly once across errors and restarts (compiled binary, loopback):
 * --output FILE survives kill -9 at any point, and stdout errors end the learner as a filter ends.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, clusterTests, exitOf, sleep, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

const lines = (path: string): string[] => {
  const text = readFileSync(path, "utf8");
  return text === "" ? [] : text.slice(0, -1).split("\n");
};

describe("learner output (compiled binary)", () => {
  test("--output: killed with kill -9 five times at random points, the file equals an uninterrupted learner's output", async () => {
    const c = newCluster();
    const a = values("k", 20_000);
    const file = join(c.dir, "learner-2.txt");
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const steady = c.start("learner", 1, ["--count", String(a.length)]);
    const args = ["--output", file, "--count", String(a.length)];
    let restartable = c.start("learner", 2, args);
    const client = c.client(1, a, ["--outstanding", "5"]);
    let logs = "";
    for (let k = 0; k < 5; k++) {
      const before = steady.lines().length;
      // Long enough for a position to be written (every second), then anywhere: between values,
      // between a write and its sync, in the middle of writing the position.
      await waitFor(() => steady.lines().length >= Math.min(before + 300, a.length), 30_000, "300 more values");
      if (steady.lines().length === a.length) break; // all delivered already
      await sleep(1000 + Math.random() * 500);
      restartable.kill("SIGKILL");
      await restartable.done;
      logs += restartable.stderr;
      restartable = c.start("learner", 2, args);
    }
    expect(await exitOf(client, 60_000)).toBe(0);
    expect(await exitOf(steady, 20_000)).toBe(0);
    expect(await exitOf(restartable, 20_000)).toBe(0);
    logs += restartable.stderr;
    expect(logs).toMatch(/resuming after [1-9]\d* values/);
    expect(lines(file)).toEqual(steady.lines());
  }, 120_000);

  // Issue 20: stopping at --count inside a batch recorded the next instance as the position, so a
  // restart never wrote the rest of that batch (c31..c50 of one batch lost in a 50-value run).
  test("--output with --count cut inside a batch, then restarted: the file holds every value once, in order", async () => {
    const c = newCluster();
    const a = values("c", 50);
    const file = join(c.dir, "learner-2.txt");
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const steady = c.start("learner", 1, ["--count", "50"]);
    const first = c.start("learner", 2, ["--output", file, "--count", "30"]);
    await c.waitUp([steady, first]);
    const client = c.client(1, a); // all 50 at once: one or two batches
    expect(await exitOf(client, 30_000)).toBe(0);
    expect(await exitOf(first, 20_000)).toBe(0);
    expect(lines(file)).toEqual(a.slice(0, 30));
    const second = c.start("learner", 2, ["--output", file, "--count", "50"]);
    expect(await exitOf(second, 20_000)).toBe(0);
    expect(await exitOf(steady, 20_000)).toBe(0);
    expect(lines(file)).toEqual(steady.lines());
    expect(lines(file)).toEqual(a);
  }, 60_000);

  test("a learner whose reader went away (| head) ends quietly, as a filter does (exit 141)", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const cmd = `${BINARY} --role learner --id 1 --config ${c.configPath} | head -3; exit \${PIPESTATUS[0]}`;
    const learner = Bun.spawn(["bash", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
    await sleep(300);
    expect(await exitOf(c.client(1, values("h", 2000), ["--outstanding", "20"]), 30_000)).toBe(0);
    expect(await Promise.race([learner.exited, sleep(10_000).then(() => "still running")])).toBe(141);
    expect(await new Response(learner.stdout).text()).toBe("h1\nh2\nh3\n");
    expect(await new Response(learner.stderr).text()).not.toMatch(/error/i);
  }, 60_000);

  test("a learner that cannot write its output says so and exits 6 (stdout on a full disk)", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const learner = Bun.spawn([BINARY, "--role", "learner", "--id", "1", "--config", c.configPath], { stdout: Bun.file("/dev/full"), stderr: "pipe" });
    await sleep(300);
    expect(await exitOf(c.client(1, values("f", 100)), 30_000)).toBe(0);
    expect(await Promise.race([learner.exited, sleep(10_000).then(() => "still running")])).toBe(6);
    expect(await new Response(learner.stderr).text()).toMatch(/cannot write the learner's output: ENOSPC/);
  }, 60_000);

  // Issue 20: `--output /dev/full` read 4.2 GB before failing, a directory gave EISDIR without its path.
  test("--output that is not a regular file: one sentence naming it, exit 6, nothing read or created beside it", async () => {
    const c = newCluster();
    const dir = join(c.dir, "a-directory");
    mkdirSync(dir);
    for (const [path, kind] of [["/dev/full", "a character device"], [dir, "a directory"]] as const) {
      const p = c.start("learner", 1, ["--output", path]);
      expect(await exitOf(p, 10_000)).toBe(6);
      expect(p.stderr.trimEnd().split("\n")).toEqual([`paxos: cannot use the output file: ${path} is ${kind}, not a regular file: --output names the file the delivered values are appended to`]);
      expect(existsSync(`${path}.lock`)).toBe(false);
    }
  }, 30_000);

  // Issue 20: with --count, the failing write came after the count was reached, and the learner
  // said "cannot write … stopping" and then exited 0.
  test("with --count too, a learner that cannot write its output exits 6 (stdout on a full disk)", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const learner = Bun.spawn([BINARY, "--role", "learner", "--id", "1", "--config", c.configPath, "--count", "100"], { stdout: Bun.file("/dev/full"), stderr: "pipe" });
    await sleep(300);
    expect(await exitOf(c.client(1, values("f", 100)), 30_000)).toBe(0);
    expect(await Promise.race([learner.exited, sleep(10_000).then(() => "still running")])).toBe(6);
    const said = (await new Response(learner.stderr).text()).trimEnd().split("\n");
    expect(said.at(-1)).toBe("paxos: cannot write the learner's output: ENOSPC: no space left on device, write; stopping (0 values were written)");
    expect(said.filter((l) => l.includes("cannot write"))).toHaveLength(1);
  }, 60_000);

  test("--output refuses a file it did not write", async () => {
    const c = newCluster();
    const file = join(c.dir, "someone-else.txt");
    await Bun.write(file, "not ours\n");
    const p = c.start("learner", 1, ["--output", file]);
    expect(await exitOf(p, 10_000)).toBe(6);
    expect(p.stderr).toMatch(/holds 9 bytes but has no .*\.pos: it was not written by --output/);
  }, 30_000);
});
