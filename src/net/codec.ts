/**
 * Wire format: one CBOR array per datagram, [WIRE_VERSION, clusterId, type, ...fields].
 * A batch of values travels as one CBOR byte string of varint-prefixed entries
 * (client, seq, length, bytes), so encoding cost does not grow with CBOR items per value.
 * Decoding validates every field; anything malformed throws a DecodeError naming the reason.
 */
import { Decoder } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import type { Batch, Message, Proposal, Value, Vote } from "../protocol/messages.ts";

export const WIRE_VERSION = 1;
/** Largest UDP payload over IPv4. */
export const UDP_PAYLOAD_BYTES_MAX = 65_507;
/** Bounds that make a field impossible (and the datagram dropped). */
export const ROUND_MAX = 2 ** 48;
export const INSTANCE_MAX = 2 ** 48;
export const NODE_ID_MAX = 0xffff;
export const CLIENT_ID_MAX = 0xffff_ffff;

const TYPE_CODES = ["submit", "ack", "1a", "1b", "nack", "2a", "2b", "catchup", "decision"] as const;
type TypeName = (typeof TYPE_CODES)[number];
const CODE_OF = new Map<TypeName, number>(TYPE_CODES.map((t, i) => [t, i]));

export class DecodeError extends Error {
  constructor(readonly reason: "cbor" | "shape" | "version" | "cluster" | "type" | "field" | "size") {
    super(reason);
  }
}

const encoder = new Encoder({ useRecords: false, tagUint8Array: false, useFloat32: 0 } as never);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false } as never);

export function encode(msg: Message, clusterId: number): Uint8Array {
  return encoder.encode([WIRE_VERSION, clusterId, CODE_OF.get(msg.t)!, ...fields(msg)]);
}

function fields(msg: Message): unknown[] {
  switch (msg.t) {
    case "submit":
      return [packBatch(msg.values)];
    case "ack":
      return [packVarints(msg.ids)];
    case "1a":
      return [msg.cRnd, msg.from];
    case "1b":
      return [msg.acc, msg.rnd, msg.from, msg.to, msg.done, flatVotes(msg.votes)];
    case "nack":
      return [msg.acc, msg.rnd];
    case "2a":
      return [msg.cRnd, flatProposals(msg.proposals)];
    case "2b":
      return [msg.acc, flatVotes(msg.votes)];
    case "catchup":
      return [msg.from, msg.to];
    case "decision":
      return [flatProposals(msg.decided)];
  }
}

const flatVotes = (votes: readonly Vote[]): unknown[] => votes.flatMap((v) => [v.inst, v.vRnd, packBatch(v.vVal)]);
const flatProposals = (ps: readonly Proposal[]): unknown[] => ps.flatMap((p) => [p.inst, packBatch(p.cVal)]);

/** Decodes one datagram of cluster `clusterId`; throws DecodeError when it is not a valid message. */
export function decode(bytes: Uint8Array, clusterId: number): Message {
  if (bytes.length > UDP_PAYLOAD_BYTES_MAX) throw new DecodeError("size");
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch {
    throw new DecodeError("cbor");
  }
  if (!Array.isArray(raw) || raw.length < 3) throw new DecodeError("shape");
  if (raw[0] !== WIRE_VERSION) throw new DecodeError("version");
  if (raw[1] !== clusterId) throw new DecodeError("cluster");
  const f = new Fields(raw, 3);
  const t = TYPE_CODES[raw[2] as number];
  if (typeof raw[2] !== "number" || t === undefined) throw new DecodeError("type");
  let msg: Message;
  switch (t) {
    case "submit":
      msg = { t, values: f.batch() };
      break;
    case "ack":
      msg = { t, ids: unpackVarints(f.bytes()) };
      break;
    case "1a":
      msg = { t, cRnd: f.int(ROUND_MAX), from: f.int(INSTANCE_MAX) };
      break;
    case "1b":
      msg = {
        t,
        acc: f.int(NODE_ID_MAX),
        rnd: f.int(ROUND_MAX),
        from: f.int(INSTANCE_MAX),
        to: f.int(INSTANCE_MAX),
        done: f.bool(),
        votes: f.votes(),
      };
      break;
    case "nack":
      msg = { t, acc: f.int(NODE_ID_MAX), rnd: f.int(ROUND_MAX) };
      break;
    case "2a":
      msg = { t, cRnd: f.int(ROUND_MAX), proposals: f.proposals() };
      break;
    case "2b":
      msg = { t, acc: f.int(NODE_ID_MAX), votes: f.votes() };
      break;
    case "catchup":
      msg = { t, from: f.int(INSTANCE_MAX), to: f.int(INSTANCE_MAX) };
      break;
    case "decision":
      msg = { t, decided: f.proposals() };
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
    return unpackBatch(this.bytes());
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
      const vVal = xs[i + 2];
      if (!(vVal instanceof Uint8Array)) throw new DecodeError("field");
      votes.push({ inst: checkInt(xs[i], INSTANCE_MAX), vRnd: checkInt(xs[i + 1], ROUND_MAX), vVal: unpackBatch(vVal) });
    }
    return votes;
  }

  proposals(): Proposal[] {
    const xs = this.array(2);
    const ps: Proposal[] = [];
    for (let i = 0; i < xs.length; i += 2) {
      const cVal = xs[i + 1];
      if (!(cVal instanceof Uint8Array)) throw new DecodeError("field");
      ps.push({ inst: checkInt(xs[i], INSTANCE_MAX), cVal: unpackBatch(cVal) });
    }
    return ps;
  }
}

function checkInt(x: unknown, max: number): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > max) throw new DecodeError("field");
  return x;
}

// ---- batches: varint(client) varint(seq) varint(length) bytes, repeated ----

const SEQ_MAX = Number.MAX_SAFE_INTEGER;

export function packBatch(batch: Batch): Uint8Array {
  let size = 0;
  for (const v of batch) size += 24 + v.data.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const v of batch) {
    at = writeVarint(out, at, v.client);
    at = writeVarint(out, at, v.seq);
    at = writeVarint(out, at, v.data.length);
    out.set(v.data, at);
    at += v.data.length;
  }
  return out.subarray(0, at);
}

export function unpackBatch(bytes: Uint8Array): Value[] {
  const values: Value[] = [];
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const client = readVarint(bytes, r, CLIENT_ID_MAX);
    const seq = readVarint(bytes, r, SEQ_MAX);
    const length = readVarint(bytes, r, bytes.length);
    if (r.at + length > bytes.length) throw new DecodeError("field");
    values.push({ client, seq, data: bytes.subarray(r.at, r.at + length) });
    r.at += length;
  }
  return values;
}

function packVarints(xs: readonly number[]): Uint8Array {
  const out = new Uint8Array(xs.length * 8);
  let at = 0;
  for (const x of xs) at = writeVarint(out, at, x);
  return out.subarray(0, at);
}

function unpackVarints(bytes: Uint8Array): number[] {
  const xs: number[] = [];
  const r = { at: 0 };
  while (r.at < bytes.length) xs.push(readVarint(bytes, r, SEQ_MAX));
  if (xs.length % 2 !== 0) throw new DecodeError("field");
  for (let i = 0; i < xs.length; i += 2) if (xs[i]! > CLIENT_ID_MAX) throw new DecodeError("field");
  return xs;
}

/** LEB128 for non-negative safe integers (up to 8 bytes for 2^53). */
function writeVarint(out: Uint8Array, at: number, x: number): number {
  while (x >= 0x80) {
    out[at++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  out[at++] = x;
  return at;
}

function readVarint(bytes: Uint8Array, r: { at: number }, max: number): number {
  let x = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (r.at >= bytes.length) throw new DecodeError("field");
    const b = bytes[r.at++]!;
    x += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (x > max) throw new DecodeError("field");
      return x;
    }
    scale *= 0x80;
  }
  throw new DecodeError("field");
}
