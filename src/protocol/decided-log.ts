import { assert } from "./assert.ts";
import type { Batch, Proposal } from "./messages.ts";
import { VoteTally, type QuorumSource } from "./tally.ts";

/** Decided instances whose votes (and 2A, if it did not come) the tally keeps, below the first undecided. */
const TALLY_KEEP_INSTANCES = 4096;

/**
 * What a proposer knows decided: the decided prefix (every instance below `firstUndecided`), the
 * decided instances above it, and the batches of the last `retainInstances` (to answer learners'
 * Catchup). It also holds the tally that learns decisions from 2Bs and 2As, as a learner does.
 *
 * An instance may be known decided without its batch (`null`): a majority voted in a round whose
 * 2A this proposer never saw, or another process reported the prefix. Its batch is filled in if
 * the 2A comes later (`wantsBatch`).
 */
export class DecidedLog {
  /** Decided instances at or above `keptFrom`, with their batch, or null (batch not seen). */
  private readonly decided = new Map<number, Batch | null>();
  private first = 0;
  private max = -1;
  /** Decided batches below this were forgotten (retention). */
  private keptFrom = 0;
  /** The tally was cleared below this. */
  private tallyKeptFrom = 0;
  readonly tally: VoteTally;

  constructor(
    quorums: QuorumSource,
    /** Decided batches kept below the first undecided instance. */
    private readonly retainInstances: number,
  ) {
    this.tally = new VoteTally(quorums);
  }

  /** Every instance below is decided. */
  get firstUndecided(): number {
    return this.first;
  }

  /** The highest instance known decided (-1: none). */
  get maxDecided(): number {
    return this.max;
  }

  /** Whether `inst` is known decided (below the prefix, or recorded). */
  knows(inst: number): boolean {
    return inst < this.first || this.decided.has(inst);
  }

  /** Whether `inst` is recorded decided above the retention point (with or without its batch). */
  has(inst: number): boolean {
    return this.decided.has(inst);
  }

  /**
   * Whether a 2A's batch for `inst` is still of use: the instance is not known decided, or is
   * decided and kept without its batch.
   */
  wantsBatch(inst: number): boolean {
    if (inst < this.keptFrom) return false;
    const known = this.decided.get(inst);
    if (known !== undefined) return known === null;
    return inst >= this.first;
  }

  /** Instance `inst` is decided as `vVal` (null: its batch is not known). */
  record(inst: number, vVal: Batch | null): void {
    assert(inst >= this.keptFrom, "a decision below the retention point was already recorded");
    this.decided.set(inst, vVal);
    this.max = Math.max(this.max, inst);
    this.advance();
  }

  /** Every instance below `below` is decided (their batches unknown here). */
  skipBelow(below: number): void {
    assert(below > this.first, "the decided prefix only grows");
    this.tally.forgetBelow(below);
    this.first = below;
    this.max = Math.max(this.max, below - 1);
    this.advance();
  }

  /** The decided batch of `inst`: null when decided without it, undefined when not known decided or forgotten. */
  batchAt(inst: number): Batch | null | undefined {
    return this.decided.get(inst);
  }

  /** The decided instances in [from, to) whose batch is kept, at most `countMax` instances looked at. */
  batchesIn(from: number, to: number, countMax: number): Proposal[] {
    const out: Proposal[] = [];
    const end = Math.min(to, this.max + 1, from + countMax);
    for (let inst = from; inst < end; inst++) {
      const cVal = this.decided.get(inst);
      if (cVal !== undefined && cVal !== null) out.push({ inst, cVal });
    }
    return out;
  }

  /** What always holds (cheap: no scan of the kept instances). */
  invariants(): void {
    assert(this.first <= this.max + 1, "the decided prefix is at most one past the highest decided instance");
    assert(!this.decided.has(this.first), "the first undecided instance is not recorded decided");
    assert(this.keptFrom === Math.max(0, this.first - this.retainInstances), "decided batches are kept for exactly the last retainInstances below the prefix");
    assert(this.tallyKeptFrom <= this.first, "the tally is cleared only below the decided prefix");
    this.tally.invariants();
  }

  private advance(): void {
    while (this.decided.has(this.first)) this.first++;
    this.forgetOld();
  }

  /** Keeps decided batches only for the last retainInstances below the first undecided one. */
  private forgetOld(): void {
    const keepFrom = this.first - this.retainInstances;
    if (keepFrom - this.keptFrom > this.retainInstances) {
      // A jump (after skipBelow): scan what is there rather than every number.
      for (const inst of this.decided.keys()) if (inst < keepFrom) this.decided.delete(inst);
    } else for (let inst = this.keptFrom; inst < keepFrom; inst++) this.decided.delete(inst);
    this.keptFrom = Math.max(this.keptFrom, keepFrom);
    // Votes and proposals of instances decided long ago (a 2A that never came, a round that lost)
    // are dropped now and then.
    const tallyFrom = Math.max(keepFrom, this.first - TALLY_KEEP_INSTANCES);
    if (tallyFrom - this.tallyKeptFrom >= TALLY_KEEP_INSTANCES / 4) {
      this.tally.forgetBelow(tallyFrom);
      this.tallyKeptFrom = tallyFrom;
    }
  }
}
