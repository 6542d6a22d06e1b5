/**
 * Values one by one, for tests: the protocol moves them in runs (batch.ts); tests often think in
 * single values. A batch of values packs consecutive seqs of one client into one run, as a client
 * does; `valuesOf` unpacks a batch back into values.
 */
import { Batch, linesOf, splitLines, type Run } from "../../src/protocol/batch.ts";

/** One client value (its data has no newline: a value is a line). */
export interface Value {
  readonly client: number;
  readonly seq: number;
  /** The client's acknowledged prefix when it sent the value. */
  readonly floor: number;
  readonly data: Uint8Array;
}

/** Runs of the values: consecutive seqs of one client (and one floor) share a run. */
export function runsOf(values: readonly Value[]): Run[] {
  const runs: Run[] = [];
  let k = 0;
  while (k < values.length) {
    const v = values[k]!;
    let j = k + 1;
    while (j < values.length && values[j]!.client === v.client && values[j]!.seq === v.seq + (j - k) && values[j]!.floor === v.floor) j++;
    runs.push({ client: v.client, first: v.seq, floor: v.floor, count: j - k, lines: linesOf(values.slice(k, j).map((x) => x.data)) });
    k = j;
  }
  return runs;
}

export const batchOf = (values: readonly Value[]): Batch => Batch.ofRuns(runsOf(values));

/** The values of a batch, in order. */
export function valuesOf(batch: Batch): Value[] {
  const out: Value[] = [];
  for (const r of batch.runList()) splitLines(r.lines).forEach((data, k) => out.push({ client: r.client, seq: r.first + k, floor: r.floor, data }));
  return out;
}

/** The values of runs (a learner's Effects.delivered, a Submit's runs), in order. */
export function valuesOfRuns(runs: readonly { client: number; first: number; count: number; lines: Uint8Array; floor?: number }[]): Value[] {
  const out: Value[] = [];
  for (const r of runs) splitLines(r.lines).forEach((data, k) => out.push({ client: r.client, seq: r.first + k, floor: r.floor ?? 0, data }));
  return out;
}
