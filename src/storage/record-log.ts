/**
 * An append-only file of checksummed records, written in groups (the acceptor log's framing).
 *
 * File: a 16-byte header (8-byte magic, cluster id, owner id as u32 LE), then records
 * [u32 payload length][u32 CRC-32 of payload][payload] (a payload is never empty). Every commit
 * ends with a marker record (payload 0xFF "CMT!" and the marker's own file offset). Records are
 * acknowledged (by whoever uses the file) only after `commit` wrote and synced them, and a group
 * is written only after the one before it was synced: so only the last group can be damaged by a
 * crash. Its pages may reach the disk in any order, or not at all (a zero-filled tail is a file
 * whose size was extended and whose data was never written). Damage is such a torn tail when no
 * committed group follows it: no valid marker after it, or only the marker that ends the file.
 * The file is then truncated at the damage. Damage anywhere else means the file is not what its
 * owner wrote: opening fails.
 */
import { dirname } from "node:path";
import { concatBytes } from "../bytes.ts";
import { nodeFileIO, type FileIO } from "./file-io.ts";

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
  /** Groups were written since the last sync (commit(false)). */
  private unsynced = false;

  private constructor(
    readonly path: string,
    private readonly io: FileIO,
    private readonly header: Uint8Array,
    private fd: number,
    private fileBytes: number,
  ) {}

  /** Opens (or creates) the file; `decode` turns a payload into a record (undefined: malformed). */
  static open<T>(
    path: string,
    magic: string,
    clusterId: number,
    ownerId: number,
    decode: (payload: Uint8Array) => T | undefined,
    io: FileIO = nodeFileIO,
    /**
     * A file whose tail may be lost (it is never synced, like a learner's archive): damage
     * anywhere ends it there, never refuses it.
     */
    tolerateDamage = false,
  ): Opened<T> {
    const header = makeHeader(magic, clusterId, ownerId);
    let records: Opened<T>["records"] = [];
    let validBytes = HEADER_BYTES;
    let tornBytes = 0;
    const created = !io.exists(path);
    if (!created) {
      const bytes = io.readAll(path);
      checkHeader(bytes, header, path);
      const parsed = parseRecords(bytes, path, decode, tolerateDamage);
      records = parsed.records;
      validBytes = parsed.validBytes;
      tornBytes = Math.max(0, bytes.length - validBytes);
    }
    const fd = io.open(path, created);
    if (validBytes === HEADER_BYTES) io.write(fd, header, 0);
    io.truncate(fd, validBytes); // later appends start right after the last whole record
    io.sync(fd);
    if (created) io.syncDir(dirname(path)); // the new name must survive a power loss too
    return { log: new RecordLog(path, io, header, fd, validBytes), records, tornBytes };
  }

  /** Queues a record (written by the next commit). */
  append(payload: Uint8Array): void {
    const rec = frame(payload);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
  }

  /**
   * Writes every queued record and a commit marker at once and, when `sync`, makes them durable
   * with one fdatasync (with those an earlier commit wrote without syncing).
   */
  commit(sync = true): void {
    if (this.pending.length === 0) {
      if (sync && this.unsynced) this.syncWritten();
      return;
    }
    this.pending.push(marker(this.fileBytes + this.pendingBytes));
    this.pendingBytes += MARKER_FRAME_BYTES;
    const buf = concatBytes(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.io.write(this.fd, buf, this.fileBytes);
    this.fileBytes += buf.length;
    this.unsynced = true;
    if (sync) this.syncWritten();
  }

  private syncWritten(): void {
    this.io.datasync(this.fd); // data and file size: all that is needed to read it back
    this.unsynced = false;
    this.markSynced();
  }

  /**
   * After a sync, a second marker (not synced itself; it reaches the disk with the next group, or
   * within seconds by writeback): the group before it is no longer the file's last, so damage in
   * it later (the disk, not a crash) refuses to start rather than passing for a torn tail. Only a
   * crash in the instant between the sync and this write leaves a synced group last.
   */
  private markSynced(): void {
    const m = marker(this.fileBytes);
    this.io.write(this.fd, m, this.fileBytes);
    this.fileBytes += m.length;
  }

  /** Bytes written to the file (queued records not included). */
  get bytes(): number {
    return this.fileBytes;
  }

  /** Bytes queued by append and not yet written. */
  get pendingBytesCount(): number {
    return this.pendingBytes;
  }

  /**
   * The whole records stored from `offset` on, reading at most about `maxBytes` (a torn one ends
   * it), each with the offset where it starts and the one where the next record starts.
   */
  readFrom(offset: number, maxBytes: number): { offset: number; end: number; payload: Uint8Array }[] {
    const length = Math.min(maxBytes, this.fileBytes - offset);
    if (length <= 0) return [];
    const buf = new Uint8Array(length);
    this.io.read(this.fd, buf, offset);
    const out: { offset: number; end: number; payload: Uint8Array }[] = [];
    const dv = new DataView(buf.buffer);
    let at = 0;
    while (at + RECORD_HEADER_BYTES <= length) {
      const end = at + RECORD_HEADER_BYTES + dv.getUint32(at, true);
      if (end > length) break; // cut by maxBytes (whole records were validated when the file was opened or written)
      const payload = buf.subarray(at + RECORD_HEADER_BYTES, end);
      if (payload.length === 0 || Bun.hash.crc32(payload) !== dv.getUint32(at + 4, true)) {
        throw new StorageError(`${this.path}: damaged record at byte ${offset + at} (checksum mismatch) read back from disk`);
      }
      if (!isMarker(payload)) out.push({ offset: offset + at, end: offset + end, payload });
      at = end;
    }
    return out;
  }

  /** Replaces the file's records with `payloads` (temporary file, synced, renamed over). */
  rewrite(payloads: Iterable<Uint8Array>): void {
    this.commit();
    const io = this.io;
    const tmp = `${this.path}.tmp`;
    const fd = io.open(tmp, true);
    let at = 0;
    const write = (buf: Uint8Array): void => {
      io.write(fd, buf, at);
      at += buf.length;
    };
    write(this.header);
    for (const p of payloads) write(frame(p));
    write(marker(at));
    io.sync(fd);
    io.close(fd);
    io.rename(tmp, this.path);
    io.syncDir(dirname(this.path)); // else the directory may still name the old file after a crash
    io.close(this.fd);
    this.fd = io.open(this.path, false);
    this.fileBytes = at;
    this.markSynced();
  }

  close(): void {
    this.commit();
    this.io.close(this.fd);
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

/**
 * Whether a committed group follows `from`: a whole, valid commit marker lies after it, other than
 * one that ends the file (that one closes the last group, which a crash may have written out of
 * order: its pages are a torn tail like any other).
 */
function committedAfter(bytes: Uint8Array, from: number): boolean {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let p = from; p + MARKER_FRAME_BYTES <= bytes.length; p++) {
    if (dv.getUint32(p, true) !== MARKER_PAYLOAD_BYTES || bytes[p + RECORD_HEADER_BYTES] !== 0xff) continue;
    const payload = bytes.subarray(p + RECORD_HEADER_BYTES, p + MARKER_FRAME_BYTES);
    const valid = isMarker(payload) && dv.getFloat64(p + RECORD_HEADER_BYTES + MARKER_TAG.length, true) === p && Bun.hash.crc32(payload) === dv.getUint32(p + 4, true);
    if (valid && p + MARKER_FRAME_BYTES < bytes.length) return true;
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
  const found = new TextDecoder().decode(bytes.subarray(0, 8));
  if (found !== magic) {
    // The same kind of file in another version (the last character): written by another paxos release.
    if (found.slice(0, 7) === magic.slice(0, 7)) {
      throw new StorageError(`${path}: a version-${found.slice(7)} file (${found}) of an older paxos release; this release writes version ${magic.slice(7)} and cannot read it: keep it for that release, or start a new cluster`);
    }
    throw new StorageError(`${path}: not a ${magic} file (bad magic)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const want = new DataView(header.buffer);
  const [cluster, id] = [dv.getUint32(8, true), dv.getUint32(12, true)];
  if (cluster !== want.getUint32(8, true) || id !== want.getUint32(12, true)) {
    throw new StorageError(`${path}: file of id ${id} in cluster ${cluster}, not of id ${want.getUint32(12, true)} in cluster ${want.getUint32(8, true)}`);
  }
}

function parseRecords<T>(bytes: Uint8Array, path: string, decode: (payload: Uint8Array) => T | undefined, tolerateDamage: boolean) {
  const records: { offset: number; value: T }[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const bad = (why: string): never => {
      throw new StorageError(`${path}: corrupt record at byte ${at} (${why}) with ${bytes.length - at} bytes after it; refusing to start`);
    };
    // Damage is a torn write (dropped) only if no committed group follows it.
    const damaged = (why: string): boolean => (!tolerateDamage && committedAfter(bytes, at) ? bad(`${why}, before a committed record`) : true);
    if (at + RECORD_HEADER_BYTES > bytes.length && damaged("truncated header")) break;
    const length = dv.getUint32(at, true);
    if (length === 0 && damaged("empty record")) break; // zeros: a tail the crash never wrote
    const end = at + RECORD_HEADER_BYTES + length;
    if (end > bytes.length && damaged("length beyond the end")) break;
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, end);
    if (Bun.hash.crc32(payload) !== dv.getUint32(at + 4, true) && damaged("checksum mismatch")) break;
    if (!isMarker(payload)) {
      const value = decode(payload);
      if (value === undefined && tolerateDamage) break;
      records.push({ offset: at, value: value ?? bad("malformed payload") });
    }
    at = end;
  }
  return { records, validBytes: at };
}
