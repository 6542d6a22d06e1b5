/**
 * What the protocol tests share: message builders, role options and roles, and stepping roles
 * (their invariants checked after every step, as the Driver does).
 */
import { Acceptor, type AcceptorOptions } from "../../src/protocol/acceptor.ts";
import { Batch } from "../../src/protocol/batch.ts";
import type { ClientOptions } from "../../src/protocol/client.ts";
import { Learner, type LearnerOptions } from "../../src/protocol/learner.ts";
import { batchBytesLimit } from "../../src/protocol/wire-budget.ts";
import type { Delivered, Effects, Group, Input, Message, Phase1A, Phase2A, Proposal, Role } from "../../src/protocol/messages.ts";
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

/** A message as a role's input. */
export const msg = (m: Message): Input => ({ kind: "msg", msg: m });
export const tick: Input = { kind: "tick" };

/** Steps a role and checks its invariants, as the Driver does after every step. */
export function step(role: Role, input: Input, t: number): Effects {
  const fx = role.step(input, t);
  role.invariants();
  return fx;
}

/** The messages sent to one group. */
export const to = (fx: Effects, g: Group): Message[] => fx.sends.filter((s) => s.to === g).map((s) => s.msg);

/** Steps a role on each message in turn; returns what it sent to `g`. */
export const feed = (role: Role, msgs: readonly Message[], t: number, g: Group): Message[] => msgs.flatMap((x) => to(step(role, msg(x), t), g));

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
  const probe = step(p, tick, t);
  const answers: Message[] = acceptors
    ? acceptors.flatMap((a) => sent(probe, "acceptors", "1a").flatMap((m) => step(a, msg(m), t).sends.map((s) => s.msg)))
    : [1, 2].map((acc) => ({ t: "nack", acc, ident: acc, rnd: 0, cRnd: 0, nonce: p.opts.incarnation }) as Message);
  for (const m of answers) step(p, msg(m), t);
  return step(p, tick, t);
}

/** Acceptor options for tests (acceptor `id`, its identity the same number); `over` changes some. */
export const acceptorOptions = (id = 1, over: Partial<AcceptorOptions> = {}): AcceptorOptions => ({
  id,
  acceptors: 3,
  ident: id,
  datagramBytesMax: 1400,
  catchupDatagramsMax: 8,
  retainInstances: 1_000_000,
  ...over,
});

/** Acceptors 1 to n. */
export const acceptors = (n = 3, over: Partial<AcceptorOptions> = {}): Acceptor[] => Array.from({ length: n }, (_, k) => new Acceptor(acceptorOptions(k + 1, over)));

/** Learner options for tests (3 acceptors); `over` changes some. */
export const learnerOptions = (over: Partial<LearnerOptions> = {}): LearnerOptions => ({ id: 1, acceptors: 3, catchupMs: 50, idleProbeMaxMs: 400, ...over });
export const learner = (over: Partial<LearnerOptions> = {}): Learner => new Learner(learnerOptions(over));

/** Client options for tests (client 7, 3 acceptors, a window of 2, seqs from 10); `over` changes some. */
export const clientOptions = (over: Partial<ClientOptions> = {}): ClientOptions => ({
  id: 7,
  acceptors: 3,
  outstandingMax: 2,
  batchBytesMax: 1296,
  retransmitMs: 100,
  retransmitMinMs: 100,
  seqBase: 10,
  ...over,
});

/** A 1A of round `cRnd` from the test proposers' incarnation, for every instance from 0. */
export const oneA = (cRnd: number, over: Partial<Phase1A> = {}): Phase1A => ({ t: "1a", cRnd, nonce: NONCE, from: 0, decidedBelow: 0, acc: 0, ...over });

/** A 2A of round `cRnd` from the test proposers' incarnation, reported by every acceptor, notifying nobody. */
export const twoA = (cRnd: number, proposals: readonly Proposal[], over: Partial<Phase2A> = {}): Phase2A => ({
  t: "2a",
  cRnd,
  nonce: NONCE,
  proposals,
  decidedBelow: 0,
  notify: NO_NOTIFY,
  report: REPORT_ALL,
  ...over,
});

/** Runs a proposer's Phase 1 with these acceptors (everything delivered): it leads. */
export function lead(p: Proposer, acc: readonly Acceptor[], t: number): void {
  const oneAs = to(startProposer(p, t, [...acc]), "acceptors");
  feed(p, acc.flatMap((a) => feed(a, oneAs, t, "proposers")), t, "acceptors");
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
  return twoA(votes[0]!.vRnd, votes.map((v) => ({ inst: v.inst, cVal: v.vVal })), { nonce });
}
