/**
 * One process per file (compiled binary): a second process on a durable acceptor's log, a
 * learner's --output or a learner's archive is refused (exit 5, one sentence) before it touches
 * anything, and the first goes on untouched (issue 20).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";
import type { RoleName } from "../../src/runtime/role-names.ts";
import { Cluster, clusterTests, exitOf, type Proc, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

/** A second process with the role and id of a running one (its own status file and log). */
const twin = (c: Cluster, role: RoleName, id: number, args: string[]): Proc =>
  c.local.start({ role, id, name: `${role}-${id}-twin`, args, stdout: "pipe", stderr: "pipe" });

/** Refused: exit 5 and one line naming the file, before it joined its group. */
async function expectRefused(p: Proc, file: RegExp): Promise<void> {
  expect(await exitOf(p, 20_000)).toBe(EXIT.duplicateId);
  const lines = p.stderr.trimEnd().split("\n");
  expect(lines, p.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(file);
  expect(lines[0]).toMatch(/in use by another process \(pid \d+\)/);
  expect(p.status()?.state).toBeUndefined(); // it never started
}

describe("one process per durable file (compiled binary)", () => {
  test("a second acceptor on a running acceptor's log exits 5; the first goes on and restarts from an intact log", async () => {
    const c = newCluster();
    const storage = ["--storage", join(c.dir, "st")];
    let acceptors = c.startMany("acceptor", 3, [...storage, "--init"]);
    c.startMany("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "600"]);
    await c.waitUp(acceptors);
    const client = c.client(1, values("a", 600), ["--outstanding", "5"]);
    await waitFor(() => learner.lines().length >= 100, 30_000, "100 values learned");
    await expectRefused(twin(c, "acceptor", 2, storage), /acceptor-2\.log/);
    await expectRefused(twin(c, "acceptor", 2, [...storage, "--init"]), /acceptor-2\.log/);
    expect(acceptors[1]!.alive).toBe(true);
    expect(await exitOf(client, 60_000)).toBe(0);
    expect(await exitOf(learner, 20_000)).toBe(0);
    expect(sorted(learner.lines())).toEqual(sorted(values("a", 600)));
    // Its log is whole: killed and restarted, it reads it back.
    acceptors[1]!.kill("SIGKILL");
    await acceptors[1]!.done;
    acceptors = [c.start("acceptor", 2, storage)];
    await c.waitUp(acceptors);
    expect(acceptors[0]!.stderr).toMatch(/restored promise \d+ and [1-9]\d* votes/);
  }, 120_000);

  test("a second learner on a running learner's --output, or on its archive, exits 5; the first goes on", async () => {
    const c = newCluster();
    const archiveDir = join(c.dir, "archive");
    const config = join(c.dir, "archived.json");
    const base = JSON.parse(await Bun.file(c.configPath).text());
    await Bun.write(config, JSON.stringify({ ...base, learner: { archive: archiveDir } }));
    c.startMany("acceptor", 3);
    c.startMany("proposer", 1);
    const output = join(c.dir, "learner-1.txt");
    const first = c.local.start({ role: "learner", id: 1, config, args: ["--output", output, "--count", "400"], stdout: "pipe", stderr: "pipe" });
    await c.waitUp([first]);
    const client = c.client(1, values("o", 400), ["--outstanding", "5"]);
    // The same --output under another id, and the same archive (same id) with another output.
    await expectRefused(c.local.start({ role: "learner", id: 2, name: "learner-2-twin", args: ["--output", output], stdout: "pipe", stderr: "pipe" }), /learner-1\.txt/);
    await expectRefused(c.local.start({ role: "learner", id: 1, name: "learner-1-twin", config, args: ["--output", join(c.dir, "other.txt")], stdout: "pipe", stderr: "pipe" }), /learner-1\.archive/);
    expect(await exitOf(client, 60_000)).toBe(0);
    expect(await exitOf(first, 30_000)).toBe(0);
    const written = (await Bun.file(output).text()).trimEnd().split("\n");
    expect(sorted(written)).toEqual(sorted(values("o", 400)));
  }, 120_000);
});
