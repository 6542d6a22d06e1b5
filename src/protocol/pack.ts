import { ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, type Effects, type Proposal, type Vote } from "./messages.ts";

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
/** Decided instances as Decision messages to the learners, at most `datagramsMax` datagrams. */
export function sendDecisions(fx: Effects, decided: readonly Proposal[], datagramBytesMax: number, datagramsMax: number): void {
  for (const chunk of chunkBySize(decided, proposalBytes, datagramBytesMax).slice(0, datagramsMax)) {
    fx.send("learners", { t: "decision", decided: chunk });
  }
}
