/**
 * A client's stdin as values: one value per line. Lines are handed on in bulk, as the bytes they
 * came in (a slab of whole lines, each ending with its newline), never one object per line: the
 * client sends them as runs, and learners write them out as they are.
 */

/** Whole lines, `count` of them, each ending with "\n" (a last line without one gets it added). */
export interface Slab {
  readonly kind: "lines";
  readonly lines: Uint8Array;
  readonly count: number;
}

/** A line over the limit: not kept, only said (1-based line number, length without its newline). */
export interface TooLong {
  readonly kind: "too-long";
  readonly number: number;
  readonly length: number;
}

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines at "\n" (a last line without a newline still counts), yielding
 * per chunk the slabs of lines that fit `maxBytes` (bytes without the newline) and the lines over
 * it, in order. A line over the limit is never kept in memory, only its length.
 */
export async function* readLineSlabs(stream: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<(Slab | TooLong)[]> {
  /** A line begun in an earlier chunk: its parts (none once it is over the limit) and length. */
  let carry: Uint8Array[] = [];
  let carryLength = 0;
  let number = 0;
  for await (const chunk of stream) {
    const out: (Slab | TooLong)[] = [];
    let at = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (carryLength > 0 || carry.length > 0) {
      // The chunk finishes the carried line (or continues it).
      const end = nl < 0 ? chunk.length : nl;
      carryLength += end;
      if (carryLength <= maxBytes) carry.push(chunk.slice(0, end));
      else carry = [];
      if (nl < 0) continue;
      number++;
      if (carryLength <= maxBytes) out.push({ kind: "lines", lines: joinLine(carry, carryLength), count: 1 });
      else out.push({ kind: "too-long", number, length: carryLength });
      carry = [];
      carryLength = 0;
      at = nl + 1;
      nl = chunk.indexOf(NEWLINE, at);
    }
    // Whole lines of this chunk, as one slab between over-long ones.
    let slabStart = at;
    let count = 0;
    for (; nl >= 0; nl = chunk.indexOf(NEWLINE, at)) {
      number++;
      if (nl - at > maxBytes) {
        if (count > 0) out.push({ kind: "lines", lines: chunk.slice(slabStart, at), count });
        out.push({ kind: "too-long", number, length: nl - at });
        count = 0;
        slabStart = nl + 1;
      } else count++;
      at = nl + 1;
    }
    if (count > 0) out.push({ kind: "lines", lines: chunk.slice(slabStart, at), count });
    if (at < chunk.length) {
      carryLength = chunk.length - at;
      carry = carryLength <= maxBytes ? [chunk.slice(at)] : [];
      if (carryLength === 0) carry = [];
    }
    if (out.length > 0) yield out;
  }
  if (carryLength > 0) {
    number++;
    yield [carryLength <= maxBytes ? { kind: "lines", lines: joinLine(carry, carryLength), count: 1 } : { kind: "too-long", number, length: carryLength }];
  }
}

/** One line from its parts, with its newline. */
function joinLine(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length + 1);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[length] = NEWLINE;
  return out;
}
