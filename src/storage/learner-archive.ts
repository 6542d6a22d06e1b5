/**
 * A learner's archive: every instance it delivered, (inst, packed batch), in a RecordLog, so that
 * it can serve a learner that needs instances the acceptors have trimmed (config learner.archive).
 * Not synced: losing the tail in a crash only means the archive restarts a little earlier (the
 * file is read back up to its first damage, whatever follows). Every record read to be served is
 * checked again (its CRC, its batch): a damaged archive fails loudly, never serves garbage.
 * A sparse in-memory index (every INDEX_EVERY-th instance) keeps memory bounded.
 */
import { join } from "node:path";
import { Batch } from "../protocol/batch.ts";
import type { Proposal } from "../protocol/messages.ts";
import { nodeFileIO, type FileIO } from "./file-io.ts";
import { RecordLog, StorageError } from "./record-log.ts";

/** Version 2: batches are runs of lines (paxos 0.3); a version-1 archive is refused. */
const MAGIC = "PXLRNAR2";
const INDEX_EVERY = 256;
const READ_BYTES_MAX = 1 << 20;

export class LearnerArchive {
  /** Instances [0, archivedTo) are in the file (a restarted learner skips what it has). */
  private archivedTo = 0;
  private readonly index = new Map<number, number>();

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

  /** Writes what was appended (no sync: see above). */
  flush(): void {
    this.log.commit(false);
  }

  /** Decided instances in [from, to) that it has, at most about `bytesMax` of them. */
  read(from: number, to: number, bytesMax: number): Proposal[] {
    this.flush();
    const start = this.index.get(Math.floor(from / INDEX_EVERY) * INDEX_EVERY);
    if (start === undefined || from >= this.archivedTo) return [];
    const out: Proposal[] = [];
    let bytes = 0;
    for (const { payload } of this.log.readFrom(start, READ_BYTES_MAX)) {
      const inst = new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
      if (inst >= to || bytes + payload.length > bytesMax) break;
      if (inst < from) continue;
      const cVal = Batch.parse(payload.slice(8));
      // Served as decided: a malformed batch must never pass for an empty one.
      if (cVal === undefined) throw new StorageError(`${this.log.path}: instance ${inst} holds a malformed batch`);
      out.push({ inst, cVal });
      bytes += payload.length;
    }
    return out;
  }

  close(): void {
    this.log.close();
  }

  private noteAt(inst: number, offset: number): void {
    if (inst % INDEX_EVERY === 0) this.index.set(inst, offset);
    this.archivedTo = inst + 1;
  }
}

function decodeInst(payload: Uint8Array): number | undefined {
  if (payload.length < 8 || Batch.parse(payload.subarray(8)) === undefined) return undefined;
  return new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
}
