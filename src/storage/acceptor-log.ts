/**
 * A durable acceptor's state as an append-only log file, fsync'd in groups.
 *
 * File: a 16-byte header (magic "PXACCLG1", cluster id, acceptor id as u32 LE), then records
 * [u32 payload length][u32 CRC-32 of payload][payload], payload = kind byte + fields:
 *   1 promise: f64 rnd
 *   2 vote:    f64 inst, f64 vRnd, packed batch (rest of the payload)
 *   3 trim:    f64 below (votes below this instance were dropped: all decided)
 * Later records override earlier ones. Nothing is acknowledged (no 1B/2B leaves) before the
 * records it depends on were written and fsync'd, so a damaged *last* record is a write that was
 * torn by the crash and never acknowledged: it is dropped. Damage anywhere else means the file is
 * not what this acceptor wrote, and the acceptor refuses to start.
 *
 * Why an append-only file and not bun:sqlite: one write and one fsync per group of records, and
 * no per-record index maintenance; measured in BENCHMARKS.md.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Batch, scanPacked } from "../protocol/batch.ts";
import type { PersistRecord } from "../protocol/messages.ts";

const MAGIC = "PXACCLG1";
const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;
const KIND_PROMISE = 1;
const KIND_VOTE = 2;
const KIND_TRIM = 3;
/** Rewrite the log from a snapshot once it is this large and twice the live state. */
const COMPACT_BYTES_MIN = 64 * 1024 * 1024;

export class StorageError extends Error {}

export interface Loaded {
  readonly records: PersistRecord[];
  /** Bytes of a torn last record that were dropped (0 when the file ended cleanly). */
  readonly tornBytes: number;
}

export class AcceptorLog {
  private fd: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private fileBytes: number;

  private constructor(
    readonly path: string,
    private readonly header: Uint8Array,
    fd: number,
    fileBytes: number,
  ) {
    this.fd = fd;
    this.fileBytes = fileBytes;
  }

  /** Opens (or creates) `dir/acceptor-<id>.log`; returns the log and what it held. */
  static open(dir: string, clusterId: number, acceptorId: number): { log: AcceptorLog; loaded: Loaded } {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `acceptor-${acceptorId}.log`);
    const header = makeHeader(clusterId, acceptorId);
    let loaded: Loaded = { records: [], tornBytes: 0 };
    let validBytes = HEADER_BYTES;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      checkHeader(bytes, header, path);
      const parsed = parseRecords(bytes, path);
      loaded = { records: parsed.records, tornBytes: bytes.length - parsed.validBytes };
      validBytes = parsed.validBytes;
    }
    const fd = openSync(path, existsSync(path) ? "r+" : "w+");
    if (validBytes === HEADER_BYTES) writeSync(fd, header, 0, HEADER_BYTES, 0);
    // Drop a torn tail: later appends start right after the last whole record.
    ftruncateSync(fd, validBytes);
    fsyncSync(fd);
    return { log: new AcceptorLog(path, header, fd, validBytes), loaded };
  }

  append(records: readonly PersistRecord[]): void {
    for (const r of records) {
      const rec = encodeRecord(r);
      this.pending.push(rec);
      this.pendingBytes += rec.length;
    }
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Writes every appended record and fsyncs once (group commit). */
  commit(): void {
    if (this.pending.length === 0) return;
    const buf = concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    writeAll(this.fd, buf, this.fileBytes);
    this.fileBytes += buf.length;
    fdatasyncSync(this.fd); // data and the file size; no other metadata is needed to read it back
  }

  /** Whether the log has grown enough to be rewritten from a snapshot of `liveBytes`. */
  wantsCompaction(liveBytes: number): boolean {
    return this.fileBytes >= COMPACT_BYTES_MIN && this.fileBytes > 2 * liveBytes;
  }

  /** Replaces the log with `snapshot` (written to a temporary file, fsync'd, renamed over). */
  compact(snapshot: Iterable<PersistRecord>): void {
    this.commit();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    let at = 0;
    at += writeAll(fd, this.header, at);
    for (const r of snapshot) at += writeAll(fd, encodeRecord(r), at);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, "r+");
    this.fileBytes = at;
  }

  close(): void {
    this.commit();
    closeSync(this.fd);
  }
}

function writeAll(fd: number, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
  return buf.length;
}

function makeHeader(clusterId: number, acceptorId: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(h.buffer);
  dv.setUint32(8, clusterId >>> 0, true);
  dv.setUint32(12, acceptorId >>> 0, true);
  return h;
}

function checkHeader(bytes: Uint8Array, header: Uint8Array, path: string): void {
  if (bytes.length < HEADER_BYTES) {
    if (bytes.length === 0) return; // created, crashed before the header was written
    throw new StorageError(`${path}: ${bytes.length}-byte file is too short for an acceptor log`);
  }
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new StorageError(`${path}: not an acceptor log (bad magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const [cluster, id] = [dv.getUint32(8, true), dv.getUint32(12, true)];
  const want = new DataView(header.buffer);
  if (cluster !== want.getUint32(8, true) || id !== want.getUint32(12, true)) {
    throw new StorageError(`${path}: log of acceptor ${id} in cluster ${cluster}, not of acceptor ${want.getUint32(12, true)} in cluster ${want.getUint32(8, true)}`);
  }
}

function parseRecords(bytes: Uint8Array, path: string): { records: PersistRecord[]; validBytes: number } {
  const records: PersistRecord[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const bad = (why: string): never => {
      throw new StorageError(`${path}: corrupt record at byte ${at} (${why}) with ${bytes.length - at} bytes after it; refusing to start`);
    };
    if (at + RECORD_HEADER_BYTES > bytes.length) break; // torn record header
    const len = dv.getUint32(at, true);
    const crc = dv.getUint32(at + 4, true);
    const end = at + RECORD_HEADER_BYTES + len;
    if (end > bytes.length) break; // torn payload: the last write did not complete
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, end);
    if (Bun.hash.crc32(payload) !== crc) {
      if (end === bytes.length) break; // a torn last record
      bad("checksum mismatch");
    }
    records.push(decodeRecord(payload) ?? bad("malformed payload"));
    at = end;
  }
  return { records, validBytes: at };
}

function encodeRecord(r: PersistRecord): Uint8Array {
  const packed = r.kind === "vote" ? r.vote.vVal.packed : undefined;
  const payloadLen = r.kind === "vote" ? 17 + packed!.length : 9;
  const out = new Uint8Array(RECORD_HEADER_BYTES + payloadLen);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payloadLen, true);
  const payload = out.subarray(RECORD_HEADER_BYTES);
  const pv = new DataView(out.buffer, RECORD_HEADER_BYTES);
  if (r.kind === "promise") {
    payload[0] = KIND_PROMISE;
    pv.setFloat64(1, r.rnd, true);
  } else if (r.kind === "trim") {
    payload[0] = KIND_TRIM;
    pv.setFloat64(1, r.below, true);
  } else {
    payload[0] = KIND_VOTE;
    pv.setFloat64(1, r.vote.inst, true);
    pv.setFloat64(9, r.vote.vRnd, true);
    payload.set(packed!, 17);
  }
  dv.setUint32(4, Bun.hash.crc32(payload), true);
  return out;
}

function decodeRecord(payload: Uint8Array): PersistRecord | undefined {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
  if (payload[0] === KIND_PROMISE && payload.length === 9) return { kind: "promise", rnd: dv.getFloat64(1, true) };
  if (payload[0] === KIND_TRIM && payload.length === 9) return { kind: "trim", below: dv.getFloat64(1, true) };
  if (payload[0] !== KIND_VOTE || payload.length < 17) return undefined;
  const packed = payload.slice(17);
  const count = scanPacked(packed);
  if (count === undefined) return undefined;
  return { kind: "vote", vote: { inst: dv.getFloat64(1, true), vRnd: dv.getFloat64(9, true), vVal: Batch.fromPacked(packed, count) } };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
