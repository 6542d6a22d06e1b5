import { valueWireBytes } from "./batch.ts";
import { ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, type Proposal, type Value, type Vote } from "./messages.ts";

/**
 * Splits items into runs whose summed size, plus one message overhead, fits `bytesMax`. An item
 * larger than the budget still goes alone in a run (callers bound item sizes beforehand).
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
export const valueBytes = (v: Value): number => valueWireBytes(v);
