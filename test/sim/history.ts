/**
 * Fast-forward for the simulator: the durable records of an earlier life of the cluster, written
 * to each acceptor's disk before the run, as if instances [base, base + length) had been proposed
 * by proposers that are gone. Some instances are chosen (a majority voted one batch in one
 * round, perhaps over an older vote of another batch), some hold a minority's vote, some nothing.
 * A chosen instance must be delivered with its batch; the rest may decide anything allowed.
 */
import type { Batch } from "../../src/protocol/batch.ts";
import type { PersistRecord } from "../../src/protocol/messages.ts";
import { batchOf, type Value } from "../protocol/values.ts";
import { majority } from "../../src/protocol/tally.ts";
import type { Prng } from "../../src/prng.ts";
import type { HistoryScenario } from "./scenario.ts";

/** Rounds of the earlier life: proposers 998 and 999 (ids no simulated proposer has), long ago. */
export const OLD_ROUNDS = [5_000_998, 6_000_999] as const;
/** The incarnation the old promise is bound to (that process is gone). */
const OLD_NONCE = 12345;
/** Client numbers of the earlier life's values. */
export const HISTORY_CLIENT_BASE = 900_000;

export interface History {
  /** Per acceptor id, its durable records. */
  readonly records: Map<number, PersistRecord[]>;
  /** Chosen instances and their batches. */
  readonly chosen: Map<number, Batch>;
  /** Every value of the earlier life (any of them may be delivered, once). */
  readonly values: Value[];
}

export function buildHistory(h: HistoryScenario, acceptors: number, rng: Prng): History {
  const records = new Map<number, PersistRecord[]>();
  const ids = Array.from({ length: acceptors }, (_, k) => k + 1);
  for (let a = 1; a <= acceptors; a++) {
    records.set(a, [
      { kind: "promise", rnd: OLD_ROUNDS[1], owner: OLD_NONCE },
      { kind: "trim", below: h.base },
      // The earlier life's learners delivered below base (the trim says so) and told the
      // acceptors: they know every configuration change below it (none: the initial one holds).
      { kind: "config", history: [{ epoch: 0, members: ids, from: 0 }], knownTo: h.base },
    ]);
  }
  const chosen = new Map<number, Batch>();
  const values: Value[] = [];
  let seq = 0;
  const batch = (client: number): Batch => {
    const vs: Value[] = [];
    for (let k = rng.int(0, 3); k > 0; k--) {
      const v = { client: HISTORY_CLIENT_BASE + client, seq: seq++, floor: 0, data: new TextEncoder().encode(`h${seq}`.padEnd(rng.int(0, 60), "-")) };
      vs.push(v);
      values.push(v);
    }
    return batchOf(vs);
  };
  const vote = (acc: number, inst: number, vRnd: number, vVal: Batch): void => {
    records.get(acc)!.push({ kind: "vote", vote: { inst, vRnd, vVal } });
  };
  let chosenPrefix = h.base;
  for (let inst = h.base; inst < h.base + h.length; inst++) {
    const kind = rng.next();
    const shuffled = [...ids];
    for (let k = shuffled.length - 1; k > 0; k--) {
      const j = rng.int(0, k);
      [shuffled[k], shuffled[j]] = [shuffled[j]!, shuffled[k]!];
    }
    if (kind < 0.6) {
      // Chosen in one round by a majority; others may hold an older vote for another batch.
      const round = rng.pick(OLD_ROUNDS);
      const v = batch(1);
      chosen.set(inst, v);
      const voters = shuffled.slice(0, majority(acceptors));
      for (const a of voters) vote(a, inst, round, v);
      const older = batch(2); // one batch per round, as in any correct history
      if (round === OLD_ROUNDS[1]) for (const a of shuffled.slice(voters.length)) if (rng.chance(0.5)) vote(a, inst, OLD_ROUNDS[0], older);
      if (chosenPrefix === inst) chosenPrefix++;
    } else if (kind < 0.8) vote(shuffled[0]!, inst, rng.pick(OLD_ROUNDS), batch(3)); // a minority's vote
    // else: a hole nobody voted in
  }
  if (h.hint) for (const rs of records.values()) rs.push({ kind: "decided", below: chosenPrefix });
  return { records, chosen, values };
}
