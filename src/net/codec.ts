/**
 * Wire format: one CBOR array per datagram, [WIRE_VERSION, clusterId, acceptors, type, ...fields].
 * `acceptors` is the sender's configured acceptor count: quorums are majorities of it, so a
 * process configured with another count must not take part (its datagrams are dropped as
 * `config`, and it drops ours).
 * `type` is the message's index in TYPE_CODES; DESIGN.md's wire table lists every code with its
 * fields, and test/docs/wire-table.test.ts checks the table against this file.
 * A batch travels as one CBOR byte string of runs (client, first seq, first − floor, count,
 * length, then the values' lines; see protocol/batch.ts), so encoding cost does not grow with
 * CBOR items per value, nor per run. Ack ranges are one byte string of varints (client, first,
 * count, …), a 2B's instances one of zigzag varints (the first instance, then each one's
 * difference from the one before), a notify list one of varints (protocol/notify.ts).
 * Decoding validates every field; anything malformed throws a DecodeError naming the reason.
 */
import { Decoder } from "cbor-x/decode";
import { encodeArray, type Item } from "./cbor.ts";
import { Batch } from "../protocol/batch.ts";
import { CLIENT_NUMBER_MAX } from "../protocol/id-limits.ts";
import type { Message, Proposal, Vote } from "../protocol/messages.ts";
import { validNotify, validReport } from "../protocol/notify.ts";
import { readVarint, writeVarint } from "../protocol/varint.ts";
import { INSTANCE_MAX, NONCE_MAX, ROUND_MAX, SEQ_MAX, UDP_PAYLOAD_BYTES_MAX } from "../protocol/wire-budget.ts";

export const WIRE_VERSION = 4;
/** Field bounds are in src/protocol/wire-budget.ts: a value beyond one makes the datagram dropped. */
export const NODE_ID_MAX = 0xffff;


/** The type code of a message is its index here: append new types, never reorder (the wire changes). */
const TYPE_CODES = ["submit", "ack", "1a", "1b", "nack", "2a", "2b", "catchup", "decision", "trimmed", "votes", "refuse", "hello"] as const;
type TypeName = (typeof TYPE_CODES)[number];
const CODE_OF = new Map<TypeName, number>(TYPE_CODES.map((t, i) => [t, i]));

export class DecodeError extends Error {
  constructor(readonly reason: "cbor" | "shape" | "version" | "cluster" | "config" | "type" | "field" | "size") {
    super(reason);
  }
}

/** What every datagram of a cluster carries in its header, besides the version. */
export interface WireId {
  readonly cluster: number;
  /** The configured acceptor count. */
  readonly acceptors: number;
}

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false } as never);

export function encode(msg: Message, wire: WireId): Uint8Array {
  return encodeArray([WIRE_VERSION, wire.cluster, wire.acceptors, CODE_OF.get(msg.t)!, ...fields(msg)]);
}

function fields(msg: Message): Item[] {
  switch (msg.t) {
    case "submit":
      return [msg.runs.packed, msg.via];
    case "ack":
      return [packVarints(msg.ranges)];
    case "1a":
      return [msg.cRnd, msg.nonce, msg.from, msg.decidedBelow, msg.acc];
    case "1b":
      return [msg.acc, msg.ident, msg.rnd, msg.nonce, msg.from, msg.to, msg.done, flatVotes(msg.votes), msg.decidedBelow];
    case "nack":
      return [msg.acc, msg.ident, msg.rnd, msg.cRnd, msg.nonce];
    case "2a":
      return [msg.cRnd, msg.nonce, flatProposals(msg.proposals), msg.decidedBelow, msg.notify, msg.report];
    case "2b":
      return [msg.acc, msg.ident, msg.vRnd, msg.nonce, packInstances(msg.insts), msg.decidedBelow, msg.notify];
    case "catchup":
      return [msg.from, msg.to, msg.decidedBelow, msg.seenTo];
    case "decision":
      return [flatProposals(msg.decided)];
    case "trimmed":
      return [msg.acc, msg.ident, msg.below];
    case "votes":
      return [msg.acc, msg.ident, msg.from, msg.to, msg.decidedBelow, flatVotes(msg.votes)];
    case "refuse":
      return [msg.acc, msg.ident];
    case "hello":
      return [msg.id, msg.nonce, msg.leading, msg.upMs];
  }
}

const flatVotes = (votes: readonly Vote[]): Item[] => votes.flatMap((v) => [v.inst, v.vRnd, v.vVal.packed]);
const flatProposals = (ps: readonly Proposal[]): Item[] => ps.flatMap((p) => [p.inst, p.cVal.packed]);

/** Decodes one datagram of this cluster; throws DecodeError when it is not a valid message. */
export function decode(bytes: Uint8Array, wire: WireId): Message {
  if (bytes.length > UDP_PAYLOAD_BYTES_MAX) throw new DecodeError("size");
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch {
    throw new DecodeError("cbor");
  }
  if (!Array.isArray(raw) || raw.length < 4) throw new DecodeError("shape");
  if (raw[0] !== WIRE_VERSION) throw new DecodeError("version");
  if (raw[1] !== wire.cluster) throw new DecodeError("cluster");
  if (raw[2] !== wire.acceptors) throw new DecodeError("config");
  const f = new Fields(raw, 4);
  const t = TYPE_CODES[raw[3] as number];
  if (typeof raw[3] !== "number" || t === undefined) throw new DecodeError("type");
  let msg: Message;
  switch (t) {
    case "submit":
      msg = { t, runs: f.batch(), via: f.int(NONCE_MAX) };
      break;
    case "ack":
      msg = { t, ranges: unpackRanges(f.bytes()) };
      break;
    case "1a":
      msg = { t, cRnd: f.int(ROUND_MAX), nonce: f.int(NONCE_MAX), from: f.int(INSTANCE_MAX), decidedBelow: f.int(INSTANCE_MAX), acc: f.int(NODE_ID_MAX) };
      break;
    case "1b":
      msg = {
        t,
        acc: f.int(NODE_ID_MAX),
        ident: f.int(NONCE_MAX),
        rnd: f.int(ROUND_MAX),
        nonce: f.int(NONCE_MAX),
        from: f.int(INSTANCE_MAX),
        to: f.int(INSTANCE_MAX),
        done: f.bool(),
        votes: f.votes(),
        decidedBelow: f.int(INSTANCE_MAX),
      };
      break;
    case "nack":
      msg = { t, acc: f.int(NODE_ID_MAX), ident: f.int(NONCE_MAX), rnd: f.int(ROUND_MAX), cRnd: f.int(ROUND_MAX), nonce: f.int(NONCE_MAX) };
      break;
    case "2a":
      msg = { t, cRnd: f.int(ROUND_MAX), nonce: f.int(NONCE_MAX), proposals: f.proposals(), decidedBelow: f.int(INSTANCE_MAX), notify: f.notify(), report: f.report() };
      break;
    case "2b":
      msg = {
        t,
        acc: f.int(NODE_ID_MAX),
        ident: f.int(NONCE_MAX),
        vRnd: f.int(ROUND_MAX),
        nonce: f.int(NONCE_MAX),
        insts: unpackInstances(f.bytes()),
        decidedBelow: f.int(INSTANCE_MAX),
        notify: f.notify(),
      };
      break;
    case "catchup":
      msg = { t, from: f.int(INSTANCE_MAX), to: f.int(INSTANCE_MAX), decidedBelow: f.int(INSTANCE_MAX), seenTo: f.int(INSTANCE_MAX) };
      break;
    case "decision":
      msg = { t, decided: f.proposals() };
      break;
    case "trimmed":
      msg = { t, acc: f.int(NODE_ID_MAX), ident: f.int(NONCE_MAX), below: f.int(INSTANCE_MAX) };
      break;
    case "votes":
      msg = { t, acc: f.int(NODE_ID_MAX), ident: f.int(NONCE_MAX), from: f.int(INSTANCE_MAX), to: f.int(INSTANCE_MAX), decidedBelow: f.int(INSTANCE_MAX), votes: f.votes() };
      break;
    case "refuse":
      msg = { t, acc: f.int(NODE_ID_MAX), ident: f.int(NONCE_MAX) };
      break;
    case "hello":
      msg = { t, id: f.int(NODE_ID_MAX), nonce: f.int(NONCE_MAX), leading: f.bool(), upMs: f.int(INSTANCE_MAX) };
      break;
  }
  f.end();
  return msg;
}

/** Reads the fields of a decoded array in order, checking each. */
class Fields {
  constructor(
    private readonly raw: unknown[],
    private at: number,
  ) {}

  private next(): unknown {
    if (this.at >= this.raw.length) throw new DecodeError("shape");
    return this.raw[this.at++];
  }

  end(): void {
    if (this.at !== this.raw.length) throw new DecodeError("shape");
  }

  int(max: number): number {
    return checkInt(this.next(), max);
  }

  bool(): boolean {
    const x = this.next();
    if (typeof x !== "boolean") throw new DecodeError("field");
    return x;
  }

  bytes(): Uint8Array {
    const x = this.next();
    if (!(x instanceof Uint8Array)) throw new DecodeError("field");
    return x;
  }

  batch(): Batch {
    return batchOf(this.next());
  }

  notify(): Uint8Array {
    const x = this.bytes();
    if (!validNotify(x)) throw new DecodeError("field");
    return x;
  }

  report(): Uint8Array {
    const x = this.bytes();
    if (!validReport(x)) throw new DecodeError("field");
    return x;
  }

  private array(stride: number): unknown[] {
    const x = this.next();
    if (!Array.isArray(x) || x.length % stride !== 0) throw new DecodeError("field");
    return x;
  }

  votes(): Vote[] {
    const xs = this.array(3);
    const votes: Vote[] = [];
    for (let i = 0; i < xs.length; i += 3) {
      votes.push({ inst: checkInt(xs[i], INSTANCE_MAX), vRnd: checkInt(xs[i + 1], ROUND_MAX), vVal: batchOf(xs[i + 2]) });
    }
    return votes;
  }

  proposals(): Proposal[] {
    const xs = this.array(2);
    const ps: Proposal[] = [];
    for (let i = 0; i < xs.length; i += 2) {
      ps.push({ inst: checkInt(xs[i], INSTANCE_MAX), cVal: batchOf(xs[i + 1]) });
    }
    return ps;
  }
}

function checkInt(x: unknown, max: number): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > max) throw new DecodeError("field");
  return x;
}

// ---- value lists, ack ids and instance lists as one byte string of varints ----

/** Instances as varints: the first, then each one's distance from the one before (in any order: zigzag). */
function packInstances(insts: readonly number[]): Uint8Array {
  const out = new Uint8Array(insts.length * 8);
  let at = 0;
  let prev = 0;
  for (const inst of insts) {
    const d = inst - prev;
    at = writeVarint(out, at, d >= 0 ? d * 2 : -d * 2 - 1);
    prev = inst;
  }
  return out.subarray(0, at);
}

function unpackInstances(bytes: Uint8Array): number[] {
  const insts: number[] = [];
  const r = { at: 0 };
  let prev = 0;
  while (r.at < bytes.length) {
    const z = readVarint(bytes, r, 2 * INSTANCE_MAX + 1);
    if (z === undefined) throw new DecodeError("field");
    const inst = prev + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    if (inst < 0 || inst > INSTANCE_MAX) throw new DecodeError("field");
    insts.push(inst);
    prev = inst;
  }
  return insts;
}

function packVarints(xs: readonly number[]): Uint8Array {
  const out = new Uint8Array(xs.length * 8);
  let at = 0;
  for (const x of xs) at = writeVarint(out, at, x);
  return out.subarray(0, at);
}

/** Ack ranges: client, first, count, … (count ≥ 1, the range within SEQ_MAX). */
function unpackRanges(bytes: Uint8Array): number[] {
  const xs: number[] = [];
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const client = readVarint(bytes, r, CLIENT_NUMBER_MAX);
    const first = readVarint(bytes, r, SEQ_MAX);
    const count = readVarint(bytes, r, SEQ_MAX);
    if (client === undefined || first === undefined || count === undefined || count === 0 || first + count - 1 > SEQ_MAX) throw new DecodeError("field");
    xs.push(client, first, count);
  }
  return xs;
}

/** A packed batch off the wire, validated now, unpacked only when someone needs its values. */
function batchOf(x: unknown): Batch {
  if (!(x instanceof Uint8Array)) throw new DecodeError("field");
  const batch = Batch.parse(x);
  if (batch === undefined) throw new DecodeError("field");
  return batch;
}
