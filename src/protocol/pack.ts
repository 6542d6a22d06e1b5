import type { Effects, Proposal, Vote } from "./messages.ts";
import { ackRangeBytes, ENTRY_OVERHEAD_BYTES, instanceBytes, MESSAGE_FIXED_BYTES, MESSAGE_OVERHEAD_BYTES } from "./wire-budget.ts";

/**
 * Splits items into runs whose summed size, plus one message overhead, fits `bytesMax`. An item
 * larger than the budget still goes alone in a run: callers bound item sizes beforehand (the
 * config check leaves BATCH_MARGIN_BYTES for the message around one batch, see wire-budget.ts).
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, bytesMax: number): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = MESSAGE_OVERHEAD_BYTES;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && bytes + size > bytesMax) {
      chunks.push(chunk);
      chunk = [];
      bytes = MESSAGE_OVERHEAD_BYTES;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export const proposalBytes = (p: Proposal): number => p.cVal.wireBytes + ENTRY_OVERHEAD_BYTES;
export const voteBytes = (v: Vote): number => v.vVal.wireBytes + ENTRY_OVERHEAD_BYTES;
/**
 * Decided instances as Decision messages to the learners, at most `datagramsMax` datagrams, each
 * saying that every instance below `decidedBelow` is decided; with `hint`, one (with no
 * instance) also when no batch is known, for that fact alone.
 */
export function sendDecisions(fx: Effects, decided: readonly Proposal[], decidedBelow: number, hint: boolean, datagramBytesMax: number, datagramsMax: number): void {
  const chunks = chunkBySize(decided, proposalBytes, datagramBytesMax).slice(0, datagramsMax);
  if (chunks.length === 0 && hint) chunks.push([]);
  for (const chunk of chunks) fx.send("learners", { t: "decision", decided: chunk, decidedBelow });
}

/**
 * Ack ranges (flat client, first, count triples) in pieces that each fit one Ack of
 * `datagramBytesMax` bytes, by their exact packed size. One piece (the array itself, not a copy)
 * when all fit.
 */
export function chunkAckRanges(ranges: readonly number[], datagramBytesMax: number): (readonly number[])[] {
  const room = datagramBytesMax - MESSAGE_FIXED_BYTES.ack;
  const chunks: (readonly number[])[] = [];
  let from = 0;
  let bytes = 0;
  for (let k = 0; k + 2 < ranges.length; k += 3) {
    const size = ackRangeBytes(ranges[k]!, ranges[k + 1]!, ranges[k + 2]!);
    if (k > from && bytes + size > room) {
      chunks.push(ranges.slice(from, k));
      from = k;
      bytes = 0;
    }
    bytes += size;
  }
  chunks.push(from === 0 ? ranges : ranges.slice(from));
  return chunks;
}

/**
 * A 2B's instances in runs of at most `countMax` that each fit one 2B of `datagramBytesMax`
 * bytes (delta-packed: consecutive instances take a byte each, scattered ones up to 8). One run
 * (the array itself) when all fit, also when there are none.
 */
export function chunkInstances(insts: readonly number[], datagramBytesMax: number, countMax: number): (readonly number[])[] {
  const room = datagramBytesMax - MESSAGE_FIXED_BYTES["2b"];
  const chunks: (readonly number[])[] = [];
  let from = 0;
  let bytes = 0;
  for (let k = 0; k < insts.length; k++) {
    let size = instanceBytes(k === from ? 0 : insts[k - 1]!, insts[k]!);
    if (k > from && (k - from >= countMax || bytes + size > room)) {
      chunks.push(insts.slice(from, k));
      from = k;
      bytes = 0;
      size = instanceBytes(0, insts[k]!);
    }
    bytes += size;
  }
  chunks.push(from === 0 ? insts : insts.slice(from));
  return chunks;
}
