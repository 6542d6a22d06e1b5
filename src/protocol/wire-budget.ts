/**
 * The datagram size budget, derived once from the wire encoding (src/net/codec.ts). Every size a
 * packer, a client or the config check relies on comes from here, and
 * test/net/wire-budget.test.ts encodes worst-case messages with the real codec, MAC included, to
 * show that each bound holds.
 *
 * A datagram is one CBOR array [version, cluster, acceptors, epoch, knownTo, type, ...fields] (cbor-x), followed
 * by a 16-byte MAC when the cluster has a key. cbor-x writes an unsigned integer in 1 byte below
 * 24, 2 below 2^8, 3 below 2^16, 5 below 2^32 and 9 above (uint64, or float64 beyond 2^32: 9
 * bytes either way); an array or a byte string starts with a header of that size for its length.
 * Batches (runs of values: batch.ts), Ack ranges, 2B instances and notify lists (notify.ts) are
 * byte strings of varints (varint.ts).
 */
import { assert } from "./assert.ts";
import { ACCEPTORS_MAX, CLIENT_NUMBER_MAX } from "./id-limits.ts";
import { varintBytes } from "./varint.ts";

// ---- field bounds: the codec refuses anything larger, so no message carries more ----

/** Largest UDP payload over IPv4. */
export const UDP_PAYLOAD_BYTES_MAX = 65_507;
/** The MAC an authenticated datagram ends with (net/auth.ts). */
export const AUTH_TAG_BYTES = 16;
/** Rounds start from the clock (ms × ROUND_STRIDE), so they need 52 bits until about 2112. */
export const ROUND_MAX = 2 ** 52;
export const INSTANCE_MAX = 2 ** 48;
/** Proposer incarnation nonces and acceptor identities are in [1, NONCE_MAX] (0: unknown). */
export const NONCE_MAX = 2 ** 48;
/** Configuration epochs (one per change of the acceptor set). */
export const EPOCH_MAX = 0xffff_ffff;
/** A client's value numbers. */
export const SEQ_MAX = Number.MAX_SAFE_INTEGER;
/** Config `cluster`. */
export const CLUSTER_ID_MAX = 0xffff_ffff;
/** The wire version and the message type codes stay below 24: one byte each. */
export const WIRE_VERSION_MAX = 23;
export const TYPE_CODE_MAX = 23;

/** Bytes cbor-x takes for the unsigned integer `x` (or for the header of a list of `x` items). */
export function cborUintBytes(x: number): number {
  return x < 24 ? 1 : x < 0x100 ? 2 : x < 0x1_0000 ? 3 : x < 0x1_0000_0000 ? 5 : 9;
}

const ROUND = cborUintBytes(ROUND_MAX); // 9
const INSTANCE = cborUintBytes(INSTANCE_MAX); // 9
const NONCE = cborUintBytes(NONCE_MAX); // 9: nonces and acceptor identities
const ACC = cborUintBytes(ACCEPTORS_MAX); // 2: acceptor ids
const BOOL = 1;
/**
 * The length header of an array or byte string inside a datagram (3): a datagram has at most
 * UDP_PAYLOAD_BYTES_MAX bytes, so no list in it reaches 2^16 bytes or items.
 */
const LENGTH = cborUintBytes(UDP_PAYLOAD_BYTES_MAX);

/**
 * What every datagram carries besides its fields (40): the array's header (at most 6 + 9
 * items: 1 byte), version, cluster id, acceptor count, configuration epoch and knownTo, type
 * code, and the MAC.
 */
const ENVELOPE =
  1 + cborUintBytes(WIRE_VERSION_MAX) + cborUintBytes(CLUSTER_ID_MAX) + ACC + cborUintBytes(EPOCH_MAX) + INSTANCE + cborUintBytes(TYPE_CODE_MAX) + AUTH_TAG_BYTES;

/**
 * Each message's size besides the content of its lists (values, ids, votes, proposals,
 * instances), at worst: the envelope, every scalar field at its bound, and each list's header.
 * Field order as in net/codec.ts.
 */
export const MESSAGE_FIXED_BYTES = {
  submit: ENVELOPE + LENGTH + NONCE, // runs, via: 38
  ack: ENVELOPE + LENGTH, // ranges: 29
  "1a": ENVELOPE + ROUND + NONCE + INSTANCE + INSTANCE + ACC, // cRnd, nonce, from, decidedBelow, acc: 64
  "1b": ENVELOPE + ACC + NONCE + ROUND + NONCE + INSTANCE + INSTANCE + BOOL + LENGTH + INSTANCE, // acc, ident, rnd, nonce, from, to, done, votes, decidedBelow: 86
  nack: ENVELOPE + ACC + NONCE + ROUND + ROUND + NONCE, // acc, ident, rnd, cRnd, nonce: 64
  "2a": ENVELOPE + ROUND + NONCE + LENGTH + INSTANCE + LENGTH + LENGTH, // cRnd, nonce, proposals, decidedBelow, notify, report: 62
  "2b": ENVELOPE + ACC + NONCE + ROUND + NONCE + LENGTH + INSTANCE + LENGTH, // acc, ident, vRnd, nonce, insts, decidedBelow, notify: 70
  catchup: ENVELOPE + INSTANCE * 4, // from, to, decidedBelow, seenTo: 62
  decision: ENVELOPE + LENGTH + INSTANCE, // decided, decidedBelow: 38
  trimmed: ENVELOPE + ACC + NONCE + INSTANCE, // acc, ident, below: 46
  votes: ENVELOPE + ACC + NONCE + INSTANCE * 3 + LENGTH, // acc, ident, from, to, decidedBelow, votes: 67
  refuse: ENVELOPE + ACC + NONCE, // acc, ident: 37
  hello: ENVELOPE + ACC + NONCE + BOOL + INSTANCE, // id, nonce, leading, startedMs: 61
  config: ENVELOPE + LENGTH + INSTANCE * 2 + BOOL + 1, // history, knownTo, decidedBelow, ask, group: 63
} as const;

/** The fixed part of the largest message (a 1B): what a packer reserves in each datagram. */
export const MESSAGE_OVERHEAD_BYTES = Math.max(...Object.values(MESSAGE_FIXED_BYTES));

/** A batch's own framing: the header of the byte string its packed values travel in (3). */
export const BATCH_FRAMING_BYTES = LENGTH;

/**
 * What an entry of a vote or proposal list takes besides its batch (18): a vote's instance and
 * round (a proposal has only the instance).
 */
export const ENTRY_OVERHEAD_BYTES = INSTANCE + ROUND;

/**
 * A run's header at worst (27): varints of the client number, the first seq, first − floor (at
 * most the seq), the count and the lines' length (both below 2^16).
 */
export const RUN_HEADER_BYTES_MAX =
  varintBytes(CLIENT_NUMBER_MAX) + varintBytes(SEQ_MAX) + varintBytes(SEQ_MAX) + varintBytes(UDP_PAYLOAD_BYTES_MAX) + varintBytes(UDP_PAYLOAD_BYTES_MAX);

/**
 * Room a value needs in a batch besides its bytes (31): the batch's framing, a run header and
 * the newline that ends it. A value of at most batch.bytesMax − VALUE_OVERHEAD_BYTES bytes fits
 * a batch alone, whatever its ids.
 */
export const VALUE_OVERHEAD_BYTES = BATCH_FRAMING_BYTES + RUN_HEADER_BYTES_MAX + 1;

/**
 * What batch.bytesMax must leave of network.datagramBytesMax (104): a batch counts its framing
 * (Batch.wireBytes ≤ batch.bytesMax), and the message that holds one batch, as packers estimate
 * it, is at most MESSAGE_OVERHEAD_BYTES + ENTRY_OVERHEAD_BYTES more. So every 2A, 1B, Votes and
 * Decision a packer builds fits a datagram, and so does a Submit of one value of the largest size
 * a client sends (MESSAGE_FIXED_BYTES.submit + VALUE_FIELDS_BYTES is below this margin).
 */
export const BATCH_MARGIN_BYTES = MESSAGE_OVERHEAD_BYTES + ENTRY_OVERHEAD_BYTES;

/** The largest batch.bytesMax a datagram of `datagramBytesMax` bytes allows. */
export const batchBytesLimit = (datagramBytesMax: number): number => datagramBytesMax - BATCH_MARGIN_BYTES;

/** The largest value a client sends with batches of `batchBytesMax` bytes. */
export const valueBytesLimit = (batchBytesMax: number): number => batchBytesMax - VALUE_OVERHEAD_BYTES;

/** Config bounds: the smallest datagram and batch sizes (a datagram of the smallest size holds a batch). */
export const DATAGRAM_BYTES_MIN = 512;
export const BATCH_BYTES_MIN = 64;

assert(batchBytesLimit(DATAGRAM_BYTES_MIN) >= BATCH_BYTES_MIN, "the smallest datagram holds a batch of the smallest size");
assert(valueBytesLimit(BATCH_BYTES_MIN) > 0, "the smallest batch holds a value");
assert(MESSAGE_FIXED_BYTES.submit <= BATCH_MARGIN_BYTES, "a Submit of one run fits where its batch fits");

/**
 * A 2A that tells clients where their runs are (`notify`) is kept this much below a datagram: the
 * acceptors' 2B passes the notify list on, and its fixed part (with instances as varints, no
 * larger than the 2A's) is this much larger than a 2A's.
 */
export const NOTIFY_2B_MARGIN_BYTES = MESSAGE_FIXED_BYTES["2b"] - MESSAGE_FIXED_BYTES["2a"];

/** Bytes an Ack takes per range (client, first, count). */
export const ackRangeBytes = (client: number, first: number, count: number): number => varintBytes(client) + varintBytes(first) + varintBytes(count);

/**
 * Bytes a 2B takes for instance `inst` after `prev` (0 for the first): its difference as a
 * zigzag varint (net/codec.ts packInstances).
 */
export function instanceBytes(prev: number, inst: number): number {
  const d = inst - prev;
  return varintBytes(d >= 0 ? d * 2 : -d * 2 - 1);
}
