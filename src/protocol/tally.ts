import { assert } from "./assert.ts";
import { ACCEPTORS_MAX } from "./id-limits.ts";
import type { Batch, Vote } from "./messages.ts";

/**
 * Which sets of acceptors decide an instance: a majority of its configuration (ConfigHistory),
 * undefined while that configuration is not known (the tally then waits: see `recheck`).
 */
export interface QuorumSource {
  isQuorum(inst: number, voters: Iterable<number>): boolean | undefined;
}

/** A fixed set of acceptors 1..n, for every instance (tests, and a cluster that never changes). */
export function fixedQuorum(acceptors: number): QuorumSource {
  const quorum = majority(acceptors);
  return {
    isQuorum: (_inst, voters) => {
      let n = 0;
      for (const acc of voters) if (acc >= 1 && acc <= acceptors) n++;
      return n >= quorum;
    },
  };
}

interface Round {
  readonly voters: Set<number>;
  /** DECIDED_VALUE_UNKNOWN was answered for this round (once). */
  saidDecided: boolean;
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
 * Counts votes per (instance, round). An instance is decided when a majority of the acceptors of
 * its configuration voted in the same round; votes from different rounds are never combined, and
 * votes of acceptors outside the configuration do not count. While an instance's configuration is
 * not known, its votes wait; `recheck` decides them once it is. Votes come without their
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

  constructor(private readonly quorums: QuorumSource) {}

  /**
   * Acceptor `acc` voted in `vRnd` for `inst` (owner 0: not said; vVal undefined: not carried).
   * Returns the batch when this vote decides the instance, DECIDED_VALUE_UNKNOWN when it does
   * but the batch is not known yet, else undefined.
   */
  add(acc: number, inst: number, vRnd: number, owner: number, vVal: Batch | undefined, violations: string[]): TallyResult {
    const round = this.round(inst, vRnd);
    round.voters.add(acc);
    this.learn(round, inst, vRnd, owner, vVal, violations);
    return this.decideIf(inst, round);
  }

  /**
   * The instances in [from, to) whose configuration became known: those their votes decide now
   * (the batch, or DECIDED_VALUE_UNKNOWN, and the deciding round), in instance order.
   */
  recheck(from: number, to: number): readonly [number, Batch | typeof DECIDED_VALUE_UNKNOWN, number][] {
    // Called whenever the horizon moves (most steps): nothing allocated when nothing is open there.
    if (to <= from || this.open.size === 0) return NOTHING_RECHECKED;
    let insts: number[] | undefined;
    if (to - from <= this.open.size) {
      for (let i = from; i < to; i++) if (this.open.has(i)) (insts ??= []).push(i);
    } else insts = [...this.open.keys()].filter((i) => i >= from && i < to).sort((a, b) => a - b);
    if (insts === undefined || insts.length === 0) return NOTHING_RECHECKED;
    const out: [number, Batch | typeof DECIDED_VALUE_UNKNOWN, number][] = [];
    for (const inst of insts) {
      let result: TallyResult;
      let vRnd = 0;
      for (const [rnd, round] of [...this.open.get(inst)!]) {
        const r = this.decideIf(inst, round);
        if (r === undefined) continue;
        result = r;
        vRnd = rnd;
        if (r !== DECIDED_VALUE_UNKNOWN) break; // decided: the instance left the tally
      }
      if (result !== undefined) out.push([inst, result, vRnd]);
    }
    return out;
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

  /** Whether votes of the instance are tallied (it is not decided here, nor dropped). */
  isOpen(inst: number): boolean {
    return this.open.has(inst);
  }

  /** The lowest instance still tallied (Infinity: none). */
  lowestOpen(): number {
    let lowest = Infinity;
    for (const inst of this.open.keys()) if (inst < lowest) lowest = inst;
    return lowest;
  }

  /** What always holds between steps (see Role.invariants). Linear in the rounds tallied. */
  invariants(): void {
    for (const [inst, rounds] of this.open) {
      // `round` makes an instance's map with its first round; only whole instances are dropped.
      assert(rounds.size > 0, "a tallied instance has a round");
      let clean = true;
      for (const r of rounds.values()) if (r.conflicted) clean = false;
      for (const [vRnd, r] of rounds) this.roundInvariants(inst, vRnd, r, clean);
    }
  }

  private roundInvariants(inst: number, vRnd: number, r: Round, clean: boolean): void {
    assert(Number.isInteger(inst) && inst >= 0 && Number.isInteger(vRnd) && vRnd >= 0, "a tallied vote has an instance and a round");
    // Voters are acceptor ids, each counted once (a Set).
    for (const acc of r.voters) assert(Number.isInteger(acc) && acc >= 1 && acc <= ACCEPTORS_MAX, "a vote comes from an acceptor id");
    // `decideIf` runs whenever a round gains a voter or its batch, and (`recheck`) when the
    // instance's configuration becomes known; it drops the instance once a clean round has both a
    // quorum and a batch: what is still here is not decided yet.
    assert(!clean || this.quorums.isQuorum(inst, r.voters) !== true || r.vVal === undefined, "an instance a clean round decided is no longer tallied");
    assert(!clean || this.quorums.isQuorum(inst, r.voters) !== true || r.saidDecided, "a round's quorum without its batch was said decided");
  }

  private round(inst: number, vRnd: number): Round {
    let rounds = this.open.get(inst);
    if (rounds === undefined) {
      rounds = new Map();
      this.open.set(inst, rounds);
    }
    let round = rounds.get(vRnd);
    if (round === undefined) {
      round = { voters: new Set(), saidDecided: false, vVal: undefined, owner: 0, conflicted: false };
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

  /**
   * Whether the round decides its instance: the batch (the instance leaves the tally), or, when
   * a quorum voted before the batch is known, DECIDED_VALUE_UNKNOWN, said once.
   */
  private decideIf(inst: number, round: Round): TallyResult {
    if (round.conflicted || (round.vVal === undefined && round.saidDecided)) return undefined;
    if (this.quorums.isQuorum(inst, round.voters) !== true) return undefined;
    // An earlier round of this instance broken: nothing is sure here.
    if (!this.clean(inst)) return undefined;
    if (round.vVal === undefined) {
      round.saidDecided = true;
      return DECIDED_VALUE_UNKNOWN;
    }
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

const NOTHING_RECHECKED: readonly [number, Batch | typeof DECIDED_VALUE_UNKNOWN, number][] = Object.freeze([]);

export function majority(acceptors: number): number {
  return Math.floor(acceptors / 2) + 1;
}
