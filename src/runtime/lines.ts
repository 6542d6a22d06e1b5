import { concatBytes } from "../bytes.ts";

export interface Line {
  /** 1-based line number. */
  readonly number: number;
  readonly bytes: Uint8Array;
  /** Length in bytes (also for a line too long to keep). */
  readonly length: number;
  readonly tooLong: boolean;
}

/**
 * Splits a byte stream into lines at "\n" (the newline is not part of the value; a last line
 * without newline still counts), yielding the lines of each chunk together so that callers can
 * handle them in bulk. A line longer than `maxBytes` is not kept in memory: it comes out with
 * `tooLong` and its length only.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Line[]> {
  let parts: Uint8Array[] = [];
  let length = 0;
  let number = 0;
  const emit = (): Line => {
    number++;
    const tooLong = length > maxBytes;
    const bytes = tooLong ? new Uint8Array(0) : concatBytes(parts, length);
    const line = { number, bytes, length, tooLong };
    parts = [];
    length = 0;
    return line;
  };
  for await (const chunk of stream) {
    const lines: Line[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      keep(chunk.subarray(start, nl));
      lines.push(emit());
      start = nl + 1;
    }
    keep(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (length > 0) yield [emit()];

  function keep(piece: Uint8Array): void {
    if (piece.length === 0) return;
    length += piece.length;
    if (length <= maxBytes) parts.push(piece.slice());
    else parts = [EMPTY]; // over the limit: only the length is kept
  }
}

const EMPTY = new Uint8Array(0);
