/**
 * The numbers a report shows from the latency logs of a run (their format: latency-log.ts).
 * Pure: samples in, values out; reading files is the caller's job.
 */

import type { LatencySample } from "./latency-log.ts";

/** Statistics of a run; `null` where there is nothing to measure (no samples, zero duration). */
export interface LatencySummary {
  count: number;
  clients: number;
  firstSubmitUnixMs: number | null;
  lastDecisionUnixMs: number | null;
  durationMs: number | null;
  throughputValuesPerS: number | null;
  latencyMsP50: number | null;
  latencyMsP90: number | null;
  latencyMsP99: number | null;
  latencyMsMax: number | null;
  latencyMsMean: number | null;
}

export interface CdfPoint {
  latencyMs: number;
  /** Fraction of samples with a latency at most `latencyMs`, in (0, 1]. */
  fraction: number;
}

export interface ThroughputPoint {
  /** Start of the bucket, seconds since the first submission. */
  timeS: number;
  /** Values decided in the bucket. */
  count: number;
  valuesPerS: number;
}

export interface LatencyPoint {
  /** Submission time, seconds since the first submission. */
  timeS: number;
  latencyMs: number;
}

const decisionUnixMs = (s: LatencySample): number => s.submitUnixMs + s.latencyMs;

/**
 * Nearest-rank percentile of ascending `sorted` (non-empty): the smallest sample such that at
 * least p% of all samples are at most it, i.e. `sorted[ceil(p/100 * n) - 1]` (rank at least 1).
 * It is always an observed value, never an interpolation.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of no samples");
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarize(samples: readonly LatencySample[]): LatencySummary {
  if (samples.length === 0) return emptySummary();
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  let first = Infinity;
  let last = -Infinity;
  let sum = 0;
  for (const s of samples) {
    first = Math.min(first, s.submitUnixMs);
    last = Math.max(last, decisionUnixMs(s));
    sum += s.latencyMs;
  }
  const durationMs = last - first;
  return {
    count: samples.length,
    clients: new Set(samples.map((s) => s.client)).size,
    firstSubmitUnixMs: first,
    lastDecisionUnixMs: last,
    durationMs,
    throughputValuesPerS: durationMs > 0 ? samples.length / (durationMs / 1000) : null,
    latencyMsP50: percentile(latencies, 50),
    latencyMsP90: percentile(latencies, 90),
    latencyMsP99: percentile(latencies, 99),
    latencyMsMax: latencies[latencies.length - 1]!,
    latencyMsMean: sum / samples.length,
  };
}

function emptySummary(): LatencySummary {
  return {
    count: 0,
    clients: 0,
    firstSubmitUnixMs: null,
    lastDecisionUnixMs: null,
    durationMs: null,
    throughputValuesPerS: null,
    latencyMsP50: null,
    latencyMsP90: null,
    latencyMsP99: null,
    latencyMsMax: null,
    latencyMsMean: null,
  };
}

/**
 * The empirical CDF at most `points` points: with more samples, the points are evenly spaced
 * ranks, always including the largest sample (fraction 1), so the tail stays visible.
 */
export function cdf(samples: readonly LatencySample[], points = 200): CdfPoint[] {
  if (!(points >= 1)) throw new Error(`cdf: points must be at least 1, got ${points}`);
  const sorted = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const n = sorted.length;
  const take = Math.min(n, Math.floor(points));
  const out: CdfPoint[] = [];
  for (let j = 1; j <= take; j++) {
    const index = Math.ceil((j * n) / take) - 1;
    out.push({ latencyMs: sorted[index]!, fraction: (index + 1) / n });
  }
  return out;
}

/** Bucket count above which a throughput series is surely a mistake (a tiny bucket for a long run). */
export const THROUGHPUT_BUCKETS_MAX = 100_000;

/**
 * Values decided per second in consecutive buckets of `bucketMs`, from the first submission to
 * the last decision; empty buckets are kept so a stall shows as zero. The last bucket is usually
 * cut short by the end of the run, so its rate reads low.
 */
export function throughputSeries(samples: readonly LatencySample[], bucketMs: number): ThroughputPoint[] {
  if (!(bucketMs > 0) || !Number.isFinite(bucketMs)) throw new Error(`throughputSeries: bucketMs must be positive, got ${bucketMs}`);
  const summary = summarize(samples);
  if (summary.firstSubmitUnixMs === null || summary.durationMs === null) return [];
  const first = summary.firstSubmitUnixMs;
  const buckets = Math.floor(summary.durationMs / bucketMs) + 1;
  if (buckets > THROUGHPUT_BUCKETS_MAX) throw new Error(`throughputSeries: ${buckets} buckets of ${bucketMs} ms, at most ${THROUGHPUT_BUCKETS_MAX}`);
  const counts = new Array<number>(buckets).fill(0);
  for (const s of samples) {
    const b = Math.min(buckets - 1, Math.floor((decisionUnixMs(s) - first) / bucketMs));
    counts[b]! += 1;
  }
  return counts.map((count, b) => ({ timeS: (b * bucketMs) / 1000, count, valuesPerS: count / (bucketMs / 1000) }));
}

/**
 * Latency against submission time, at most `maxPoints` points: sorted by submission (then
 * client, seq, so the result does not depend on input order), every k-th sample is kept.
 */
export function latencySeries(samples: readonly LatencySample[], maxPoints = 2000): LatencyPoint[] {
  if (!(maxPoints >= 1)) throw new Error(`latencySeries: maxPoints must be at least 1, got ${maxPoints}`);
  if (samples.length === 0) return [];
  const sorted = [...samples].sort((a, b) => a.submitUnixMs - b.submitUnixMs || a.client - b.client || a.seq - b.seq);
  const first = sorted[0]!.submitUnixMs;
  const k = Math.ceil(sorted.length / Math.floor(maxPoints));
  const out: LatencyPoint[] = [];
  for (let i = 0; i < sorted.length; i += k) {
    const s = sorted[i]!;
    out.push({ timeS: (s.submitUnixMs - first) / 1000, latencyMs: s.latencyMs });
  }
  return out;
}
