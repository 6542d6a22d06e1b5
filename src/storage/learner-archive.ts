/**
 * A learner's archive: every instance it delivered, (inst, packed batch), in a RecordLog, so that
 * it can serve a learner that needs instances the acceptors have trimmed (config learner.archive).
 * Written at every flush, synced only when the learner's output position is about to move past
 * it (`sync`, see runtime/roles/learner.ts): so the archive always holds what the output
 * position says was delivered, and a crash loses at most the tail beyond it. The file is read
 * back up to its first damage, whatever follows. Every record read to be served is checked
 * again (its CRC, its batch): a damaged archive fails loudly, never serves garbage.
 * A sparse in-memory index keeps memory bounded: an entry every INDEX_EVERY-th instance, every
 * INDEX_BYTES of file, and where the archive starts again after a gap (a learner that resumed
 * further on); a read starts at the entry at or before its first instance and reads on from
 * there, so any start instance is served.
 */
import { join } from "node:path";
import type { Archive } from "../protocol/archive.ts";
import { Batch } from "../protocol/batch.ts";
import type { Proposal } from "../protocol/messages.ts";
import { nodeFileIO, type FileIO } from "./file-io.ts";
import { RecordLog, StorageError } from "./record-log.ts";

/** Version 2: batches are runs of lines (paxos 0.3); a version-1 archive is refused. */
const MAGIC = "PXLRNAR2";
const INDEX_EVERY = 256;
const INDEX_BYTES = 256 * 1024;
const READ_BYTES_MAX = 1 << 20;

export class LearnerArchive {
  /** Instances [0, archivedTo) are in the file, but for gaps (a restarted learner skips what it has). */
  private archivedTo = 0;
  /** Index entries, in file order: instance and the offset of its record. */
  private readonly indexInst: number[] = [];
  private readonly indexOffset: number[] = [];

  private constructor(private readonly log: RecordLog) {}

  /** The archive file of learner `learnerId` in `dir`. */
  static pathOf(dir: string, learnerId: number): string {
    return join(dir, `learner-${learnerId}.archive`);
  }

  static open(dir: string, clusterId: number, learnerId: number, io: FileIO = nodeFileIO): LearnerArchive {
    io.mkdirp(dir);
    const opened = RecordLog.open(LearnerArchive.pathOf(dir, learnerId), MAGIC, clusterId, learnerId, decodeInst, io, true);
    const archive = new LearnerArchive(opened.log);
    for (const r of opened.records) archive.noteAt(r.value, r.offset);
    return archive;
  }

  /** One past the last instance archived (0: none). */
  get size(): number {
    return this.archivedTo;
  }

  /** Appends a delivered instance (in order; instances already archived are skipped). */
  append(inst: number, batch: Batch): void {
    if (inst < this.archivedTo) return;
    const packed = batch.packed;
    const payload = new Uint8Array(8 + packed.length);
    new DataView(payload.buffer).setFloat64(0, inst, true);
    payload.set(packed, 8);
    this.noteAt(inst, this.log.bytes + this.log.pendingBytesCount);
    this.log.append(payload);
  }

  /** Writes what was appended, not synced (a crash may lose it: see `sync`). */
  flush(): void {
    this.log.commit(false);
  }

  /** Writes what was appended and makes it durable: before a learner's output position moves past it. */
  sync(): void {
    this.log.commit(true);
  }

  /** Decided instances in [from, to) that it has, at most about `bytesMax` of them. */
  read(from: number, to: number, bytesMax: number): Proposal[] {
    this.flush();
    const out: Proposal[] = [];
    if (from >= this.archivedTo || from >= to) return out;
    let offset = this.indexOffset[Math.max(0, this.entryAtOrBefore(from))];
    let bytes = 0;
    while (offset !== undefined && offset < this.log.bytes) {
      const records = this.log.readFrom(offset, READ_BYTES_MAX);
      if (records.length === 0) break;
      for (const { payload } of records) {
        const inst = new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
        if (inst >= to || bytes + payload.length > bytesMax) return out;
        if (inst < from) continue;
        const cVal = Batch.parse(payload.slice(8));
        // Served as decided: a malformed batch must never pass for an empty one.
        if (cVal === undefined) throw new StorageError(`${this.log.path}: instance ${inst} holds a malformed batch`);
        out.push({ inst, cVal });
        bytes += payload.length;
      }
      offset = records.at(-1)!.end;
    }
    return out;
  }

  close(): void {
    this.log.close();
  }

  /**
   * This archive as the learner's port: the learner appends what it delivers and serves
   * Catchups from it; damage found while serving is said, not thrown (the learner stops).
   */
  port(): Archive {
    return {
      append: (inst, batch) => this.append(inst, batch),
      read: (from, to, bytesMax) => {
        try {
          return this.read(from, to, bytesMax);
        } catch (e) {
          if (!(e instanceof StorageError)) throw e;
          return { damage: e.message };
        }
      },
    };
  }

  /** The index of the last entry whose instance is at most `inst` (-1: none). */
  private entryAtOrBefore(inst: number): number {
    let lo = 0;
    let hi = this.indexInst.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indexInst[mid]! <= inst) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private noteAt(inst: number, offset: number): void {
    const n = this.indexInst.length;
    const after = n === 0 ? undefined : { inst: this.indexInst[n - 1]!, offset: this.indexOffset[n - 1]! };
    if (after === undefined || inst !== this.archivedTo || inst % INDEX_EVERY === 0 || offset - after.offset >= INDEX_BYTES) {
      this.indexInst.push(inst);
      this.indexOffset.push(offset);
    }
    this.archivedTo = inst + 1;
  }
}

function decodeInst(payload: Uint8Array): number | undefined {
  if (payload.length < 8 || Batch.parse(payload.subarray(8)) === undefined) return undefined;
  return new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
}
