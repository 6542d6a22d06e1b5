import { Batch } from "../../src/protocol/batch.ts";
import { batchBytesLimit } from "../../src/protocol/wire-budget.ts";
import type { Delivered, Effects, Group, Message, Role } from "../../src/protocol/messages.ts";
import { NO_NOTIFY, REPORT_ALL } from "../../src/protocol/notify.ts";
import type { Proposer, ProposerOptions } from "../../src/protocol/proposer.ts";
import { batchOf, runsOf, valuesOf, valuesOfRuns, type Value } from "./values.ts";

export type { Value } from "./values.ts";

const enc = new TextEncoder();

/** The incarnation nonce of test proposers (and of the 1A/2A tests hand to acceptors). */
export const NONCE = 77;

export const val = (client: number, seq: number, text = `v${client}.${seq}`): Value => ({
  client,
  seq,
  floor: 0,
  data: enc.encode(text),
});

/** The messages of one type sent to one group. */
export function sent<T extends Message["t"]>(fx: Effects, to: Group, t: T): Extract<Message, { t: T }>[] {
  return fx.sends.filter((s) => s.to === to && s.msg.t === t).map((s) => s.msg as Extract<Message, { t: T }>);
}

/** A batch of the given values (consecutive seqs of a client in one run). */
export const b = (...values: Value[]): Batch => batchOf(values);

/** A Submit of the given values, as a client (`via` 0) or a forwarding proposer sends it. */
export const submitOf = (values: readonly Value[], via = 0): Message => ({ t: "submit", runs: Batch.ofRuns(runsOf(values)), via });

/** Value ids "client:seq" of a batch, a list of values, or runs delivered. */
export function ids(of: Batch | readonly Value[] | readonly Delivered[]): string[] {
  const values = of instanceof Batch ? valuesOf(of) : of.length > 0 && "lines" in of[0]! ? valuesOfRuns(of as readonly Delivered[]) : (of as readonly Value[]);
  return values.map((v) => `${v.client}:${v.seq}`);
}

/** Acked ids "client:seq" of Ack ranges (flat client, first, count). */
export const ackedIds = (ranges: readonly number[]): string[] => {
  const out: string[] = [];
  for (let k = 0; k + 2 < ranges.length; k += 3) for (let i = 0; i < ranges[k + 2]!; i++) out.push(`${ranges[k]}:${ranges[k + 1]! + i}`);
  return out;
};

/**
 * Takes a new proposer through its start-up probe (a round-0 query answered by `acceptors`, or by
 * two fresh acceptors when none are given); returns the effects of the tick that starts Phase 1.
 */
export function startProposer(p: Proposer, t = 0, acceptors?: Role[]): Effects {
  const probe = p.step({ kind: "tick" }, t);
  const answers: Message[] = acceptors
    ? acceptors.flatMap((a) => sent(probe, "acceptors", "1a").flatMap((m) => a.step({ kind: "msg", msg: m }, t).sends.map((s) => s.msg)))
    : [1, 2].map((acc) => ({ t: "nack", acc, ident: acc, rnd: 0, cRnd: 0, nonce: p.opts.incarnation }) as Message);
  for (const m of answers) p.step({ kind: "msg", msg: m }, t);
  return p.step({ kind: "tick" }, t);
}

/** Proposer options for tests; `over` changes some. */
export const proposerOptions = (over: Partial<ProposerOptions> = {}): ProposerOptions => ({
  id: 1,
  acceptors: 3,
  batchValuesMax: 10,
  batchBytesMax: batchBytesLimit(1400),
  datagramBytesMax: 1400,
  pipelineWindow: 4,
  pendingValuesMax: 1000,
  retransmitMs: 50,
  takeoverMs: 100,
  clientRetransmitMs: 500,
  catchupDatagramsMax: 4,
  random: () => 0.5,
  roundFloor: 0,
  retainInstances: 1_000_000,
  incarnation: NONCE,
  probeWaitMs: 0,
  ...over,
});

/**
 * A 2B as acceptors send it (round and instances, no batches), from votes written with their
 * batches for readability; the batches are dropped (`nonce`: the round's owner, NONCE by default).
 */
export function twoB(acc: number, votes: readonly { inst: number; vRnd: number; vVal?: unknown }[], decidedBelow = 0, nonce = NONCE): Message {
  return { t: "2b", acc, ident: acc, vRnd: votes[0]?.vRnd ?? 0, nonce, insts: votes.map((v) => v.inst), decidedBelow, notify: NO_NOTIFY };
}

/** The 2A a round's owner sent for these votes (what learners pair the 2Bs with). */
export function twoAOf(votes: readonly { inst: number; vRnd: number; vVal: Batch }[], nonce = NONCE): Message {
  return { t: "2a", cRnd: votes[0]!.vRnd, nonce, proposals: votes.map((v) => ({ inst: v.inst, cVal: v.vVal })), decidedBelow: 0, notify: NO_NOTIFY, report: REPORT_ALL };
}
