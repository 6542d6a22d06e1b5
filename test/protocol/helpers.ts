import { Batch } from "../../src/protocol/batch.ts";
import type { Effects, Group, Message, Role, Value } from "../../src/protocol/messages.ts";

const enc = new TextEncoder();

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

/** A batch of the given values. */
export const b = (...values: Value[]): Batch => Batch.of(values);

/** Value ids "client:seq" of a batch or a list of values. */
export const ids = (batch: Batch | readonly Value[]): string[] =>
  (batch instanceof Batch ? batch.values : batch).map((v) => `${v.client}:${v.seq}`);

/**
 * Takes a new proposer through its start-up probe (a 1A of round 0 answered by `acceptors`, or by
 * two fresh acceptors when none are given); returns the effects of the tick that starts Phase 1.
 */
export function startProposer(p: Role, t = 0, acceptors?: Role[]): Effects {
  const probe = p.step({ kind: "tick" }, t);
  const answers: Message[] = acceptors
    ? acceptors.flatMap((a) => sent(probe, "acceptors", "1a").flatMap((m) => a.step({ kind: "msg", msg: m }, t).sends.map((s) => s.msg)))
    : [1, 2].map((acc) => ({ t: "1b", acc, rnd: 0, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }) as Message);
  for (const m of answers) p.step({ kind: "msg", msg: m }, t);
  return p.step({ kind: "tick" }, t);
}
