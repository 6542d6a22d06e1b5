/** The benchmark command runs (its figures are not checked here: benchmarks are not tests). */
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { libpaxos3Missing } from "../../bench/libpaxos3.ts";
import { netnsUnavailable } from "../../bench/netns.ts";

// Real processes on a shared, sometimes busy, 2-core machine: room beyond bun's 5 s default.
setDefaultTimeout(120_000);
test("bun run bench runs the tiny scenario and writes its results as JSON", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "paxos-bench-test-")), "tiny.json");
  const p = Bun.spawn(["bun", "run", "bench", "--scenario", "tiny", "--runs", "1", "--out", out], {
    cwd: join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^scenario\s+values\/s\s+\(range\)\s+MB\/s\s+ack p50 ms/m);
  const report = JSON.parse(readFileSync(out, "utf8"));
  expect(report.machine.cpus).toBeGreaterThan(0);
  const [tiny] = report.results;
  expect(tiny.scenario).toBe("tiny");
  expect(tiny.valuesPerS).toBeGreaterThan(0);
  expect(tiny.latencyMsP50).toBeGreaterThan(0);
  // Learner 1 logged its deliveries: submit-to-delivery is measured.
  expect(tiny.deliveryMsP50).toBeGreaterThan(0);
  expect(tiny.cpuUsPerValue.all).toBeGreaterThan(0);
  expect(Object.keys(tiny.cpuS)).toEqual(["acceptor-1", "acceptor-2", "acceptor-3", "proposer-1", "learner-1", "client-1"]);
}, 60_000);

/** Runs `bun run bench ARGS --out FILE`; its exit code, output and JSON report. */
async function bench(args: string[]) {
  const out = join(mkdtempSync(join(tmpdir(), "paxos-bench-test-")), "bench.json");
  const p = Bun.spawn(["bun", "run", "bench", ...args, "--out", out], { cwd: join(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr, report: code === 0 ? JSON.parse(readFileSync(out, "utf8")) : undefined };
}

test("--libpaxos3 DIR without a build there says so in one sentence and runs the paxos builds", async () => {
  const { code, stderr, report } = await bench(["--scenario", "tiny", "--runs", "1", "--libpaxos3", "/nonexistent/libpaxos3"]);
  expect(code).toBe(0);
  expect(stderr).toContain("bench: LibPaxos3 not run: /nonexistent/libpaxos3 not found (build it with ../shared/anchors/libpaxos3-build.sh, see BENCHMARKS.md)");
  expect(report.libpaxos3).toMatchObject({ dir: "/nonexistent/libpaxos3", ran: false });
  expect(report.privateNetns).toBe(false);
  expect(report.results.map((r: { scenario: string }) => r.scenario)).toEqual(["tiny"]);
  expect(report.results[0].valuesPerS).toBeGreaterThan(0);
}, 60_000);

const LP = process.env.LIBPAXOS3_DIR ?? join(homedir(), ".cache/libpaxos3-build");
const skip = libpaxos3Missing(LP) ?? (await netnsUnavailable());

test.skipIf(skip !== undefined)(`--libpaxos3 runs LibPaxos3 before the paxos build on a lan-* load${skip === undefined ? "" : ` (skipped: ${skip})`}`, async () => {
  const { code, stdout, report } = await bench(["--scenario", "lan-w10", "--runs", "1", "--values", "2000", "--libpaxos3", LP, "--libpaxos3-seconds", "3"]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^scenario .* vs LibPaxos3$/m);
  expect(report.privateNetns).toBe(true);
  const [lp, ours] = report.results;
  expect([lp.scenario, lp.system, ours.scenario, ours.system]).toEqual(["lan-w10 (LibPaxos3)", "LibPaxos3", "lan-w10", "paxos"]);
  expect(lp.valuesPerS).toBeGreaterThan(0);
  expect(lp.deliveryMsMean).toBeGreaterThan(0);
  expect(Object.keys(lp.cpuUsPerValue)).toEqual(["acceptor-1", "acceptor-2", "acceptor-3", "proposer-1", "client-1", "all"]);
  expect(ours.vsLibpaxos3).toBeCloseTo(ours.all[0].valuesPerS / lp.all[0].valuesPerS, 2);
}, 60_000);
