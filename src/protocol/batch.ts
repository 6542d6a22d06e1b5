import { assert } from "./assert.ts";
import { CLIENT_NUMBER_MAX } from "./id-limits.ts";
import { readVarint, varintBytes, writeVarint } from "./varint.ts";
import { BATCH_FRAMING_BYTES, SEQ_MAX, UDP_PAYLOAD_BYTES_MAX } from "./wire-budget.ts";

/** The byte that ends every value: a value is a line. */
export const NEWLINE = 0x0a;

/**
 * A run: consecutive values of one client, seqs [first, first + count), as they travel: one
 * header and the values' bytes, each value a line (its bytes, then a newline; no other newline).
 * `floor` is the client's acknowledged prefix when it sent the run: every seq of the client below
 * it was decided before (a fact proposers use to drop resends; learners must not, see DESIGN.md).
 */
export interface Run {
  readonly client: number;
  readonly first: number;
  readonly floor: number;
  readonly count: number;
  /** `count` lines, each ending with a newline. */
  readonly lines: Uint8Array;
}

/**
 * What one Synod instance decides, and what a Submit carries: runs of values, packed. Each run is
 * `varint client, varint first, varint first − floor, varint count, varint byte length, lines`;
 * the empty batch is the no-op. Values are never objects: roles move runs as bytes (a proposer
 * copies them into batches, acceptors store and forward the bytes, a learner writes the lines
 * out), so the per-value cost is the bytes copied.
 */
export class Batch {
  static readonly EMPTY = new Batch(new Uint8Array(0), 0, 0);

  private constructor(
    /** The runs as they travel. */
    readonly packed: Uint8Array,
    /** Number of runs. */
    readonly runs: number,
    /** Number of values. */
    readonly length: number,
  ) {}

  /** Validates packed bytes (see scanRuns); undefined when malformed. */
  static parse(bytes: Uint8Array): Batch | undefined {
    const shape = scanRuns(bytes);
    if (shape === undefined) return undefined;
    return shape.runs === 0 ? Batch.EMPTY : new Batch(bytes, shape.runs, shape.values);
  }

  /** Bytes a BatchBuilder wrote from validated runs (not scanned again). */
  static built(packed: Uint8Array, runs: number, values: number): Batch {
    return new Batch(packed, runs, values);
  }

  /** Packs runs (tests, forwards and takeovers; a leader fills batches with BatchBuilder). */
  static ofRuns(runs: readonly Run[]): Batch {
    if (runs.length === 0) return Batch.EMPTY;
    let size = 0;
    for (const r of runs) size += runBytes(r.client, r.first, r.floor, r.count, r.lines.length);
    const b = new BatchBuilder(size);
    for (const r of runs) b.add(r.client, r.first, r.floor, r.count, r.lines, 0, r.lines.length);
    return b.finish();
  }

  /** A cursor over the runs, reading headers only (the bytes were validated). */
  cursor(): RunCursor {
    return new RunCursor(this.packed);
  }

  /** The runs as objects (their lines are views into the packed bytes). */
  runList(): Run[] {
    const out: Run[] = [];
    for (const c = this.cursor(); c.next(); ) out.push(c.run());
    return out;
  }

  /** The same runs (the same packed bytes): a round proposes one batch per instance. */
  sameAs(other: Batch): boolean {
    if (this === other) return true;
    if (this.length !== other.length) return false;
    const a = this.packed;
    const b = other.packed;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The batch's size in a message: its packed runs and their framing at most (BATCH_FRAMING_BYTES). */
  get wireBytes(): number {
    return this.packed.length + BATCH_FRAMING_BYTES;
  }
}

/**
 * Reads a batch's runs one by one without allocating: after `next()` returns true, the fields
 * describe the current run, whose lines are `bytes[linesStart, linesEnd)`.
 */
export class RunCursor {
  client = 0;
  first = 0;
  floor = 0;
  count = 0;
  linesStart = 0;
  linesEnd = 0;
  private readonly r = { at: 0 };

  constructor(readonly bytes: Uint8Array) {}

  next(): boolean {
    const b = this.bytes;
    const r = this.r;
    r.at = this.linesEnd;
    if (r.at >= b.length) return false;
    this.client = readVarint(b, r, CLIENT_NUMBER_MAX)!;
    this.first = readVarint(b, r, SEQ_MAX)!;
    this.floor = this.first - readVarint(b, r, this.first)!;
    this.count = readVarint(b, r, UDP_PAYLOAD_BYTES_MAX)!;
    const length = readVarint(b, r, UDP_PAYLOAD_BYTES_MAX)!;
    this.linesStart = r.at;
    this.linesEnd = r.at + length;
    return true;
  }

  /** The end of the current run's seqs (exclusive). */
  get end(): number {
    return this.first + this.count;
  }

  get lines(): Uint8Array {
    return this.bytes.subarray(this.linesStart, this.linesEnd);
  }

  run(): Run {
    return { client: this.client, first: this.first, floor: this.floor, count: this.count, lines: this.lines };
  }
}

/** Bytes a run's header takes. */
export function runHeaderBytes(client: number, first: number, floor: number, count: number, linesBytes: number): number {
  return varintBytes(client) + varintBytes(first) + varintBytes(first - floor) + varintBytes(count) + varintBytes(linesBytes);
}

/** Bytes a packed run takes, header and lines. */
export const runBytes = (client: number, first: number, floor: number, count: number, linesBytes: number): number =>
  runHeaderBytes(client, first, floor, count, linesBytes) + linesBytes;

/**
 * Builds a batch by copying runs (or parts of runs: whole lines) into one buffer of at most
 * `bytesMax` packed bytes.
 */
export class BatchBuilder {
  private readonly out: Uint8Array;
  private at = 0;
  private runs = 0;
  private values = 0;

  constructor(readonly bytesMax: number) {
    // One scratch buffer for every builder (a batch is built, then copied out at its size): a
    // batch kept long (a proposer keeps decided ones) holds only its own bytes.
    if (scratch.length < bytesMax) scratch = new Uint8Array(Math.max(bytesMax, 2 * scratch.length));
    this.out = scratch;
  }

  /** Packed bytes still free. */
  get room(): number {
    return this.bytesMax - this.at;
  }

  get valueCount(): number {
    return this.values;
  }

  get runCount(): number {
    return this.runs;
  }

  /** Appends a run whose lines are `lines[start, end)` (it must fit: see `room`). */
  add(client: number, first: number, floor: number, count: number, lines: Uint8Array, start: number, end: number): void {
    assert(count > 0 && end > start, "a run holds at least one value");
    const out = this.out;
    let at = this.at;
    at = writeVarint(out, at, client);
    at = writeVarint(out, at, first);
    at = writeVarint(out, at, first - floor);
    at = writeVarint(out, at, count);
    at = writeVarint(out, at, end - start);
    assert(at + end - start <= this.bytesMax, "a run added to a batch fits it");
    out.set(start === 0 && end === lines.length ? lines : lines.subarray(start, end), at);
    this.at = at + end - start;
    this.runs++;
    this.values += count;
  }

  /** The batch built (its bytes copied out; the builder is not used after). */
  finish(): Batch {
    if (this.runs === 0) return Batch.EMPTY;
    return Batch.built(this.out.slice(0, this.at), this.runs, this.values);
  }
}

let scratch = new Uint8Array(64 * 1024);

/**
 * The longest prefix of whole lines of `bytes[start, end)` with at most `countMax` lines and
 * `bytesMax` bytes: its line count and where it ends (count 0: not even one line fits).
 */
export function linesPrefix(bytes: Uint8Array, start: number, end: number, countMax: number, bytesMax: number): { count: number; end: number } {
  let count = 0;
  let at = start;
  const limit = Math.min(end, start + bytesMax);
  while (count < countMax) {
    const nl = bytes.indexOf(NEWLINE, at);
    if (nl < 0 || nl >= limit) break;
    count++;
    at = nl + 1;
  }
  return { count, end: at };
}

/** Where the `skip`-th line of `bytes[start, ...)` begins (skip whole lines). */
export function skipLines(bytes: Uint8Array, start: number, skip: number): number {
  let at = start;
  for (let k = 0; k < skip; k++) at = bytes.indexOf(NEWLINE, at) + 1;
  return at;
}

/** Lines in bytes[start, end) that end before `end`, and whether the last byte ends a line. */
function countLines(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE, start); at >= 0 && at < end; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

/**
 * Validates packed runs: every header field in range (client ≤ CLIENT_NUMBER_MAX, a seq range
 * within SEQ_MAX, floor ≤ first, count ≥ 1), the lines within the bytes, exactly `count`
 * newlines and the last byte a newline. Returns the number of runs and values, or undefined.
 */
export function scanRuns(bytes: Uint8Array): { runs: number; values: number } | undefined {
  const r = { at: 0 };
  let runs = 0;
  let values = 0;
  while (r.at < bytes.length) {
    const client = readVarint(bytes, r, CLIENT_NUMBER_MAX);
    const first = readVarint(bytes, r, SEQ_MAX);
    if (client === undefined || first === undefined) return undefined;
    const below = readVarint(bytes, r, first);
    const count = readVarint(bytes, r, UDP_PAYLOAD_BYTES_MAX);
    const length = readVarint(bytes, r, UDP_PAYLOAD_BYTES_MAX);
    if (below === undefined || count === undefined || length === undefined || count === 0) return undefined;
    if (first + count - 1 > SEQ_MAX) return undefined;
    const start = r.at;
    const end = start + length;
    if (end > bytes.length || bytes[end - 1] !== NEWLINE || countLines(bytes, start, end) !== count) return undefined;
    r.at = end;
    runs++;
    values += count;
  }
  return { runs, values };
}

/** Values, one line each (no newline inside), as the lines of a run. */
export function linesOf(values: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const v of values) size += v.length + 1;
  const out = new Uint8Array(size);
  let at = 0;
  for (const v of values) {
    out.set(v, at);
    at += v.length;
    out[at++] = NEWLINE;
  }
  return out;
}

/** The values of a run's lines (views, without their newlines). */
export function splitLines(lines: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < lines.length) {
    const nl = lines.indexOf(NEWLINE, at);
    out.push(lines.subarray(at, nl));
    at = nl + 1;
  }
  return out;
}
