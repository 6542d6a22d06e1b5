import { CLIENT_NUMBER_MAX } from "./id-limits.ts";
import type { Value } from "./messages.ts";
import { readVarint, varintBytes, writeVarint } from "./varint.ts";
import { BATCH_FRAMING_BYTES, SEQ_MAX } from "./wire-budget.ts";


/**
 * What one Synod instance decides: a batch of values (the empty batch is the no-op).
 *
 * A batch has two forms, each made from the other only when asked: the values, and the packed
 * bytes that travel on the wire (varint client, varint seq, varint seq − floor, varint length,
 * data; repeated).
 * Acceptors only store and forward batches, so they never unpack them; a proposer re-packs
 * nothing it received; a learner unpacks each decided batch once.
 */
export class Batch {
  static readonly EMPTY = new Batch([], new Uint8Array(0), 0);

  private size = -1;

  private constructor(
    private vals: readonly Value[] | undefined,
    private bytes: Uint8Array | undefined,
    /** Number of values. */
    readonly length: number,
  ) {}

  static of(values: readonly Value[]): Batch {
    return values.length === 0 ? Batch.EMPTY : new Batch(values, undefined, values.length);
  }

  /** Wraps packed bytes that `scanPacked` accepted (it returned `count`). */
  static fromPacked(bytes: Uint8Array, count: number): Batch {
    return count === 0 ? Batch.EMPTY : new Batch(undefined, bytes, count);
  }

  get values(): readonly Value[] {
    this.vals ??= unpackValues(this.bytes!);
    return this.vals;
  }

  get packed(): Uint8Array {
    this.bytes ??= packValues(this.vals!);
    return this.bytes;
  }

  /**
   * The same batch holding only its packed bytes, for keeping long: unpacked values are views
   * into the datagrams they came in (a Submit's), which they would keep alive.
   */
  packedOnly(): Batch {
    return this.vals === undefined ? this : new Batch(undefined, this.packed, this.length);
  }

  /**
   * Calls `fn` with each value's id and floor, without building values when the batch is still
   * packed (a proposer that only follows decisions needs no data).
   */
  forEachId(fn: (client: number, seq: number, floor: number) => void): void {
    if (this.vals !== undefined) {
      for (const v of this.vals) fn(v.client, v.seq, v.floor);
      return;
    }
    const bytes = this.bytes!;
    const r = { at: 0 };
    while (r.at < bytes.length) {
      const client = readVarint(bytes, r, CLIENT_NUMBER_MAX)!;
      const seq = readVarint(bytes, r, SEQ_MAX)!;
      const floor = seq - readVarint(bytes, r, seq)!;
      const length = readVarint(bytes, r, bytes.length)!; // read before moving past the data
      r.at += length;
      fn(client, seq, floor);
    }
  }

  /** The same values (the same packed bytes): a round proposes one batch per instance. */
  sameAs(other: Batch): boolean {
    if (this === other) return true;
    if (this.length !== other.length) return false;
    const a = this.packed;
    const b = other.packed;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Upper bound of the batch's size in a message: its packed values and their framing at most (BATCH_FRAMING_BYTES). */
  get wireBytes(): number {
    if (this.size < 0) {
      let n = BATCH_FRAMING_BYTES;
      if (this.bytes !== undefined) n += this.bytes.length;
      else for (const v of this.vals!) n += valueWireBytes(v);
      this.size = n;
    }
    return this.size;
  }
}

/**
 * Bytes one value takes packed, exactly (batches are filled by it: an estimate above the real
 * cost would leave room unused in every datagram).
 */
export function valueWireBytes(v: Value): number {
  return varintBytes(v.client) + varintBytes(v.seq) + varintBytes(v.seq - v.floor) + varintBytes(v.data.length) + v.data.length;
}

export function packValues(values: readonly Value[]): Uint8Array {
  let size = 0;
  for (const v of values) size += valueWireBytes(v);
  const out = new Uint8Array(size);
  let at = 0;
  for (const v of values) {
    at = writeVarint(out, at, v.client);
    at = writeVarint(out, at, v.seq);
    at = writeVarint(out, at, v.seq - v.floor);
    at = writeVarint(out, at, v.data.length);
    out.set(v.data, at);
    at += v.data.length;
  }
  return out.subarray(0, at);
}

/** Unpacks bytes that `scanPacked` accepted. Value data are views into `bytes` (no copy). */
export function unpackValues(bytes: Uint8Array): Value[] {
  const values: Value[] = [];
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const client = readVarint(bytes, r, CLIENT_NUMBER_MAX)!;
    const seq = readVarint(bytes, r, SEQ_MAX)!;
    const floor = seq - readVarint(bytes, r, seq)!;
    const length = readVarint(bytes, r, bytes.length)!;
    values.push({ client, seq, floor, data: bytes.subarray(r.at, r.at + length) });
    r.at += length;
  }
  return values;
}

/**
 * Validates packed bytes without building values: the value count, or undefined if malformed
 * (fields: client, seq, seq − floor ≤ seq, length, data).
 * On the receive path of every 2B, so it avoids allocation: one-byte varints take a fast path.
 */
export function scanPacked(bytes: Uint8Array): number | undefined {
  const end = bytes.length;
  const r = { at: 0 };
  let at = 0;
  let count = 0;
  while (at < end) {
    let seq = 0;
    for (let field = 0; field < 3; field++) {
      if (bytes[at]! < 0x80 && (field !== 2 || bytes[at]! <= seq)) {
        if (field === 1) seq = bytes[at]!;
        at++;
      } else {
        r.at = at;
        const x = readVarint(bytes, r, field === 0 ? CLIENT_NUMBER_MAX : field === 1 ? SEQ_MAX : seq);
        if (x === undefined) return undefined;
        if (field === 1) seq = x;
        at = r.at;
      }
    }
    let length: number | undefined;
    if (at < end && bytes[at]! < 0x80) length = bytes[at++]!;
    else {
      r.at = at;
      length = readVarint(bytes, r, end);
      at = r.at;
    }
    if (length === undefined || at + length > end) return undefined;
    at += length;
    count++;
  }
  return count;
}
