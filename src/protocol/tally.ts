import type { Batch, Vote } from "./messages.ts";

interface Round {
  readonly voters: Set<number>;
  /** The batch proposed in this round for the instance, once known (from the 2A, or a vote that carries it). */
  vVal: Batch | undefined;
  /** The incarnation that proposed in this round (0: not known yet). */
  owner: number;
  /** Two different batches (or owners) seen in this round: it never decides anything. */
  conflicted: boolean;
}

/** `add` and `propose` answer this when a majority voted but the batch is not known yet. */
export const DECIDED_VALUE_UNKNOWN = Symbol("decided, value unknown");
export type TallyResult = Batch | typeof DECIDED_VALUE_UNKNOWN | undefined;

/**
 * Counts votes per (instance, round). An instance is decided when a majority of acceptors voted
 * in the same round; votes from different rounds are never combined. Votes come without their
 * batch (2B: acceptor, round, instances) or with it (1B, catch-up accounts); the batch of a round
 * is what its 2A proposed (one owner per round, one batch per instance), paired here by round and
 * owner. A decision whose batch is not known yet is answered DECIDED_VALUE_UNKNOWN once, and the
 * batch when it becomes known.
 *
 * Two different batches (or owners) in one round cannot happen in a correct cluster: such a round
 * is reported and never decides, and neither does its instance, rather than one of them being
 * picked.
 */
export class VoteTally {
  private readonly open = new Map<number, Map<number, Round>>();

  constructor(readonly quorum: number) {}

  /**
   * Acceptor `acc` voted in `vRnd` for `inst` (owner 0: not said; vVal undefined: not carried).
   * Returns the batch when this vote decides the instance, DECIDED_VALUE_UNKNOWN when it does
   * but the batch is not known yet, else undefined.
   */
  add(acc: number, inst: number, vRnd: number, owner: number, vVal: Batch | undefined, violations: string[]): TallyResult {
    const round = this.round(inst, vRnd);
    const before = round.voters.size;
    round.voters.add(acc);
    this.learn(round, inst, vRnd, owner, vVal, violations);
    // Says "decided, value unknown" once, when the majority forms; then waits for the batch.
    if (round.vVal === undefined) return before < this.quorum && round.voters.size >= this.quorum && this.clean(inst) ? DECIDED_VALUE_UNKNOWN : undefined;
    return this.decideIf(inst, round);
  }

  /** Adds a full vote (a 1B's or a catch-up account's). */
  addVote(acc: number, vote: Vote, violations: string[]): TallyResult {
    return this.add(acc, vote.inst, vote.vRnd, 0, vote.vVal, violations);
  }

  /** What round `vRnd` proposed for `inst` (a 2A). Returns the batch if votes already decided it. */
  propose(inst: number, vRnd: number, owner: number, vVal: Batch, violations: string[]): Batch | undefined {
    const round = this.round(inst, vRnd);
    this.learn(round, inst, vRnd, owner, vVal, violations);
    const r = this.decideIf(inst, round);
    return r === DECIDED_VALUE_UNKNOWN ? undefined : r;
  }

  /** Whether some round of the instance carried two different batches. */
  conflicted(inst: number): boolean {
    const rounds = this.open.get(inst);
    if (rounds === undefined) return false;
    for (const r of rounds.values()) if (r.conflicted) return true;
    return false;
  }

  /** Drops every instance below `inst` (known decided). */
  forgetBelow(inst: number): void {
    for (const i of this.open.keys()) if (i < inst) this.open.delete(i);
  }

  /** Drops an instance (decided some other way). */
  forget(inst: number): void {
    this.open.delete(inst);
  }

  private round(inst: number, vRnd: number): Round {
    let rounds = this.open.get(inst);
    if (rounds === undefined) {
      rounds = new Map();
      this.open.set(inst, rounds);
    }
    let round = rounds.get(vRnd);
    if (round === undefined) {
      round = { voters: new Set(), vVal: undefined, owner: 0, conflicted: false };
      rounds.set(vRnd, round);
    }
    return round;
  }

  private learn(round: Round, inst: number, vRnd: number, owner: number, vVal: Batch | undefined, violations: string[]): void {
    if (round.conflicted) return;
    if (owner !== 0) {
      if (round.owner === 0) round.owner = owner;
      else if (round.owner !== owner) this.conflict(round, inst, vRnd, "two proposer incarnations", violations);
    }
    if (vVal === undefined || round.conflicted) return;
    if (round.vVal === undefined) round.vVal = vVal;
    else if (!round.vVal.sameAs(vVal)) this.conflict(round, inst, vRnd, "two different batches", violations);
  }

  private conflict(round: Round, inst: number, vRnd: number, what: string, violations: string[]): void {
    round.conflicted = true;
    violations.push(`${what} in round ${vRnd} for instance ${inst}; not deciding on that round`);
  }

  private clean(inst: number): boolean {
    return !this.conflicted(inst);
  }

  private decideIf(inst: number, round: Round): TallyResult {
    if (round.conflicted || round.voters.size < this.quorum || round.vVal === undefined) return undefined;
    // An earlier round of this instance broken: nothing is sure here.
    if (!this.clean(inst)) return undefined;
    this.open.delete(inst);
    return round.vVal;
  }
}

/**
 * The vote with the highest vRnd among some acceptors' votes for one instance (Phase 1's rule, and
 * catch-up recovery's), or null when none voted. Two different batches with that highest vRnd
 * cannot happen in a correct cluster: reported, and null (nothing may be decided from it).
 */
export function highestVote(votes: Iterable<Vote | null>, violations: string[]): Vote | null {
  let best: Vote | null = null;
  let conflict = false;
  for (const v of votes) {
    if (v === null) continue;
    if (best === null || v.vRnd > best.vRnd) [best, conflict] = [v, false];
    else if (v.vRnd === best.vRnd && !v.vVal.sameAs(best.vVal)) conflict = true;
  }
  if (best === null || !conflict) return best;
  violations.push(`two different batches voted for instance ${best.inst} in round ${best.vRnd}; not deciding on it`);
  return null;
}

export function majority(acceptors: number): number {
  return Math.floor(acceptors / 2) + 1;
}
