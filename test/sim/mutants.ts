/**
 * Deliberately broken roles. Each plants one known protocol bug; the simulator must report
 * violations when they run, which shows that the checker and the faults can catch it.
 */
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Batch, Effects, Message, Vote } from "../../src/protocol/messages.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import type { Configuration } from "../../src/protocol/configuration.ts";
import { VoteTally, fixedQuorum } from "../../src/protocol/tally.ts";
import { Driver } from "../../src/runtime/driver.ts";
import type { Family } from "./scenario.ts";

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

/** Counts a majority of the initial configuration (the config file's acceptors) for every instance, whatever changes governed. */
export class OldConfigQuorum extends Learner {
  protected override newTally(): VoteTally {
    return new VoteTally(fixedQuorum(this.opts.acceptors));
  }
}

/**
 * Leads once a majority of the initial configuration promised (the config file's acceptors), not
 * of every configuration that governs an instance from its Phase 1's start to its horizon.
 */
export class PromiseOldConfig extends Proposer {
  protected override governing(_from: number): Configuration[] {
    return [this.config.history[0]!];
  }
}

/** Decides on the first 2B it sees. */
export class LearnFromOne extends Learner {
  protected override newTally(): VoteTally {
    return new VoteTally({ isQuorum: (_inst, voters) => [...voters].length >= 1 });
  }
}

/** After Phase 1, proposes its own values (or a no-op) instead of the highest-vRnd accepted one. */
export class IgnoreVRnd extends Proposer {
  protected override valueForTakenInstance(_inst: number, _votes: ReadonlyMap<number, Vote>): Batch {
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
  protected override highestTakenInstance(from: number, votes: ReadonlyMap<number, Vote>): number {
    return Math.min(super.highestTakenInstance(from, votes), from + (this.opts.instancesAheadMax ?? 1_000_000));
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

/** Ignores how far a stuck learner heard of votes (`seenTo`): no hole is filled for it. */
export class IgnoreSeenTo extends Proposer {
  override step(input: Parameters<Proposer["step"]>[0], nowMs: number): Effects {
    if (input.kind === "msg" && input.msg.t === "catchup") return super.step({ kind: "msg", msg: { ...input.msg, seenTo: 0 } }, nowMs);
    return super.step(input, nowMs);
  }
}

/** An acceptor that does not note the decided prefix learners tell it in their Catchups. */
export class ForgetDecidedHint extends Acceptor {
  override step(input: Parameters<Acceptor["step"]>[0], nowMs: number): Effects {
    if (input.kind === "msg" && input.msg.t === "catchup") return super.step({ kind: "msg", msg: { ...input.msg, decidedBelow: 0 } }, nowMs);
    return super.step(input, nowMs);
  }
}

/** Gives up on the first Trimmed answer, not on a majority of them. */
export class GiveUpOnOneTrimmed extends Learner {
  protected override trimmedEnough(accs: readonly number[]): boolean {
    return accs.length >= 1;
  }
}

/** Acks the values of each 2A it sends, as if proposing were deciding. */
export class AckOnPropose extends Proposer {
  override step(input: Parameters<Proposer["step"]>[0], nowMs: number): Effects {
    return this.ackProposed(super.step(input, nowMs));
  }

  override flush(nowMs: number): Effects {
    return this.ackProposed(super.flush(nowMs));
  }

  private ackProposed(fx: Effects): Effects {
    const ranges: number[] = [];
    for (const s of fx.sends) {
      if (s.to !== "acceptors" || s.msg.t !== "2a") continue;
      for (const p of s.msg.proposals) for (const c = p.cVal.cursor(); c.next(); ) ranges.push(c.client, c.first, c.count);
    }
    if (ranges.length > 0) fx.send("clients", { t: "ack", ranges });
    return fx;
  }
}

/**
 * Keeps every batch it delivered (a leak: memory grows with the sequence). Nothing it delivers
 * changes, so no safety property of the checker sees it; its invariants do, at the first delivery.
 */
export class KeepDelivered extends Learner {
  protected override release(_inst: number): void {}
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
  "ignore-seen-to",
  "forget-decided-hint",
  "give-up-on-one-trimmed",
  "ack-on-propose",
  "keep-delivered",
  "old-config-quorum",
  "promise-old-config",
] as const;
export type MutantName = (typeof MUTANTS)[number];

/**
 * Where each mutant is looked for when it is rare in the mix of faults: the family aimed at the
 * state it breaks (see FAMILIES in scenario.ts). The others are looked for in the mix.
 */
export const MUTANT_FAMILY: Partial<Record<MutantName, Family>> = {
  "send-before-persist": "durable-crashes",
  "forget-decided-hint": "stranded",
  "ignore-seen-to": "stranded",
  "old-config-quorum": "reconfig",
  "promise-old-config": "reconfig",
};

/**
 * Mutants of a mechanism that another one now covers, so that no run is expected to catch them:
 * `ignore-seen-to` switches off the Phase 1 a proposer runs for a hole a stuck learner reports,
 * but a standby also takes over as soon as it hears no leader (Hellos), and that Phase 1 recovers
 * the same instances, sooner. The mechanism stays as a second way out (Hellos lost, a leader
 * that hears learners but whose Hellos do not get through).
 */
export const COVERED_MUTANTS: readonly MutantName[] = ["ignore-seen-to"];

