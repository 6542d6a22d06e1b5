/**
 * Deliberately broken roles. Each plants one known protocol bug; the simulator must report
 * violations when they run, which shows that the checker and the faults can catch it.
 */
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Batch, Effects, Message } from "../../src/protocol/messages.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { VoteTally } from "../../src/protocol/tally.ts";
import { Driver } from "../../src/runtime/driver.ts";

/** Accepts a 2A whatever its round, even below the promise. */
export class AcceptLowerRound extends Acceptor {
  protected override mayAccept(_cRnd: number, _nonce: number): boolean {
    return true;
  }
}

/**
 * The rule before rounds were bound to incarnations: an equal round is promised and accepted
 * from any incarnation. Caught by two live proposers with one id.
 */
export class NoRoundBinding extends Acceptor {
  protected override admits(cRnd: number, _nonce: number): boolean {
    return cRnd >= this.rnd && cRnd > 0;
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
 * Counts any 1B of its round as a promise, whichever incarnation it answers (a process with the
 * same id may own that round at some acceptors). Caught by two live proposers with one id.
 */
export class IgnoreEchoedNonce extends Proposer {
  override step(input: Parameters<Proposer["step"]>[0], nowMs: number): Effects {
    if (input.kind === "msg" && input.msg.t === "1b") {
      const forged: Message = { ...input.msg, nonce: this.opts.incarnation };
      return super.step({ kind: "msg", msg: forged }, nowMs);
    }
    return super.step(input, nowMs);
  }
}

/**
 * The start-up probe as it was: any answer counts, a stale copy too, and acceptors do not bind
 * rounds to incarnations. A restarted proposer can then reuse its earlier incarnation's round
 * (clock skew, replays). Both halves: see `NoRoundBinding` for the acceptors.
 */
export class StaleProbe extends Proposer {
  override step(input: Parameters<Proposer["step"]>[0], nowMs: number): Effects {
    if (input.kind === "msg" && (input.msg.t === "nack" || input.msg.t === "1b") && this.state === "probing") {
      return super.step({ kind: "msg", msg: { t: "nack", acc: input.msg.acc, ident: input.msg.ident, rnd: input.msg.rnd, cRnd: 0, nonce: this.opts.incarnation } }, nowMs);
    }
    return super.step(input, nowMs);
  }
}

/**
 * A new leader that re-proposes accepted values only up to INSTANCES_AHEAD_MAX above where its
 * Phase 1 started, and proposes new values above that: a value chosen further up is overwritten.
 * Caught by fast-forward histories longer than the (scaled-down) bound.
 */
export class CapDropsVotes extends Proposer {
  protected override highestTakenInstance(from: number): number {
    return Math.min(super.highestTakenInstance(from), from + (this.opts.instancesAheadMax ?? 1_000_000));
  }
}

/** Recovers an instance from any majority of catch-up accounts, even ones given before it was decided. */
export class AccountsWithoutProof extends Learner {
  override step(input: Parameters<Learner["step"]>[0], nowMs: number): Effects {
    if (input.kind === "msg" && input.msg.t === "votes") {
      return super.step({ kind: "msg", msg: { ...input.msg, decidedBelow: input.msg.to } }, nowMs);
    }
    return super.step(input, nowMs);
  }
}

/** Lets a step's replies go before the records they depend on are durable (they are appended, synced later). */
export class SendBeforePersist extends Driver {
  override apply(fx: Effects): void {
    if (fx.sends.length === 0) return super.apply(fx); // (the shared NO_EFFECTS is frozen)
    const sends = fx.sends.splice(0);
    super.apply(fx);
    for (const s of sends) this.host.send(s.to, s.msg);
  }
}

/**
 * `forget-on-restart` is planted by the simulator itself: a durable acceptor that comes back
 * from a crash with empty memory instead of what it persisted. `send-before-persist` uses the
 * driver above: replies leave before the sync, so a crash can lose what they promised.
 */
export const MUTANTS = [
  "accept-lower-round",
  "no-round-binding",
  "learn-from-one",
  "ignore-vrnd",
  "ignore-echoed-nonce",
  "stale-probe",
  "cap-drops-votes",
  "accounts-without-proof",
  "forget-on-restart",
  "send-before-persist",
] as const;
export type MutantName = (typeof MUTANTS)[number];
