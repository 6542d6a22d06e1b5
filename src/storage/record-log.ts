/**
 * An append-only file of checksummed records, written in groups (the acceptor log's framing).
 *
 * File: a 16-byte header (8-byte magic, cluster id, owner id as u32 LE), then records
 * [u32 payload length][u32 CRC-32 of payload][payload]. Every commit ends with a marker record
 * (payload 0xFF "CMT!" and the marker's own file offset). Records are acknowledged (by whoever
 * uses the file) only after `commit` wrote and synced them, so damage after the last marker is a
 * write torn by a crash: it is dropped and the file truncated there. Damage with a marker after
 * it (a committed record follows) means the file is not what its owner wrote: opening fails.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { concatBytes } from "../bytes.ts";

const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;

export class StorageError extends Error {}

export interface Opened<T> {
  readonly log: RecordLog;
  /** The decoded records, each with the file offset it starts at. */
  readonly records: { readonly offset: number; readonly value: T }[];
  /** Bytes of a torn last record that were dropped (0 when the file ended cleanly). */
  readonly tornBytes: number;
}

export class RecordLog {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(
    readonly path: string,
    private readonly header: Uint8Array,
    private fd: number,
    private fileBytes: number,
  ) {}

  /** Opens (or creates) the file; `decode` turns a payload into a record (undefined: malformed). */
  static open<T>(path: string, magic: string, clusterId: number, ownerId: number, decode: (payload: Uint8Array) => T | undefined): Opened<T> {
    const header = makeHeader(magic, clusterId, ownerId);
    let records: Opened<T>["records"] = [];
    let validBytes = HEADER_BYTES;
    let tornBytes = 0;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      checkHeader(bytes, header, path);
      const parsed = parseRecords(bytes, path, decode);
      records = parsed.records;
      validBytes = parsed.validBytes;
      tornBytes = Math.max(0, bytes.length - validBytes);
    }
    const created = !existsSync(path);
    const fd = openSync(path, created ? "w+" : "r+");
    if (validBytes === HEADER_BYTES) writeAll(fd, header, 0);
    ftruncateSync(fd, validBytes); // later appends start right after the last whole record
    fsyncSync(fd);
    if (created) fsyncDir(dirname(path)); // the new name must survive a power loss too
    return { log: new RecordLog(path, header, fd, validBytes), records, tornBytes };
  }

  /** Queues a record (written by the next commit). */
  append(payload: Uint8Array): void {
    const rec = frame(payload);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
  }

  /** Writes every queued record and a commit marker at once and, when `sync`, makes them durable with one fdatasync. */
  commit(sync = true): void {
    if (this.pending.length === 0) return;
    this.pending.push(marker(this.fileBytes + this.pendingBytes));
    this.pendingBytes += MARKER_FRAME_BYTES;
    const buf = concatBytes(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    writeAll(this.fd, buf, this.fileBytes);
    this.fileBytes += buf.length;
    if (sync) fdatasyncSync(this.fd); // data and file size: all that is needed to read it back
  }

  /** Bytes written to the file (queued records not included). */
  get bytes(): number {
    return this.fileBytes;
  }

  /** Bytes queued by append and not yet written. */
  get pendingBytesCount(): number {
    return this.pendingBytes;
  }

  /** The whole records stored from `offset` on, reading at most about `maxBytes` (a torn one ends it). */
  readFrom(offset: number, maxBytes: number): { offset: number; payload: Uint8Array }[] {
    const length = Math.min(maxBytes, this.fileBytes - offset);
    if (length <= 0) return [];
    const buf = new Uint8Array(length);
    readSync(this.fd, buf, 0, length, offset);
    const out: { offset: number; payload: Uint8Array }[] = [];
    const dv = new DataView(buf.buffer);
    let at = 0;
    while (at + RECORD_HEADER_BYTES <= length) {
      const end = at + RECORD_HEADER_BYTES + dv.getUint32(at, true);
      if (end > length) break;
      const payload = buf.subarray(at + RECORD_HEADER_BYTES, end);
      if (!isMarker(payload)) out.push({ offset: offset + at, payload });
      at = end;
    }
    return out;
  }

  /** Replaces the file's records with `payloads` (temporary file, synced, renamed over). */
  rewrite(payloads: Iterable<Uint8Array>): void {
    this.commit();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    let at = writeAll(fd, this.header, 0);
    for (const p of payloads) at += writeAll(fd, frame(p), at);
    at += writeAll(fd, marker(at), at);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    fsyncDir(dirname(this.path)); // else the directory may still name the old file after a crash
    closeSync(this.fd);
    this.fd = openSync(this.path, "r+");
    this.fileBytes = at;
  }

  close(): void {
    this.commit();
    closeSync(this.fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const MARKER_TAG = [0xff, 0x43, 0x4d, 0x54, 0x21]; // 0xFF "CMT!"
const MARKER_PAYLOAD_BYTES = MARKER_TAG.length + 8;
const MARKER_FRAME_BYTES = RECORD_HEADER_BYTES + MARKER_PAYLOAD_BYTES;

/** The commit marker that sits at file offset `position`. */
function marker(position: number): Uint8Array {
  const payload = new Uint8Array(MARKER_PAYLOAD_BYTES);
  payload.set(MARKER_TAG);
  new DataView(payload.buffer).setFloat64(MARKER_TAG.length, position, true);
  return frame(payload);
}

function isMarker(payload: Uint8Array): boolean {
  return payload.length === MARKER_PAYLOAD_BYTES && MARKER_TAG.every((b, i) => payload[i] === b);
}

/** Whether a whole, valid commit marker lies at or after `from`: something committed follows. */
function markerAfter(bytes: Uint8Array, from: number): boolean {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let p = from; p + MARKER_FRAME_BYTES <= bytes.length; p++) {
    if (dv.getUint32(p, true) !== MARKER_PAYLOAD_BYTES || bytes[p + RECORD_HEADER_BYTES] !== 0xff) continue;
    const payload = bytes.subarray(p + RECORD_HEADER_BYTES, p + MARKER_FRAME_BYTES);
    if (isMarker(payload) && dv.getFloat64(p + RECORD_HEADER_BYTES + MARKER_TAG.length, true) === p && Bun.hash.crc32(payload) === dv.getUint32(p + 4, true)) return true;
  }
  return false;
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length, true);
  dv.setUint32(4, Bun.hash.crc32(payload), true);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

function writeAll(fd: number, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
  return buf.length;
}

function makeHeader(magic: string, clusterId: number, ownerId: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(new TextEncoder().encode(magic.padEnd(8).slice(0, 8)), 0);
  const dv = new DataView(h.buffer);
  dv.setUint32(8, clusterId >>> 0, true);
  dv.setUint32(12, ownerId >>> 0, true);
  return h;
}

function checkHeader(bytes: Uint8Array, header: Uint8Array, path: string): void {
  if (bytes.length < HEADER_BYTES) {
    if (bytes.length === 0) return; // created, crashed before the header was written
    throw new StorageError(`${path}: ${bytes.length}-byte file is too short to be ours`);
  }
  const magic = new TextDecoder().decode(header.subarray(0, 8));
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== magic) throw new StorageError(`${path}: not a ${magic} file (bad magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const want = new DataView(header.buffer);
  const [cluster, id] = [dv.getUint32(8, true), dv.getUint32(12, true)];
  if (cluster !== want.getUint32(8, true) || id !== want.getUint32(12, true)) {
    throw new StorageError(`${path}: file of id ${id} in cluster ${cluster}, not of id ${want.getUint32(12, true)} in cluster ${want.getUint32(8, true)}`);
  }
}

function parseRecords<T>(bytes: Uint8Array, path: string, decode: (payload: Uint8Array) => T | undefined) {
  const records: { offset: number; value: T }[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const bad = (why: string): never => {
      throw new StorageError(`${path}: corrupt record at byte ${at} (${why}) with ${bytes.length - at} bytes after it; refusing to start`);
    };
    // Damage is a torn write (dropped) only if nothing committed follows it.
    const damaged = (why: string): boolean => (markerAfter(bytes, at) ? bad(`${why}, before a committed record`) : true);
    if (at + RECORD_HEADER_BYTES > bytes.length && damaged("truncated header")) break;
    const end = at + RECORD_HEADER_BYTES + dv.getUint32(at, true);
    if (end > bytes.length && damaged("length beyond the end")) break;
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, end);
    if (Bun.hash.crc32(payload) !== dv.getUint32(at + 4, true) && damaged("checksum mismatch")) break;
    if (!isMarker(payload)) records.push({ offset: at, value: decode(payload) ?? bad("malformed payload") });
    at = end;
  }
  return { records, validBytes: at };
}
