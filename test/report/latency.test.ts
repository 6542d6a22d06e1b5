import { describe, expect, test } from "bun:test";
import { cdf, latencySeries, percentile, summarize, throughputSeries } from "../../src/report/latency.ts";
import { LATENCY_LOG_HEADER, latencyOfLine, parseLatencyLog, type LatencySample } from "../../src/report/latency-log.ts";

const T0 = 1_700_000_000_000;

/** Ten values, one every 100 ms, latencies 1..10 ms: every statistic can be checked by hand. */
const tenSamples: LatencySample[] = Array.from({ length: 10 }, (_, i) => ({ client: 1, seq: i + 1, submitUnixMs: T0 + i * 100, latencyMs: i + 1 }));

/** A deterministic pseudo-random stream (LCG), so failures replay. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomSamples(n: number, seed: number): LatencySample[] {
  const rnd = lcg(seed);
  return Array.from({ length: n }, (_, i) => ({ client: 1 + (i % 3), seq: i, submitUnixMs: T0 + i * 0.3, latencyMs: 0.5 - 2 * Math.log(1 - rnd()) }));
}

describe("parseLatencyLog", () => {
  test("reads seq, count, submit time and latency; skips comments, blank lines and CR; reads 0.2's lines without a count", () => {
    const text = `${LATENCY_LOG_HEADER}\n1\t2\t${T0}.125\t1.500\n\n# restarted\r\n3\t${T0 + 10}\t0.25\r\n`;
    expect(parseLatencyLog(text, 7, "latency-client-7.tsv")).toEqual([
      { client: 7, seq: 1, submitUnixMs: T0 + 0.125, latencyMs: 1.5 },
      { client: 7, seq: 2, submitUnixMs: T0 + 0.125, latencyMs: 1.5 },
      { client: 7, seq: 3, submitUnixMs: T0 + 10, latencyMs: 0.25 },
    ]);
    expect(parseLatencyLog("", 1, "f")).toEqual([]);
  });

  test("a malformed line is an error naming the file and the line number", () => {
    const bad = ["1\t2", "1\t2\t3\t4\t5", "x\t2\t3", "1\t\t3", "1\t2\tabc", "1.5\t2\t3", "1\t2\t-3", "1 2 3", "1\t0\t2\t3", "1\t1.5\t2\t3"];
    for (const line of bad) {
      const text = `${LATENCY_LOG_HEADER}\n1\t${T0}\t1.0\n${line}\n`;
      expect(() => parseLatencyLog(text, 1, "logs/latency-client-1.tsv")).toThrow(/^logs\/latency-client-1\.tsv line 3: /);
    }
    expect(() => parseLatencyLog("1\t2", 1, "a.tsv")).toThrow('a.tsv line 1: expected "seq<TAB>count<TAB>submit_unix_ms<TAB>latency_ms", found "1\\t2"');
  });
});

describe("summarize", () => {
  test("nearest-rank percentiles, mean, duration and throughput of a hand-checkable set", () => {
    const s = summarize(tenSamples);
    // Nearest rank of p among 10: ceil(p/10)-th smallest; p50 -> 5th, p90 -> 9th, p99 -> 10th.
    expect([s.latencyMsP50, s.latencyMsP90, s.latencyMsP99, s.latencyMsMax, s.latencyMsMean]).toEqual([5, 9, 10, 10, 5.5]);
    expect(s.count).toBe(10);
    expect(s.clients).toBe(1);
    expect(s.firstSubmitUnixMs).toBe(T0);
    // The last value is submitted at +900 ms and decided 10 ms later.
    expect(s.lastDecisionUnixMs).toBe(T0 + 910);
    expect(s.durationMs).toBe(910);
    expect(s.throughputValuesPerS).toBeCloseTo(10 / 0.91, 9);
  });

  test("percentile is an observed value: the smallest with at least p% at or below it", () => {
    const sorted = [10, 20, 30, 40];
    expect([0, 25, 26, 50, 75, 90, 100].map((p) => percentile(sorted, p))).toEqual([10, 10, 20, 20, 30, 40, 40]);
    expect(percentile([3], 99)).toBe(3);
    expect(() => percentile([], 50)).toThrow();
  });

  test("no samples: count 0 and null statistics, never NaN", () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(Object.values(s).filter((v) => v !== null && v !== 0)).toEqual([]);
  });

  test("one sample: its latency everywhere; zero duration leaves throughput null", () => {
    const one = summarize([{ client: 2, seq: 1, submitUnixMs: T0, latencyMs: 4 }]);
    expect([one.latencyMsP50, one.latencyMsP99, one.latencyMsMax, one.durationMs, one.throughputValuesPerS]).toEqual([4, 4, 4, 4, 250]);
    const instant = summarize([{ client: 2, seq: 1, submitUnixMs: T0, latencyMs: 0 }]);
    expect(instant.durationMs).toBe(0);
    expect(instant.throughputValuesPerS).toBeNull();
  });
});

describe("series for the charts", () => {
  test("the CDF rises monotonically to exactly 1 at the largest latency, within the point budget", () => {
    const samples = randomSamples(5000, 42);
    const points = cdf(samples, 200);
    expect(points.length).toBe(200);
    for (let i = 1; i < points.length; i++) {
      expect(points[i]!.latencyMs).toBeGreaterThanOrEqual(points[i - 1]!.latencyMs);
      expect(points[i]!.fraction).toBeGreaterThan(points[i - 1]!.fraction);
    }
    expect(points.at(-1)).toEqual({ latencyMs: Math.max(...samples.map((s) => s.latencyMs)), fraction: 1 });
    expect(cdf(tenSamples).map((p) => p.fraction)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(cdf([])).toEqual([]);
  });

  test("throughput buckets count every value once and keep empty buckets", () => {
    const samples = randomSamples(3000, 7);
    for (const bucketMs of [1, 7, 50, 1000, 10_000]) {
      const series = throughputSeries(samples, bucketMs);
      expect(series.reduce((n, p) => n + p.count, 0)).toBe(samples.length);
      for (const p of series) expect(p.valuesPerS).toBeCloseTo(p.count / (bucketMs / 1000), 9);
    }
    // Decisions at +1, +102, +203, ..., +910 ms: with 50 ms buckets every other bucket is empty.
    const gaps = throughputSeries(tenSamples, 50);
    expect(gaps.map((p) => p.count)).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(gaps[2]).toEqual({ timeS: 0.1, count: 1, valuesPerS: 20 });
    expect(throughputSeries([], 100)).toEqual([]);
    expect(() => throughputSeries(tenSamples, 0)).toThrow();
  });

  test("the latency series keeps every k-th value by submission time, whatever the input order", () => {
    const samples = randomSamples(4999, 3);
    const points = latencySeries(samples, 1000);
    expect(points.length).toBe(1000);
    expect(points[0]!.timeS).toBe(0);
    const shuffled = [...samples].sort((a, b) => (a.seq * 7919) % 4999 - (b.seq * 7919) % 4999);
    expect(latencySeries(shuffled, 1000)).toEqual(points);
    expect(latencySeries(tenSamples)).toEqual(tenSamples.map((s, i) => ({ timeS: i / 10, latencyMs: s.latencyMs })));
  });
});

describe("latencyOfLine", () => {
  test("reads a line's latency as parseLatencyLog does, and skips headers and broken lines", () => {
    const lines = ["# client 5", LATENCY_LOG_HEADER, "1\t1700000000000.5\t2.25", "2\t3\t1700000000001\t0", "garbage", "3\t1\t-1", "4\t1\tx", "5\t0\t1\t1"];
    expect(lines.map(latencyOfLine)).toEqual([undefined, undefined, { ms: 2.25, count: 1 }, { ms: 0, count: 3 }, undefined, undefined, undefined, undefined]);
    expect(latencyOfLine(lines[2]!)!.ms).toBe(parseLatencyLog(lines[2]!, 0, "f")[0]!.latencyMs);
    // A line of 3 values stands for three samples, one per seq.
    expect(parseLatencyLog(lines[3]!, 0, "f").map((s) => s.seq)).toEqual([2, 3, 4]);
  });
});
