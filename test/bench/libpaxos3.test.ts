/**
 * bench/libpaxos3.ts: reading LibPaxos3's client reports and /proc, and (only where a LibPaxos3
 * build and private network namespaces are there; CI has neither) one short real run.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { clkTck, cpuTicksOf, libpaxos3Missing, parseClientReport, runLibpaxos3 } from "../../bench/libpaxos3.ts";
import { netnsUnavailable, privateNetns } from "../../bench/netns.ts";

setDefaultTimeout(30_000);

test("a report line of LibPaxos3's sample client is read; other lines are not reports", () => {
  // sample/client.c, on_stats: "%d value/sec, %.2f Mbps, latency min %ld us max %ld us avg %ld us\n"
  expect(parseClientReport("58733 value/sec, 43.02 Mbps, latency min 472 us max 6386 us avg 1964 us")).toEqual({
    values: 58733,
    mbps: 43.02,
    minUs: 472,
    maxUs: 6386,
    avgUs: 1964,
  });
  expect(parseClientReport("0 value/sec, 0.00 Mbps, latency min 0 us max 0 us avg 0 us")?.values).toBe(0);
  expect(parseClientReport("Connected to proposer")).toBeUndefined();
  expect(parseClientReport("Connection refused")).toBeUndefined();
});

test("utime + stime are fields 14 and 15 of /proc/PID/stat, after a name that may hold spaces and parentheses", () => {
  const rest = Array.from({ length: 50 }, (_, i) => String(i + 3)); // fields 3.. hold their own number
  rest[0] = "S";
  expect(cpuTicksOf(`4242 (a (b) c) ${rest.join(" ")}`)).toBe(14 + 15);
  expect(clkTck()).toBeGreaterThan(0);
});

test("a missing build is named: the directory, then the first sample program not there", () => {
  expect(libpaxos3Missing("/nonexistent/libpaxos3")).toBe("/nonexistent/libpaxos3 not found");
  const dir = mkdtempSync(join(tmpdir(), "paxos-libpaxos3-test-"));
  mkdirSync(join(dir, "sample"));
  writeFileSync(join(dir, "sample/acceptor"), "");
  expect(libpaxos3Missing(dir)).toBe(`${join(dir, "sample/proposer")} not found`);
});

const LP = process.env.LIBPAXOS3_DIR ?? join(homedir(), ".cache/libpaxos3-build");
const skip = libpaxos3Missing(LP) ?? (await netnsUnavailable());

test.skipIf(skip !== undefined)(`LibPaxos3 runs 10 outstanding for 4 s in a private namespace${skip === undefined ? "" : ` (skipped: ${skip})`}`, async () => {
  const ns = await privateNetns();
  try {
    const r = await runLibpaxos3({ dir: LP, outstanding: 10, valueBytes: 64, seconds: 4, warmup: 2, prefix: ns.prefix });
    expect(r.reports).toHaveLength(4);
    expect(r.valuesPerS).toBeGreaterThan(0);
    expect(r.measuredValues).toBe(r.reports[2]!.values + r.reports[3]!.values);
    expect(Object.keys(r.cpuUsPerValue)).toEqual(["acceptor-1", "acceptor-2", "acceptor-3", "proposer-1", "client-1", "all"]);
    expect(r.cpuUsPerValue.all).toBeGreaterThan(0);
  } finally {
    await ns.close();
  }
});
