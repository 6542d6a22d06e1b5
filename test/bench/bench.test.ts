/** The benchmark command runs (its figures are not checked here: benchmarks are not tests). */
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";


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
