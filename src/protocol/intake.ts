/**
 * A proposer's side of the clients: taking in their runs (dedup by seq ranges, runs larger than a
 * batch cut in parts), and finding the values of a client nobody decides, to forward to the
 * leader. The values themselves live in PendingValues (pending.ts).
 */
import { Batch, linesPrefix, runBytes, runHeaderBytes, skipLines, type Run } from "./batch.ts";
import type { Submit } from "./messages.ts";
import { chunkBySize } from "./pack.ts";
import type { PendingValues } from "./pending.ts";
import { BATCH_FRAMING_BYTES } from "./wire-budget.ts";

/** Values forwarded to the leader per starving check, at most. */
const FORWARD_VALUES_MAX = 1024;

export interface IntakeLimits {
  readonly batchBytesMax: number;
  readonly pendingValuesMax: number;
}

/**
 * Offers a Submit's runs to `values`. Ranges already decided are pushed to `ackRanges` as
 * (client, first, count): their acks were lost. Returns how many values were refused for being
 * larger than any batch (a client configured with another batch.bytesMax).
 */
export function takeIn(values: PendingValues, msg: Submit, limits: IntakeLimits, nowMs: number, ackRanges: number[]): number {
  let oversize = 0;
  const fromClient = msg.via === 0;
  for (const c = msg.runs.cursor(); c.next(); ) {
    const client = c.client;
    const offer = (first: number, count: number, lines: Uint8Array): void =>
      values.offer(client, first, c.floor, count, lines, nowMs, fromClient, limits.pendingValuesMax, (s, e) => ackRanges.push(client, s, e - s));
    if (BATCH_FRAMING_BYTES + runBytes(client, c.first, c.floor, c.count, c.linesEnd - c.linesStart) <= limits.batchBytesMax) {
      offer(c.first, c.count, c.lines);
      continue;
    }
    // A run larger than a batch (its client has another batch.bytesMax): in parts that fit; a
    // value no batch holds is refused (a 2A holding it might not fit a datagram).
    const lines = c.lines;
    const room = limits.batchBytesMax - BATCH_FRAMING_BYTES - runHeaderBytes(client, c.end, c.floor, c.count, lines.length);
    for (let seq = c.first, at = 0; seq < c.end; ) {
      const part = linesPrefix(lines, at, lines.length, c.end - seq, room);
      if (part.count === 0) {
        oversize++;
        at = skipLines(lines, at, 1);
        seq++;
        continue;
      }
      offer(seq, part.count, lines.subarray(at, part.end));
      seq += part.count;
      at = part.end;
    }
  }
  return oversize;
}

/**
 * A client with undecided values resends them at least every clientRetransmitMs; one silent for
 * three times that has all its values decided (it got their acks), or is gone: values of it still
 * waiting are no reason to take over.
 */
export function clientSilent(values: PendingValues, client: number, nowMs: number, clientRetransmitMs: number): boolean {
  return nowMs - (values.peek(client)?.heardAtMs ?? -Infinity) > 3 * clientRetransmitMs;
}

/**
 * The values waiting for `waitedMs` whose client has had nothing decided since they arrived (the
 * leader may not hear that client), at most FORWARD_VALUES_MAX, as runs.
 */
export function starvingRuns(values: PendingValues, nowMs: number, waitedMs: number, silent: (client: number) => boolean): { runs: Run[]; count: number } {
  const runs: Run[] = [];
  let count = 0;
  values.forEachOldest((q, book, waiting) => {
    if (nowMs - q.heardAtMs < waitedMs || count >= FORWARD_VALUES_MAX) return false;
    const nothingDecided = book.decidedAtMs < q.heardAtMs;
    if (!nothingDecided || silent(q.client)) return true;
    waiting.forEachIn(q.first, q.first + q.count, (s, e) => {
      const start = skipLines(q.lines, 0, s - q.first);
      runs.push({ client: q.client, first: s, floor: q.floor, count: e - s, lines: q.lines.subarray(start, skipLines(q.lines, start, e - s)) });
      count += e - s;
    });
    return true;
  });
  return { runs, count };
}

/** Runs as batches of at most `datagramBytesMax` each (the Submits of a forward to the proposers). */
export function runsInBatches(runs: readonly Run[], datagramBytesMax: number): Batch[] {
  const runSize = (r: Run): number => runBytes(r.client, r.first, r.floor, r.count, r.lines.length);
  return chunkBySize(runs, runSize, datagramBytesMax).map((c) => Batch.ofRuns(c));
}
