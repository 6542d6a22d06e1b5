/** Joins byte arrays of known total length into one (the only part, when there is one). */
export function concatBytes(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Bytes appended for one write: a buffer that grows by doubling, so that appending a run of
 * lines is one copy and a flush one write, whatever the number of values.
 */
const OUT_BUFFER_BYTES = 64 * 1024;

export class OutBuffer {
  private buf = new Uint8Array(OUT_BUFFER_BYTES);
  private at = 0;

  get length(): number {
    return this.at;
  }

  append(bytes: Uint8Array): void {
    if (this.at + bytes.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.at + bytes.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.at));
      this.buf = grown;
    }
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
  }

  /**
   * What was appended since the last take (no copy); appending goes on in a new buffer of the
   * size the last one needed (so that a steady stream does not grow one every time).
   */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.at);
    this.buf = new Uint8Array(Math.max(OUT_BUFFER_BYTES, Math.min(this.buf.length, 2 * this.at)));
    this.at = 0;
    return out;
  }
}
