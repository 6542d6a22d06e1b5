/**
 * Wire format: one CBOR array per datagram,
 * [WIRE_VERSION, clusterId, acceptors, epoch, knownTo, type, ...fields].
 * `acceptors` is the sender's configured acceptor count (the initial configuration, epoch 0): a
 * process configured with another count must not take part (its datagrams are dropped as
 * `config`, and it drops ours). `epoch` and `knownTo` are the sender's configuration stamp
 * (protocol/configuration.ts): the receiving role learns from it, or tells the sender.
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
import { packHistory, unpackHistory, type ConfigStamp, type Configuration } from "../protocol/configuration.ts";
import { CLIENT_NUMBER_MAX } from "../protocol/id-limits.ts";
import type { Message, Proposal, Vote } from "../protocol/messages.ts";
import { validNotify, validReport } from "../protocol/notify.ts";
import { readVarint, writeVarint } from "../protocol/varint.ts";
import { EPOCH_MAX, INSTANCE_MAX, NONCE_MAX, ROUND_MAX, SEQ_MAX, UDP_PAYLOAD_BYTES_MAX } from "../protocol/wire-budget.ts";

export const WIRE_VERSION = 5;
/** Field bounds are in src/protocol/wire-budget.ts: a value beyond one makes the datagram dropped. */
export const NODE_ID_MAX = 0xffff;


/** The type code of a message is its index here: append new types, never reorder (the wire changes). */
const TYPE_CODES = ["submit", "ack", "1a", "1b", "nack", "2a", "2b", "catchup", "decision", "trimmed", "votes", "refuse", "hello", "config"] as const;
/** Group codes in a Config message: their index here. */
const GROUP_CODES = ["clients", "proposers", "acceptors", "learners"] as const;
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

/** The stamp of a process that knows only the initial configuration, and nothing of the log. */
export const NO_STAMP: ConfigStamp = { epoch: 0, knownTo: 0 };

export function encode(msg: Message, wire: WireId, stamp: ConfigStamp = NO_STAMP): Uint8Array {
  return encodeArray([WIRE_VERSION, wire.cluster, wire.acceptors, stamp.epoch, stamp.knownTo, CODE_OF.get(msg.t)!, ...fields(msg)]);
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
      return [flatProposals(msg.decided), msg.decidedBelow];
    case "trimmed":
      return [msg.acc, msg.ident, msg.below];
    case "votes":
      return [msg.acc, msg.ident, msg.from, msg.to, msg.decidedBelow, flatVotes(msg.votes)];
    case "refuse":
      return [msg.acc, msg.ident];
    case "hello":
      return [msg.id, msg.nonce, msg.leading, msg.startedMs];
    case "config":
      return [packHistory(msg.history), msg.knownTo, msg.decidedBelow, msg.ask, GROUP_CODES.indexOf(msg.group)];
  }
}

const flatVotes = (votes: readonly Vote[]): Item[] => votes.flatMap((v) => [v.inst, v.vRnd, v.vVal.packed]);
const flatProposals = (ps: readonly Proposal[]): Item[] => ps.flatMap((p) => [p.inst, p.cVal.packed]);

/**
 * Decodes one datagram of this cluster; throws DecodeError when it is not a valid message. The
 * datagram is read in place (CborReader, no intermediate objects); anything it does not expect
 * there — a malformed or unusual CBOR form, another shape — is decoded again by cbor-x, whose
 * reading decides what is wrong with it: both readings accept the same datagrams, as the same
 * messages (test/net/codec.test.ts).
 */
export function decode(bytes: Uint8Array, wire: WireId): Message {
  return decodeStamped(bytes, wire).msg;
}

/** A datagram's message and its sender's configuration stamp. */
export interface Stamped {
  readonly msg: Message;
  readonly stamp: ConfigStamp;
}

/** Where the header ends: version, cluster, acceptors, epoch, knownTo, type. */
const HEADER_ITEMS = 6;

/** Decodes one datagram, with the stamp its header carries. */
export function decodeStamped(bytes: Uint8Array, wire: WireId): Stamped {
  if (bytes.length > UDP_PAYLOAD_BYTES_MAX) throw new DecodeError("size");
  const r = new CborReader(bytes);
  try {
    const n = r.arrayHead();
    if (n >= HEADER_ITEMS) {
      const version = r.uint();
      const cluster = r.uint();
      const acceptors = r.uint();
      const epoch = r.uint();
      const knownTo = r.uint();
      const type = r.uint();
      if (version === WIRE_VERSION && cluster === wire.cluster && acceptors === wire.acceptors && validStamp(epoch, knownTo) && Number.isInteger(type) && type < TYPE_CODES.length) {
        const msg = fieldsOf(TYPE_CODES[type]!, new StreamFields(r, n - HEADER_ITEMS));
        if (r.done()) return { msg, stamp: { epoch, knownTo } };
      }
    }
  } catch (e) {
    if (!(e instanceof Unusual)) throw e;
  }
  return decodeWithCborX(bytes, wire);
}

const validStamp = (epoch: unknown, knownTo: unknown): boolean =>
  typeof epoch === "number" && Number.isInteger(epoch) && epoch >= 0 && epoch <= EPOCH_MAX && typeof knownTo === "number" && Number.isInteger(knownTo) && knownTo >= 0 && knownTo <= INSTANCE_MAX;

/** Decoding by cbor-x alone (what `decode` falls back to; exported for the tests that compare both). */
export function decodeWithCborX(bytes: Uint8Array, wire: WireId): Stamped {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch {
    throw new DecodeError("cbor");
  }
  if (!Array.isArray(raw) || raw.length < HEADER_ITEMS) throw new DecodeError("shape");
  if (raw[0] !== WIRE_VERSION) throw new DecodeError("version");
  if (raw[1] !== wire.cluster) throw new DecodeError("cluster");
  if (raw[2] !== wire.acceptors) throw new DecodeError("config");
  if (!validStamp(raw[3], raw[4])) throw new DecodeError("field");
  const t = TYPE_CODES[raw[5] as number];
  if (typeof raw[5] !== "number" || t === undefined) throw new DecodeError("type");
  return { msg: fieldsOf(t, new ArrayFields(raw, HEADER_ITEMS)), stamp: { epoch: raw[3] as number, knownTo: raw[4] as number } };
}

/** The fields of a message of type `t`, read and checked in the wire order. */
function fieldsOf(t: TypeName, f: Fields): Message {
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
      msg = { t, decided: f.proposals(), decidedBelow: f.int(INSTANCE_MAX) };
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
      msg = { t, id: f.int(NODE_ID_MAX), nonce: f.int(NONCE_MAX), leading: f.bool(), startedMs: f.int(INSTANCE_MAX) };
      break;
    case "config": {
      const history = unpackHistoryField(f.bytes());
      msg = { t, history, knownTo: f.int(INSTANCE_MAX), decidedBelow: f.int(INSTANCE_MAX), ask: f.bool(), group: GROUP_CODES[f.int(GROUP_CODES.length - 1)]! };
      break;
    }
  }
  f.end();
  return msg;
}

/** How a message's fields are read: in place from the datagram, or from cbor-x's decoding of it. */
interface Fields {
  end(): void;
  int(max: number): number;
  bool(): boolean;
  bytes(): Uint8Array;
  batch(): Batch;
  notify(): Uint8Array;
  report(): Uint8Array;
  votes(): Vote[];
  proposals(): Proposal[];
}

/** The checks shared by both readings. */
abstract class CheckedFields implements Fields {
  abstract end(): void;
  abstract int(max: number): number;
  abstract bool(): boolean;
  abstract bytes(): Uint8Array;
  abstract votes(): Vote[];
  abstract proposals(): Proposal[];

  batch(): Batch {
    return batchOf(this.bytesOrField());
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

  /** The next item if it is a byte string (else a `field` error). */
  protected abstract bytesOrField(): unknown;
}

/** A float64 read from its bytes (little-endian in memory: x86 and arm64, which the binaries are built for). */
const FLOAT = new Float64Array(1);
const FLOAT_BYTES = new Uint8Array(FLOAT.buffer);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("codec: a little-endian machine is needed (x86-64, arm64)");

/** Thrown by the in-place reader at anything it does not expect: cbor-x reads the datagram again. */
class Unusual extends Error {}
const UNUSUAL = new Unusual();

/** Fields read in place from the datagram's CBOR. */
class StreamFields extends CheckedFields {
  constructor(
    private readonly r: CborReader,
    private left: number,
  ) {
    super();
  }

  private take(): void {
    if (this.left-- <= 0) throw UNUSUAL;
  }

  end(): void {
    if (this.left !== 0) throw UNUSUAL;
  }

  int(max: number): number {
    this.take();
    return checkInt(this.r.uint(), max);
  }

  bool(): boolean {
    this.take();
    return this.r.bool();
  }

  bytes(): Uint8Array {
    this.take();
    return this.r.bytes();
  }

  protected bytesOrField(): unknown {
    return this.bytes();
  }

  votes(): Vote[] {
    this.take();
    const n = this.r.arrayHead();
    if (n % 3 !== 0) throw new DecodeError("field");
    const votes: Vote[] = [];
    for (let i = 0; i < n; i += 3) votes.push({ inst: checkInt(this.r.uint(), INSTANCE_MAX), vRnd: checkInt(this.r.uint(), ROUND_MAX), vVal: batchOf(this.r.bytes()) });
    return votes;
  }

  proposals(): Proposal[] {
    this.take();
    const n = this.r.arrayHead();
    if (n % 2 !== 0) throw new DecodeError("field");
    const ps: Proposal[] = [];
    for (let i = 0; i < n; i += 2) ps.push({ inst: checkInt(this.r.uint(), INSTANCE_MAX), cVal: batchOf(this.r.bytes()) });
    return ps;
  }
}

/**
 * A reader of the CBOR forms the codec writes: definite-length arrays and byte strings,
 * booleans, unsigned integers (1, 2, 4 bytes after the head, or a float64 holding an integer).
 * Anything else throws UNUSUAL.
 */
class CborReader {
  private at = 0;

  constructor(private readonly b: Uint8Array) {}

  done(): boolean {
    return this.at === this.b.length;
  }

  /** The argument of a head of major type `major` (below 2^32). */
  private head(major: number): number {
    const b = this.b;
    if (this.at >= b.length) throw UNUSUAL;
    const first = b[this.at++]!;
    if (first >> 5 !== major) throw UNUSUAL;
    const info = first & 0x1f;
    if (info < 24) return info;
    const at = this.at;
    if (info === 24 && at + 1 <= b.length) return (this.at = at + 1), b[at]!;
    if (info === 25 && at + 2 <= b.length) return (this.at = at + 2), b[at]! * 0x100 + b[at + 1]!;
    if (info === 26 && at + 4 <= b.length) return (this.at = at + 4), b[at]! * 0x100_0000 + b[at + 1]! * 0x1_0000 + b[at + 2]! * 0x100 + b[at + 3]!;
    throw UNUSUAL;
  }

  arrayHead(): number {
    return this.head(4);
  }

  uint(): number {
    if (this.b[this.at] === 0xfb && this.at + 9 <= this.b.length) {
      for (let k = 0; k < 8; k++) FLOAT_BYTES[7 - k] = this.b[this.at + 1 + k]!; // big-endian on the wire
      this.at += 9;
      return FLOAT[0]!; // checked as an integer by the caller
    }
    return this.head(0);
  }

  bool(): boolean {
    const x = this.b[this.at];
    if (x !== 0xf4 && x !== 0xf5) throw UNUSUAL;
    this.at++;
    return x === 0xf5;
  }

  bytes(): Uint8Array {
    const n = this.head(2);
    if (this.at + n > this.b.length) throw UNUSUAL;
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** Fields of cbor-x's decoding of a datagram, read in order. */
class ArrayFields extends CheckedFields {
  constructor(
    private readonly raw: unknown[],
    private at: number,
  ) {
    super();
  }

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

  protected bytesOrField(): unknown {
    return this.next();
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

function unpackHistoryField(bytes: Uint8Array): Configuration[] {
  const h = unpackHistory(bytes, EPOCH_MAX, INSTANCE_MAX);
  if (h === undefined) throw new DecodeError("field");
  return h;
}

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
