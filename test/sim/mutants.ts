/**
 * Deliberately broken roles. Each plants one known protocol bug; the simulator must report
 * violations when they run, which shows that the checker can fail.
 */
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Batch } from "../../src/protocol/messages.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { VoteTally } from "../../src/protocol/tally.ts";

/** Accepts a 2A whatever its round, even below the promise. */
export class AcceptLowerRound extends Acceptor {
  protected override mayAccept(_cRnd: number): boolean {
    return true;
  }
}

/** Decides on the first 2B it sees. */
export class LearnFromOne extends Learner {
  protected override newTally(_quorum: number): VoteTally {
    return new VoteTally(1);
  }
}

/** After Phase 1, proposes its own values (or a no-op) instead of the highest-vRnd accepted one. */
export class IgnoreVRnd extends Proposer {
  protected override valueForTakenInstance(_inst: number): Batch {
    return this.takeBatch();
  }
}

/**
 * `forget-on-restart` is planted by the simulator itself: a durable acceptor that comes back
 * from a crash with empty memory instead of what it persisted.
 */
export const MUTANTS = ["accept-lower-round", "learn-from-one", "ignore-vrnd", "forget-on-restart"] as const;
export type MutantName = (typeof MUTANTS)[number];
