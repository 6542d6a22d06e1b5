import type { Batch, Vote } from "./messages.ts";

interface RoundVotes {
  readonly voters: Set<number>;
  readonly vVal: Batch;
  /** Two different batches were voted in this round: it never decides anything. */
  conflicted: boolean;
}

/**
 * Counts 2B votes per (instance, vRnd). A value is decided when a majority of acceptors voted for
 * it in the same round; votes from different rounds are never combined. Two different batches
 * voted in one round cannot happen in a correct cluster (a round belongs to one proposer
 * incarnation, which proposes one batch per instance): such a round is reported and never
 * decides, rather than one of its batches being picked.
 */
export class VoteTally {
  private readonly open = new Map<number, Map<number, RoundVotes>>();

  constructor(readonly quorum: number) {}

  /**
   * Records acceptor `acc`'s vote; returns the batch if this vote decides the instance. A vote
   * that contradicts the round's batch is added to `violations`.
   */
  add(acc: number, vote: Vote, violations: string[]): Batch | undefined {
    let rounds = this.open.get(vote.inst);
    if (rounds === undefined) {
      rounds = new Map();
      this.open.set(vote.inst, rounds);
    }
    let votes = rounds.get(vote.vRnd);
    if (votes === undefined) {
      votes = { voters: new Set(), vVal: vote.vVal, conflicted: false };
      rounds.set(vote.vRnd, votes);
    } else if (!votes.conflicted && !votes.vVal.sameAs(vote.vVal)) {
      votes.conflicted = true;
      violations.push(`two different batches voted for instance ${vote.inst} in round ${vote.vRnd} (acceptor ${acc}); not deciding on that round`);
    }
    votes.voters.add(acc);
    if (votes.conflicted || votes.voters.size < this.quorum) return undefined;
    for (const r of rounds.values()) if (r.conflicted) return undefined; // an earlier round was broken: nothing is sure here
    this.open.delete(vote.inst);
    return votes.vVal;
  }

  /** Whether some round of the instance carried two different batches. */
  conflicted(inst: number): boolean {
    const rounds = this.open.get(inst);
    if (rounds === undefined) return false;
    for (const r of rounds.values()) if (r.conflicted) return true;
    return false;
  }

  /** Drops the votes of every instance below `inst` (known decided). */
  forgetBelow(inst: number): void {
    for (const i of this.open.keys()) if (i < inst) this.open.delete(i);
  }

  /** Drops the votes of an instance (decided some other way). */
  forget(inst: number): void {
    this.open.delete(inst);
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
