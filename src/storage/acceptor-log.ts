/**
 * A durable acceptor's state: a RecordLog (checksummed append-only records, torn-tail rules)
 * of what the pure acceptor reports in `Effects.persist`. Payload = kind byte + fields:
 *   1 promise:  f64 rnd (logs of version 0.1: the owner is unknown, 0)
 *   2 vote:     f64 inst, f64 vRnd, packed batch (rest of the payload)
 *   3 trim:     f64 below (votes below this instance were dropped: all decided)
 *   4 promise:  f64 rnd, f64 owner (the proposer incarnation the promise is bound to)
 *   5 decided:  f64 below (every instance below is decided)
 * Later records override earlier ones. Nothing is acknowledged (no 1B/2B leaves) before the
 * records it depends on were written and synced (group commit, see runtime/node.ts).
 *
 * Why an append-only file and not bun:sqlite: see DESIGN.md ("Durable acceptors") for figures.
 */
import { join } from "node:path";
import { Batch, scanPacked } from "../protocol/batch.ts";
import type { PersistRecord } from "../protocol/messages.ts";
import { nodeFileIO, type FileIO } from "./file-io.ts";
import { RecordLog, StorageError } from "./record-log.ts";

export { StorageError };

const MAGIC = "PXACCLG1";
const KIND_PROMISE_V1 = 1;
const KIND_VOTE = 2;
const KIND_TRIM = 3;
const KIND_PROMISE = 4;
const KIND_DECIDED = 5;
/** Rewrite the log from a snapshot once it is this large and twice the live state. */
const COMPACT_BYTES_MIN = 64 * 1024 * 1024;

export interface Loaded {
  readonly records: PersistRecord[];
  /** Bytes of a torn last record that were dropped (0 when the file ended cleanly). */
  readonly tornBytes: number;
}

export class AcceptorLog {
  private constructor(private readonly log: RecordLog) {}

  get path(): string {
    return this.log.path;
  }

  /** Opens (or creates) `dir/acceptor-<id>.log`; returns the log and what it held. */
  static open(dir: string, clusterId: number, acceptorId: number, io: FileIO = nodeFileIO): { log: AcceptorLog; loaded: Loaded } {
    io.mkdirp(dir);
    const opened = RecordLog.open(join(dir, `acceptor-${acceptorId}.log`), MAGIC, clusterId, acceptorId, decodeRecord, io);
    return { log: new AcceptorLog(opened.log), loaded: { records: opened.records.map((r) => r.value), tornBytes: opened.tornBytes } };
  }

  append(records: readonly PersistRecord[]): void {
    for (const r of records) this.log.append(encodeRecord(r));
  }

  /** Writes every appended record and syncs once (group commit). */
  commit(): void {
    this.log.commit();
  }

  /** Whether the log has grown enough to be rewritten from a snapshot of `liveBytes`. */
  wantsCompaction(liveBytes: number): boolean {
    return this.log.bytes >= COMPACT_BYTES_MIN && this.log.bytes > 2 * liveBytes;
  }

  /** Replaces the log with `snapshot`. */
  compact(snapshot: Iterable<PersistRecord>): void {
    const log = this.log;
    log.rewrite((function* () {
      for (const r of snapshot) yield encodeRecord(r);
    })());
  }

  close(): void {
    this.log.close();
  }
}

function encodeRecord(r: PersistRecord): Uint8Array {
  if (r.kind === "vote") {
    const packed = r.vote.vVal.packed;
    const payload = new Uint8Array(17 + packed.length);
    const dv = new DataView(payload.buffer);
    payload[0] = KIND_VOTE;
    dv.setFloat64(1, r.vote.inst, true);
    dv.setFloat64(9, r.vote.vRnd, true);
    payload.set(packed, 17);
    return payload;
  }
  const payload = new Uint8Array(r.kind === "promise" ? 17 : 9);
  const dv = new DataView(payload.buffer);
  if (r.kind === "promise") {
    payload[0] = KIND_PROMISE;
    dv.setFloat64(1, r.rnd, true);
    dv.setFloat64(9, r.owner, true);
  } else {
    payload[0] = r.kind === "trim" ? KIND_TRIM : KIND_DECIDED;
    dv.setFloat64(1, r.below, true);
  }
  return payload;
}

function decodeRecord(payload: Uint8Array): PersistRecord | undefined {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
  if (payload[0] === KIND_PROMISE && payload.length === 17) return { kind: "promise", rnd: dv.getFloat64(1, true), owner: dv.getFloat64(9, true) };
  if (payload[0] === KIND_PROMISE_V1 && payload.length === 9) return { kind: "promise", rnd: dv.getFloat64(1, true), owner: 0 };
  if (payload[0] === KIND_TRIM && payload.length === 9) return { kind: "trim", below: dv.getFloat64(1, true) };
  if (payload[0] === KIND_DECIDED && payload.length === 9) return { kind: "decided", below: dv.getFloat64(1, true) };
  if (payload[0] !== KIND_VOTE || payload.length < 17) return undefined;
  const packed = payload.slice(17);
  const count = scanPacked(packed);
  if (count === undefined) return undefined;
  return { kind: "vote", vote: { inst: dv.getFloat64(1, true), vRnd: dv.getFloat64(9, true), vVal: Batch.fromPacked(packed, count) } };
}
