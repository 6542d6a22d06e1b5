/**
 * A 2A's `notify`: where its round placed which client runs, so that clients learn their values
 * decided from the acceptors' 2Bs (three message delays from Submit) instead of waiting for an
 * Ack (four). Entries are varints `inst, client, first, count`, repeated; acceptors pass the bytes
 * on without reading them.
 */
import { ACCEPTORS_MAX, CLIENT_NUMBER_MAX } from "./id-limits.ts";
import { readVarint, varintBytes, writeVarint } from "./varint.ts";
import { INSTANCE_MAX, SEQ_MAX, UDP_PAYLOAD_BYTES_MAX } from "./wire-budget.ts";

export const NO_NOTIFY = new Uint8Array(0);

/** Bytes one entry takes. */
export const notifyEntryBytes = (inst: number, client: number, first: number, count: number): number =>
  varintBytes(inst) + varintBytes(client) + varintBytes(first) + varintBytes(count);

/** Builds a notify list. */
export class NotifyWriter {
  private out: Uint8Array;
  private at = 0;

  constructor(bytesMax: number) {
    this.out = new Uint8Array(bytesMax);
  }

  get bytes(): number {
    return this.at;
  }

  get room(): number {
    return this.out.length - this.at;
  }

  add(inst: number, client: number, first: number, count: number): void {
    let at = this.at;
    at = writeVarint(this.out, at, inst);
    at = writeVarint(this.out, at, client);
    at = writeVarint(this.out, at, first);
    this.at = writeVarint(this.out, at, count);
  }

  finish(): Uint8Array {
    return this.at === 0 ? NO_NOTIFY : this.out.slice(0, this.at);
  }
}

/** Reads the entries of a validated notify list: `fn(inst, client, first, count)` for each. */
export function forEachNotified(bytes: Uint8Array, fn: (inst: number, client: number, first: number, count: number) => void): void {
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const inst = readVarint(bytes, r, INSTANCE_MAX)!;
    const client = readVarint(bytes, r, CLIENT_NUMBER_MAX)!;
    const first = readVarint(bytes, r, SEQ_MAX)!;
    fn(inst, client, first, readVarint(bytes, r, UDP_PAYLOAD_BYTES_MAX)!);
  }
}

/** Whether bytes are a well-formed notify list (every field in range, count ≥ 1). */
export function validNotify(bytes: Uint8Array): boolean {
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const inst = readVarint(bytes, r, INSTANCE_MAX);
    const client = readVarint(bytes, r, CLIENT_NUMBER_MAX);
    const first = readVarint(bytes, r, SEQ_MAX);
    const count = readVarint(bytes, r, UDP_PAYLOAD_BYTES_MAX);
    if (inst === undefined || client === undefined || first === undefined || count === undefined || count === 0 || first + count - 1 > SEQ_MAX) return false;
  }
  return true;
}

/** Joins notify lists (one 2B passes on those of several 2As). */
export function joinNotify(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return NO_NOTIFY;
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A 2A's `report` naming every acceptor: each sends its 2B. */
export const REPORT_ALL = new Uint8Array(0);

/** A 2A's `report`: the acceptor ids (varints) that send their 2B at once (thrifty 2Bs). */
export function reportList(accs: readonly number[]): Uint8Array {
  const out = new Uint8Array(accs.length * 3);
  let at = 0;
  for (const acc of accs) at = writeVarint(out, at, acc);
  return out.subarray(0, at);
}

/** Whether acceptor `acc` sends its 2B at once for a 2A with this `report`. */
export function reports(report: Uint8Array, acc: number): boolean {
  if (report.length === 0) return true;
  const r = { at: 0 };
  while (r.at < report.length) if (readVarint(report, r, ACCEPTORS_MAX) === acc) return true;
  return false;
}

/** Whether bytes are a well-formed report list (acceptor ids 1..ACCEPTORS_MAX). */
export function validReport(bytes: Uint8Array): boolean {
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const acc = readVarint(bytes, r, ACCEPTORS_MAX);
    if (acc === undefined || acc === 0) return false;
  }
  return true;
}
