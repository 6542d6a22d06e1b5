/**
 * A CBOR writer for the shapes messages have: arrays of unsigned integers, booleans, byte strings
 * and arrays of those. It writes what cbor-x writes for them (integers of 2^32 and above as
 * float64, as cbor-x does, so that decoding gives numbers), test/net/codec.test.ts checks it
 * byte for byte against cbor-x, and decoding stays with cbor-x. It exists because it costs a
 * fraction of a general encoder's time per message, and every role encodes on its hot path.
 */
export type Item = number | boolean | Uint8Array | readonly Item[];

let buf = new Uint8Array(64 * 1024);
let view = new DataView(buf.buffer);

function room(at: number, bytes: number): void {
  if (at + bytes <= buf.length) return;
  let size = buf.length * 2;
  while (size < at + bytes) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(buf.subarray(0, at));
  buf = grown;
  view = new DataView(buf.buffer);
}

/** A head of major type `major` (0 unsigned, 2 bytes, 4 array) with argument `n` < 2^32. */
function head(at: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) buf[at++] = m | n;
  else if (n < 0x100) {
    buf[at++] = m | 24;
    buf[at++] = n;
  } else if (n < 0x1_0000) {
    buf[at++] = m | 25;
    view.setUint16(at, n);
    at += 2;
  } else {
    buf[at++] = m | 26;
    view.setUint32(at, n);
    at += 4;
  }
  return at;
}

function write(at: number, x: Item): number {
  if (typeof x === "number") {
    room(at, 9);
    if (x < 0x1_0000_0000) return head(at, 0, x);
    buf[at++] = 0xfb; // float64, as cbor-x writes integers beyond 32 bits
    view.setFloat64(at, x);
    return at + 8;
  }
  if (typeof x === "boolean") {
    room(at, 1);
    buf[at++] = x ? 0xf5 : 0xf4;
    return at;
  }
  if (x instanceof Uint8Array) {
    room(at, 5 + x.length);
    at = head(at, 2, x.length);
    buf.set(x, at);
    return at + x.length;
  }
  room(at, 5);
  at = head(at, 4, x.length);
  for (const item of x) at = write(at, item);
  return at;
}

/** The CBOR bytes of `items` as one array, in a new Uint8Array of their exact size. */
export function encodeArray(items: readonly Item[]): Uint8Array {
  const end = write(0, items);
  return buf.slice(0, end);
}
