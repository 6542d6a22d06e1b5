/**
 * The wire budget (src/protocol/wire-budget.ts) against the real codec and MAC: each size it
 * states is what the codec writes, and every message the roles and packers build at the bounds
 * (largest ids, rounds, instances, nonces, cluster id, acceptor count; batches filled to
 * batch.bytesMax; the largest value a client sends) fits datagramBytesMax, for the smallest
 * datagram the config allows, the default, and loopback sizes.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_CONFIG, mergeDeep, validateConfig } from "../../src/config.ts";
import { authenticator } from "../../src/net/auth.ts";
import * as codec from "../../src/net/codec.ts";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Batch, linesOf } from "../../src/protocol/batch.ts";
import { Client } from "../../src/protocol/client.ts";
import { CONFIG_HISTORY_MAX, packHistory } from "../../src/protocol/configuration.ts";
import { ACCEPTORS_MAX, CLIENT_NUMBER_MAX } from "../../src/protocol/id-limits.ts";
import { Effects, type Message, type Proposal, type Vote } from "../../src/protocol/messages.ts";
import { NO_NOTIFY, NotifyWriter, REPORT_ALL, reportList } from "../../src/protocol/notify.ts";
import { chunkAckRanges, chunkBySize, chunkInstances, proposalBytes, sendDecisions, voteBytes } from "../../src/protocol/pack.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { varintBytes } from "../../src/protocol/varint.ts";
import * as W from "../../src/protocol/wire-budget.ts";
import { proposerOptions, submitOf } from "../protocol/helpers.ts";
import { batchOf, valuesOf, type Value } from "../protocol/values.ts";

const WIRE = { cluster: W.CLUSTER_ID_MAX, acceptors: ACCEPTORS_MAX };
const auth = authenticator(new TextEncoder().encode("wire-budget-test-key"), WIRE.cluster);
/** A message as it leaves a process of an authenticated cluster: encoded, then sealed. */
/** The largest stamp a header carries: every message's fixed size counts it. */
const STAMP = { epoch: W.EPOCH_MAX, knownTo: W.INSTANCE_MAX };
const datagram = (m: Message): Uint8Array => auth.seal(codec.encode(m, WIRE, STAMP));

/** The smallest datagram the config allows, the default, a loopback size, the largest. */
const DATAGRAM_SIZES = [W.DATAGRAM_BYTES_MIN, 1400, 65_000, W.UDP_PAYLOAD_BYTES_MAX];

const R = W.ROUND_MAX;
const N = W.NONCE_MAX;
const I = W.INSTANCE_MAX;
/** Instances close to INSTANCE_MAX: every instance field takes its most bytes. */
const BASE = I - 1_000_000;

/** A value with the largest ids (seq − floor as large as seq) and `bytes` of data (no newline: a value is a line). */
const bigIds = (bytes: number, k = 0): Value => ({ client: CLIENT_NUMBER_MAX - k, seq: W.SEQ_MAX - k, floor: 0, data: new Uint8Array(bytes).fill(0x41 + (k % 26)) });

/** A batch of one value (a run of one: a 1-byte count) with the largest ids whose wire size is exactly `wireBytes`. */
function batchOfSize(wireBytes: number): Batch {
  for (let v = 1; v <= 3; v++) {
    const lines = wireBytes - W.BATCH_FRAMING_BYTES - (varintBytes(CLIENT_NUMBER_MAX) + 2 * varintBytes(W.SEQ_MAX) + 1) - v;
    if (lines >= 1 && varintBytes(lines) === v) return batchOf([bigIds(lines - 1)]);
  }
  throw new Error(`no single value makes a batch of ${wireBytes} bytes`);
}

/** A notify list of `entries` entries of the largest numbers (23 bytes each). */
function bigNotify(entries: number): Uint8Array {
  const w = new NotifyWriter(entries * 23);
  for (let k = 0; k < entries; k++) w.add(W.INSTANCE_MAX - k, CLIENT_NUMBER_MAX, W.SEQ_MAX - 2 ** 16, 2 ** 16 - 1);
  return w.finish();
}

/** Batches of assorted sizes up to `bytesMax`: full ones, tiny ones, no-ops. */
function assortedBatches(bytesMax: number, count: number): Batch[] {
  const sizes = [bytesMax, 40, bytesMax - 1, 100, 0, Math.floor(bytesMax / 2), 31, Math.floor(bytesMax / 3)];
  return Array.from({ length: count }, (_, k) => {
    const size = sizes[k % sizes.length]!;
    return size === 0 ? Batch.EMPTY : size >= 60 ? batchOfSize(size) : batchOf([bigIds(size - 31 > 0 ? size - 31 : 0, k)]);
  });
}

function expectFits(messages: readonly Message[], datagramBytesMax: number): void {
  expect(messages.length).toBeGreaterThan(0);
  for (const m of messages) {
    const bytes = datagram(m);
    if (bytes.length > datagramBytesMax) throw new Error(`a ${bytes.length}-byte ${m.t} exceeds datagramBytesMax ${datagramBytesMax}`);
    expect(codec.decode(auth.open(bytes)!, WIRE).t).toBe(m.t); // a valid message, every field within its bound
  }
}

/** The messages of one type sent (to the learners only, for those that go to several groups). */
const sentOf = (fx: Effects, t: Message["t"]): Message[] => fx.sends.filter((s) => s.msg.t === t && (s.to === "learners" || t === "1b" || t === "submit")).map((s) => s.msg);

describe("the wire budget is what the codec writes", () => {
  test("the codec's own bounds and the config's agree with the budget", () => {
    expect(codec.NODE_ID_MAX).toBeGreaterThanOrEqual(ACCEPTORS_MAX);
    expect(codec.WIRE_VERSION).toBeLessThanOrEqual(W.WIRE_VERSION_MAX);
    expect(() => validateConfig(mergeDeep(DEFAULT_CONFIG, { cluster: W.CLUSTER_ID_MAX, acceptors: ACCEPTORS_MAX }))).not.toThrow();
    expect(() => validateConfig(mergeDeep(DEFAULT_CONFIG, { cluster: W.CLUSTER_ID_MAX + 1 }))).toThrow();
    expect(() => validateConfig(mergeDeep(DEFAULT_CONFIG, { acceptors: ACCEPTORS_MAX + 1 }))).toThrow();
  });

  test("each message's fixed size, at its bounds, is exact (lists long enough for 3-byte headers)", () => {
    // 256 entries or bytes in every list: each list header takes its most bytes (3).
    const emptyVotes: Vote[] = Array.from({ length: 86 }, (_, k) => ({ inst: I - k, vRnd: R, vVal: Batch.EMPTY })); // 258 items
    const emptyProposals: Proposal[] = Array.from({ length: 128 }, (_, k) => ({ inst: I - k, cVal: Batch.EMPTY })); // 256 items
    const votesBytes = emptyVotes.length * (W.ENTRY_OVERHEAD_BYTES + 1); // instance, round, empty byte string
    const proposalsBytes = emptyProposals.length * (9 + 1); // instance, empty byte string
    const runs = batchOf([bigIds(300)]);
    const ranges = Array.from({ length: 40 }, (_, k) => [CLIENT_NUMBER_MAX, W.SEQ_MAX - 2 ** 16 - k, 2 ** 16 - 1]).flat(); // 16 bytes a range
    const insts = Array.from({ length: 300 }, (_, k) => BASE + k); // 8 bytes, then 1 each
    const instsBytes = varintBytes(2 * BASE) + insts.length - 1;
    const notify = bigNotify(12); // 276 bytes: a 3-byte header
    const report = reportList(Array.from({ length: ACCEPTORS_MAX }, (_, k) => k + 1)); // 383 bytes
    const history = Array.from({ length: CONFIG_HISTORY_MAX }, (_, k) => ({ epoch: W.EPOCH_MAX - CONFIG_HISTORY_MAX + 1 + k, members: [1, 2, ACCEPTORS_MAX - k], from: I - 1000 * (CONFIG_HISTORY_MAX - k) }));
    expect(packHistory(history).length).toBeGreaterThanOrEqual(256); // a 3-byte header
    const cases: [Message, number][] = [
      [{ t: "submit", runs, via: N }, runs.packed.length],
      [{ t: "ack", ranges }, 40 * 16],
      [{ t: "1a", cRnd: R, nonce: N, from: I, decidedBelow: I, acc: ACCEPTORS_MAX }, 0],
      [{ t: "1b", acc: ACCEPTORS_MAX, ident: N, rnd: R, nonce: N, from: I, to: I, done: false, votes: emptyVotes, decidedBelow: I }, votesBytes],
      [{ t: "nack", acc: ACCEPTORS_MAX, ident: N, rnd: R, cRnd: R, nonce: N }, 0],
      [{ t: "2a", cRnd: R, nonce: N, proposals: emptyProposals, decidedBelow: I, notify, report }, proposalsBytes + notify.length + report.length],
      [{ t: "2b", acc: ACCEPTORS_MAX, ident: N, vRnd: R, nonce: N, insts, decidedBelow: I, notify }, instsBytes + notify.length],
      [{ t: "catchup", from: I, to: I, decidedBelow: I, seenTo: I }, 0],
      [{ t: "decision", decided: emptyProposals, decidedBelow: I }, proposalsBytes],
      [{ t: "trimmed", acc: ACCEPTORS_MAX, ident: N, below: I }, 0],
      [{ t: "votes", acc: ACCEPTORS_MAX, ident: N, from: I, to: I, decidedBelow: I, votes: emptyVotes }, votesBytes],
      [{ t: "refuse", acc: ACCEPTORS_MAX, ident: N }, 0],
      [{ t: "hello", id: ACCEPTORS_MAX, nonce: N, leading: true, startedMs: I }, 0],
      [{ t: "config", history, knownTo: I, decidedBelow: I, ask: true, group: "learners" }, packHistory(history).length],
    ];
    expect(cases.map(([m]) => m.t as string).sort()).toEqual(Object.keys(W.MESSAGE_FIXED_BYTES).sort());
    for (const [m, content] of cases) expect([m.t, datagram(m).length - content]).toEqual([m.t, W.MESSAGE_FIXED_BYTES[m.t]]);
    expect(W.MESSAGE_OVERHEAD_BYTES).toBe(W.MESSAGE_FIXED_BYTES["1b"]);
  });

  test("every type code takes one byte; fixed-size messages fit the smallest datagram", () => {
    for (const t of ["1a", "nack", "catchup", "trimmed", "refuse", "hello"] as const) expect(W.MESSAGE_FIXED_BYTES[t]).toBeLessThanOrEqual(W.DATAGRAM_BYTES_MIN);
    // [array header, version, cluster id (5 bytes), acceptor count (2), epoch (1), knownTo (1), type code, …]
    const m = codec.encode({ t: "refuse", acc: 1, ident: 1 }, WIRE);
    expect(codec.decodeStamped(m, WIRE).stamp).toEqual({ epoch: 0, knownTo: 0 });
    expect(m[11]!).toBe(11); // refuse's code, one byte
    expect(m[11]!).toBeLessThanOrEqual(W.TYPE_CODE_MAX);
  });

  test("a vote or proposal entry, and a batch's framing, are what the codec adds for them", () => {
    const batch = batchOfSize(400); // a 3-byte byte-string header
    expect(batch.packed.length + W.BATCH_FRAMING_BYTES).toBe(400);
    const votes = (n: number): Message => ({ t: "votes", acc: 1, ident: N, from: I, to: I, decidedBelow: I, votes: Array.from({ length: n }, () => ({ inst: I, vRnd: R, vVal: batch })) });
    expect(datagram(votes(2)).length - datagram(votes(1)).length).toBe(W.ENTRY_OVERHEAD_BYTES + batch.wireBytes);
    const twoA = (n: number): Message => ({ t: "2a", cRnd: R, nonce: N, decidedBelow: I, proposals: Array.from({ length: n }, () => ({ inst: I, cVal: batch })), notify: NO_NOTIFY, report: REPORT_ALL });
    expect(datagram(twoA(2)).length - datagram(twoA(1)).length).toBeLessThanOrEqual(W.ENTRY_OVERHEAD_BYTES + batch.wireBytes);
  });

  test("the largest value a client sends fills a batch of the largest ids, but for a run header's count", () => {
    const bytesMax = W.batchBytesLimit(65_000); // lines ≥ 2^14: their length takes the most bytes
    const batch = batchOf([bigIds(W.valueBytesLimit(bytesMax))]);
    // The budget allows a count of 3 bytes; a run of one value takes 1.
    expect(batch.wireBytes).toBe(bytesMax - 2);
    expect(batchOf([bigIds(W.valueBytesLimit(bytesMax) + 3)]).wireBytes).toBeGreaterThan(bytesMax);
  });
});

describe.each(DATAGRAM_SIZES)("at datagramBytesMax %d, with batch.bytesMax at its limit", (datagramBytesMax) => {
  const bytesMax = W.batchBytesLimit(datagramBytesMax);

  test("the config allows this batch.bytesMax and no larger", () => {
    const config = (b: number) => mergeDeep(DEFAULT_CONFIG, { network: { datagramBytesMax }, batch: { bytesMax: b } });
    expect(validateConfig(config(bytesMax)).batch.bytesMax).toBe(bytesMax);
    expect(() => validateConfig(config(bytesMax + 1))).toThrow("batch.bytesMax");
  });

  test("a message around one full batch fits as packers estimate it (none goes out over budget)", () => {
    const full = batchOfSize(bytesMax);
    expect(W.MESSAGE_OVERHEAD_BYTES + voteBytes({ inst: I, vRnd: R, vVal: full })).toBe(datagramBytesMax);
    expect(W.MESSAGE_OVERHEAD_BYTES + proposalBytes({ inst: I, cVal: full })).toBeLessThanOrEqual(datagramBytesMax);
    expect(chunkBySize([full, full], (b) => W.ENTRY_OVERHEAD_BYTES + b.wireBytes, datagramBytesMax)).toEqual([[full], [full]]);
  });

  test("2As of full batches, and of many small ones, packed as a leader packs them", () => {
    const full = Array.from({ length: 5 }, (_, k) => ({ inst: BASE + k, cVal: batchOfSize(bytesMax) }));
    const mixed = assortedBatches(bytesMax, 3000).map((cVal, k) => ({ inst: BASE + 7 * k, cVal }));
    const noOps = Array.from({ length: 20_000 }, (_, k) => ({ inst: BASE + k, cVal: Batch.EMPTY }));
    for (const proposals of [full, mixed, noOps]) {
      const chunks = chunkBySize(proposals, proposalBytes, datagramBytesMax);
      expect(chunks.flat().length).toBe(proposals.length);
      expectFits(chunks.map((chunk) => ({ t: "2a", cRnd: R, nonce: N, proposals: chunk, decidedBelow: I, notify: NO_NOTIFY, report: REPORT_ALL })), datagramBytesMax);
    }
  });

  test("a leader's batches stay within batch.bytesMax, filled with values of the largest ids", () => {
    class Leader extends Proposer {
      take(): Batch {
        return this.takeBatch();
      }
    }
    const p = new Leader(proposerOptions({ batchBytesMax: bytesMax, datagramBytesMax, batchValuesMax: 1_000_000 }));
    const sizes = [W.valueBytesLimit(bytesMax), 0, 17, 200, W.valueBytesLimit(bytesMax) - 1, 3];
    const values = Array.from({ length: 600 }, (_, k) => bigIds(Math.min(sizes[k % sizes.length]!, W.valueBytesLimit(bytesMax)), k));
    const fx = p.step({ kind: "msg", msg: submitOf(values) }, 0);
    expect(fx.violations).toEqual([]);
    let taken = 0;
    for (let batch = p.take(); batch.length > 0; batch = p.take()) {
      taken += batch.length;
      expect(batch.wireBytes).toBeLessThanOrEqual(bytesMax);
      expectFits([{ t: "2a", cRnd: R, nonce: N, proposals: [{ inst: I, cVal: batch }], decidedBelow: I, notify: NO_NOTIFY, report: REPORT_ALL }], datagramBytesMax);
    }
    expect(taken).toBe(values.length);
  });

  test("a value larger than any batch is refused by a proposer, and said so", () => {
    const p = new Proposer(proposerOptions({ batchBytesMax: bytesMax, datagramBytesMax }));
    const fits = valuesOf(batchOfSize(bytesMax));
    const over = valuesOf(batchOfSize(bytesMax + 1));
    expect(p.step({ kind: "msg", msg: submitOf(fits) }, 0).violations).toEqual([]);
    expect(p.step({ kind: "msg", msg: submitOf(over) }, 0).violations).toHaveLength(1);
  });

  test("Decisions packed for a catch-up", () => {
    const decided = assortedBatches(bytesMax, 500).map((cVal, k) => ({ inst: BASE + k, cVal }));
    const fx = new Effects();
    sendDecisions(fx, decided, I, true, datagramBytesMax, 1_000_000);
    const sent = sentOf(fx, "decision");
    expect(sent.flatMap((m) => (m.t === "decision" ? m.decided : [])).length).toBe(decided.length);
    expectFits(sent, datagramBytesMax);
  });

  test("an acceptor's 2Bs, Votes and 1Bs, holding votes of full and small batches", () => {
    const a = new Acceptor({ id: ACCEPTORS_MAX, acceptors: ACCEPTORS_MAX, ident: N, datagramBytesMax, catchupDatagramsMax: 1_000_000, retainInstances: 1_000_000_000 });
    const batches = assortedBatches(bytesMax, 400);
    const all = new Effects();
    const step = (msg: Message): void => {
      const fx = a.step({ kind: "msg", msg }, 0);
      expect(fx.violations).toEqual([]);
      all.sends.push(...fx.sends);
    };
    step({ t: "1a", cRnd: R, nonce: N, from: BASE, decidedBelow: BASE, acc: 0 });
    // One 2A per batch, as a leader sends them, and one 2A of every no-op (a 2B of many instances).
    for (const [k, cVal] of batches.entries()) step({ t: "2a", cRnd: R, nonce: N, proposals: [{ inst: BASE + k, cVal }], decidedBelow: BASE, notify: NO_NOTIFY, report: REPORT_ALL });
    const noOps = Array.from({ length: 5000 }, (_, k) => ({ inst: BASE + batches.length + 3 * k, cVal: Batch.EMPTY }));
    step({ t: "2a", cRnd: R, nonce: N, proposals: noOps, decidedBelow: BASE, notify: NO_NOTIFY, report: REPORT_ALL });
    step({ t: "catchup", from: BASE, to: I, decidedBelow: BASE, seenTo: I });
    step({ t: "1a", cRnd: R, nonce: N, from: BASE, decidedBelow: BASE, acc: 0 });
    for (const t of ["2b", "votes", "1b"] as const) expectFits(sentOf(all, t), datagramBytesMax);
    const votes = sentOf(all, "votes").flatMap((m) => (m.t === "votes" ? m.votes : []));
    expect(votes.length).toBe(batches.length + noOps.length);
    expect(sentOf(all, "2b").flatMap((m) => (m.t === "2b" ? m.insts : [])).length).toBe(batches.length + noOps.length);
  });

  test("2Bs of scattered instances, and Acks of the largest ids", () => {
    const scattered = Array.from({ length: 3000 }, (_, k) => (k % 2 === 0 ? k : I - k)); // 8 bytes each
    const runs = chunkInstances(scattered, datagramBytesMax, 256);
    expect(runs.flat()).toEqual(scattered);
    expectFits(runs.map((insts) => ({ t: "2b", acc: ACCEPTORS_MAX, ident: N, vRnd: R, nonce: N, insts: [...insts], decidedBelow: I, notify: NO_NOTIFY })), datagramBytesMax);
    const ranges = Array.from({ length: 20_000 }, (_, k) => [CLIENT_NUMBER_MAX - k, W.SEQ_MAX - 2 ** 16 - k, 2 ** 16 - 1]).flat();
    const acks = chunkAckRanges(ranges, datagramBytesMax);
    expect(acks.flat()).toEqual(ranges);
    expectFits(acks.map((chunk) => ({ t: "ack", ranges: [...chunk] })), datagramBytesMax);
  });

  test("2As that tell clients where their runs are, and the 2Bs that pass it on, gathered or not", () => {
    // Batches of many runs (one value each, of other clients): long notify lists.
    const p = new Proposer(proposerOptions({ batchBytesMax: bytesMax, datagramBytesMax, batchValuesMax: 4, pipelineWindow: 1000, notifyBelowInflight: Infinity }));
    const values = Array.from({ length: 3000 }, (_, k) => ({ ...bigIds(k % 7 === 0 ? 200 : k % 5, k), seq: W.SEQ_MAX - 2 ** 16 - k }));
    p.step({ kind: "tick" }, 0); // the start-up probe
    for (const acc of [1, 2]) p.step({ kind: "msg", msg: { t: "nack", acc, ident: acc, rnd: 0, cRnd: 0, nonce: p.opts.incarnation } }, 0);
    p.step({ kind: "tick" }, 0); // Phase 1
    for (const acc of [1, 2]) p.step({ kind: "msg", msg: { t: "1b", acc, ident: acc, rnd: p.round, nonce: p.opts.incarnation, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 } }, 0);
    expect(p.isLeader).toBe(true);
    const fx = p.step({ kind: "msg", msg: submitOf(values) }, 1);
    const twoAs = sentOf(fx, "2a");
    expect(twoAs.some((m) => m.t === "2a" && m.notify.length > 0)).toBe(true);
    expectFits(twoAs, datagramBytesMax - W.NOTIFY_2B_MARGIN_BYTES);
    for (const gather of [false, true]) {
      const a = new Acceptor({ id: ACCEPTORS_MAX, acceptors: ACCEPTORS_MAX, ident: N, datagramBytesMax, catchupDatagramsMax: 64, retainInstances: 1_000_000_000, gather });
      const all = new Effects();
      for (const m of twoAs) all.sends.push(...a.step({ kind: "msg", msg: m }, 0).sends);
      all.sends.push(...a.flush(0).sends);
      const toClients = all.sends.filter((s) => s.to === "clients").map((s) => s.msg);
      expect(toClients.length).toBeGreaterThan(0);
      expectFits(toClients, datagramBytesMax);
      const toLearners = all.sends.filter((s) => s.to === "learners").map((s) => s.msg);
      expect(toLearners.flatMap((m) => (m.t === "2b" ? m.insts : [])).length).toBe(twoAs.flatMap((m) => (m.t === "2a" ? m.proposals : [])).length);
    }
  });

  test("a client's Submits: the largest value it sends, alone and among small ones", () => {
    const largest = bigIds(W.valueBytesLimit(bytesMax));
    expect(batchOf([largest]).wireBytes).toBeLessThanOrEqual(bytesMax);
    expectFits([submitOf([largest], N)], datagramBytesMax);
    const c = new Client({ id: CLIENT_NUMBER_MAX, acceptors: 3, outstandingMax: 1000, batchBytesMax: bytesMax, retransmitMs: 100, retransmitMinMs: 100, seqBase: W.SEQ_MAX - 2000 });
    const datas = Array.from({ length: 300 }, (_, k) => new Uint8Array(k % 3 === 0 ? W.valueBytesLimit(bytesMax) : k % 50).fill(0x41));
    const fx = c.step({ kind: "submit", lines: linesOf(datas), count: datas.length }, 0);
    expectFits(sentOf(fx, "submit"), datagramBytesMax);
    for (const m of sentOf(fx, "submit")) if (m.t === "submit") expect(m.runs.wireBytes).toBeLessThanOrEqual(bytesMax);
    expect(sentOf(fx, "submit").reduce((n, m) => n + (m.t === "submit" ? m.runs.length : 0), 0)).toBe(datas.length);
  });
});
