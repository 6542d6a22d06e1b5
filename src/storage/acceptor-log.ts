/**
 * A durable acceptor's state: a RecordLog (checksummed append-only records, torn-tail rules)
 * of what the pure acceptor reports in `Effects.persist`. Payload = kind byte + fields:
 *   1 promise:  f64 rnd (logs of version 0.1: the owner is unknown, 0)
 *   2 vote:     f64 inst, f64 vRnd, packed batch (rest of the payload)
 *   3 trim:     f64 below (votes below this instance were dropped: all decided)
 *   4 promise:  f64 rnd, f64 owner (the proposer incarnation the promise is bound to)
 *   5 decided:  f64 below (every instance below is decided)
 *   6 identity: f64 ident (the acceptor's identity, drawn when the log was created; first record)
 * Later records override earlier ones. Nothing is acknowledged (no 1B/2B leaves) before the
 * records it depends on were written and synced (group commit, see runtime/node.ts).
 *
 * Why an append-only file and not bun:sqlite: see DESIGN.md ("Durable acceptors") for figures.
 */
import { join } from "node:path";
import { Batch } from "../protocol/batch.ts";
import { packHistory, unpackHistory } from "../protocol/configuration.ts";
import type { PersistRecord } from "../protocol/messages.ts";
import { EPOCH_MAX, INSTANCE_MAX } from "../protocol/wire-budget.ts";
import { nodeFileIO, type FileIO } from "./file-io.ts";
import { RecordLog, StorageError } from "./record-log.ts";

export { StorageError };

/** Version 2: batches are runs of lines (paxos 0.3); a version-1 log is refused (see RecordLog.open). */
const MAGIC = "PXACCLG2";
const KIND_PROMISE_V1 = 1;
const KIND_VOTE = 2;
const KIND_TRIM = 3;
const KIND_PROMISE = 4;
const KIND_DECIDED = 5;
const KIND_IDENTITY = 6;
/** The configuration history the acceptor knew: knownTo (float64), then the history's bytes (packHistory). */
const KIND_CONFIG = 7;
/** Rewrite the log from a snapshot once it is this large and twice the live state. */
const COMPACT_BYTES_MIN = 64 * 1024 * 1024;

export interface Loaded {
  readonly records: PersistRecord[];
  /** The acceptor's identity, kept in the log since its creation (see Refuse in messages.ts). */
  readonly ident: number;
  /** Bytes of a torn last record that were dropped (0 when the file ended cleanly). */
  readonly tornBytes: number;
}

export interface OpenOptions {
  /**
   * This is the acceptor's first start: create its log (with a new identity). Without it, a
   * missing or empty log is an error: an acceptor that lost its log forgot its votes and must not
   * come back as if it had none (a wrong directory, a lost volume). With it, an existing log is an
   * error too, so that the flag cannot stay in a unit file and recreate a lost log unnoticed.
   */
  readonly create: boolean;
  /** The new log's identity (random), when created. */
  readonly newIdent: () => number;
  readonly io?: FileIO;
}

export class AcceptorLog {
  private constructor(
    private readonly log: RecordLog,
    readonly ident: number,
  ) {}

  get path(): string {
    return this.log.path;
  }

  /** The log file of acceptor `acceptorId` in `dir`. */
  static pathOf(dir: string, acceptorId: number): string {
    return join(dir, `acceptor-${acceptorId}.log`);
  }

  /** Opens `dir/acceptor-<id>.log` (creates it on a first start); returns the log and what it held. */
  static open(dir: string, clusterId: number, acceptorId: number, opts: OpenOptions): { log: AcceptorLog; loaded: Loaded } {
    const io = opts.io ?? nodeFileIO;
    const path = AcceptorLog.pathOf(dir, acceptorId);
    const exists = io.exists(path) && io.readAll(path).length > 0;
    if (!exists && !opts.create) {
      throw new StorageError(
        `${path} does not exist (or is empty): on an acceptor's first start pass --init; if this acceptor ran before, its log is lost ` +
          `(wrong directory? lost volume?) and it must not come back without it (it would forget its votes)`,
      );
    }
    if (exists && opts.create) throw new StorageError(`${path} already exists: --init is for an acceptor's first start only; start it without --init`);
    io.mkdirp(dir);
    const opened = RecordLog.open(path, MAGIC, clusterId, acceptorId, decodeRecord, io);
    const records: PersistRecord[] = [];
    let ident = 0;
    for (const r of opened.records) {
      if (r.value.kind === "identity") ident = r.value.ident;
      else records.push(r.value);
    }
    const log = new AcceptorLog(opened.log, ident || opts.newIdent());
    if (ident === 0) {
      // A new log, or one written before identities existed: the identity is its first record from now on.
      opened.log.append(encodeRecord({ kind: "identity", ident: log.ident }));
      opened.log.commit();
    }
    return { log, loaded: { records, ident: log.ident, tornBytes: opened.tornBytes } };
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

  /** Replaces the log with `snapshot` (after the identity record). */
  compact(snapshot: Iterable<PersistRecord>): void {
    const ident = this.ident;
    this.log.rewrite((function* () {
      yield encodeRecord({ kind: "identity", ident });
      for (const r of snapshot) yield encodeRecord(r);
    })());
  }

  close(): void {
    this.log.close();
  }
}

type LogRecord = PersistRecord | { readonly kind: "identity"; readonly ident: number };

function encodeRecord(r: LogRecord): Uint8Array {
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
  if (r.kind === "config") {
    const history = packHistory(r.history);
    const payload = new Uint8Array(9 + history.length);
    payload[0] = KIND_CONFIG;
    new DataView(payload.buffer).setFloat64(1, r.knownTo, true);
    payload.set(history, 9);
    return payload;
  }
  const payload = new Uint8Array(r.kind === "promise" ? 17 : 9);
  const dv = new DataView(payload.buffer);
  if (r.kind === "promise") {
    payload[0] = KIND_PROMISE;
    dv.setFloat64(1, r.rnd, true);
    dv.setFloat64(9, r.owner, true);
  } else if (r.kind === "identity") {
    payload[0] = KIND_IDENTITY;
    dv.setFloat64(1, r.ident, true);
  } else {
    payload[0] = r.kind === "trim" ? KIND_TRIM : KIND_DECIDED;
    dv.setFloat64(1, r.below, true);
  }
  return payload;
}

function decodeRecord(payload: Uint8Array): LogRecord | undefined {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
  if (payload[0] === KIND_PROMISE && payload.length === 17) return { kind: "promise", rnd: dv.getFloat64(1, true), owner: dv.getFloat64(9, true) };
  if (payload[0] === KIND_PROMISE_V1 && payload.length === 9) return { kind: "promise", rnd: dv.getFloat64(1, true), owner: 0 };
  if (payload[0] === KIND_TRIM && payload.length === 9) return { kind: "trim", below: dv.getFloat64(1, true) };
  if (payload[0] === KIND_DECIDED && payload.length === 9) return { kind: "decided", below: dv.getFloat64(1, true) };
  if (payload[0] === KIND_IDENTITY && payload.length === 9) return { kind: "identity", ident: dv.getFloat64(1, true) };
  if (payload[0] === KIND_CONFIG && payload.length > 9) {
    const history = unpackHistory(payload.subarray(9), EPOCH_MAX, INSTANCE_MAX);
    const knownTo = dv.getFloat64(1, true);
    return history === undefined || !Number.isInteger(knownTo) || knownTo < 0 ? undefined : { kind: "config", history, knownTo };
  }
  if (payload[0] !== KIND_VOTE || payload.length < 17) return undefined;
  const vVal = Batch.parse(payload.slice(17));
  if (vVal === undefined) return undefined;
  return { kind: "vote", vote: { inst: dv.getFloat64(1, true), vRnd: dv.getFloat64(9, true), vVal } };
}
