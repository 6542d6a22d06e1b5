/**
 * LEB128 varints for non-negative safe integers: 7 bits a byte, low bits first, up to 8 bytes for
 * 2^53. Packed batches, Ack ids and 2B instance lists are made of them (see batch.ts, net/codec.ts).
 */

/** Bytes of `x` (a non-negative safe integer) as a varint. */
export function varintBytes(x: number): number {
  if (x < 0x80) return 1;
  if (x < 0x4000) return 2;
  if (x < 0x20_0000) return 3;
  if (x < 0x1000_0000) return 4;
  let n = 5;
  for (x = Math.floor(x / 0x8_0000_0000); x > 0; x = Math.floor(x / 0x80)) n++;
  return n;
}

export function writeVarint(out: Uint8Array, at: number, x: number): number {
  while (x >= 0x80) {
    out[at++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  out[at++] = x;
  return at;
}

/** Reads one varint at `r.at`; undefined when truncated, too long or above `max`. */
export function readVarint(bytes: Uint8Array, r: { at: number }, max: number): number | undefined {
  let x = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (r.at >= bytes.length) return undefined;
    const b = bytes[r.at++]!;
    x += (b & 0x7f) * scale;
    if (b < 0x80) return x <= max ? x : undefined;
    scale *= 0x80;
  }
  return undefined;
}
