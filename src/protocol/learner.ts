import type { Archive } from "./archive.ts";
import { assert } from "./assert.ts";
import { skipLines, type Batch } from "./batch.ts";
import { AcceptorIdentities } from "./identities.ts";
import { ClientIds, type IdsSnapshot } from "./ids.ts";
import {
  CATCHUP_INSTANCES_MAX,
  Effects,
  type Catchup,
  type Input,
  type Role,
  type Vote,
  type Votes,
} from "./messages.ts";
import { sendDecisions } from "./pack.ts";
import { ConfigGossip } from "./config-gossip.ts";
import { RECONFIG_CLIENT, type ConfigHistory, type ConfigStamp } from "./configuration.ts";
import { ACCEPTORS_MAX } from "./id-limits.ts";
import { DECIDED_VALUE_UNKNOWN, VoteTally, highestVote } from "./tally.ts";

export interface LearnerOptions {
  /** α of configuration changes (configuration.ts; RECONFIG_ALPHA): the cluster's, tests may shrink it. */
  readonly reconfigAlpha?: number;
  readonly id: number;
  /** The initial configuration's acceptors (1 to this); changes come through the log (configuration.ts). */
  readonly acceptors: number;
  /** A gap (a later instance decided, an earlier one unknown) older than this triggers a Catchup. */
  readonly catchupMs: number;
  /** While nothing arrives, probe for missed instances at most this often (backing off from catchupMs). */
  readonly idleProbeMaxMs: number;
  /**
   * Learners keep archives of what they delivered (config learner.archive): ask them too, and do
   * not give up when acceptors have trimmed what is needed, since an archive may still have it.
   */
  readonly archives?: boolean;
  /**
   * This learner's own archive: every instance it delivers goes in, and it answers other
   * learners' Catchups from it, with at most `datagramsMax` Decisions of `datagramBytesMax` bytes.
   */
  readonly archive?: { readonly store: Archive; readonly datagramBytesMax: number; readonly datagramsMax: number };
  /** The first instance to deliver (instances below were delivered by an earlier run). Default 0. */
  readonly startAt?: number;
  /** The value ids that earlier run delivered (`deliveredIdsSnapshot`), so none is delivered twice. */
  readonly deliveredIds?: IdsSnapshot;
  /** Instances one Catchup asks for. Default CATCHUP_INSTANCES_MAX; the simulator scales it down. */
  readonly catchupInstancesMax?: number;
}

/**
 * Paxos learner. Decides an instance from 2Bs of one round by a majority of the instance's
 * configuration (never from a 2A), or from a Decision relayed by a proposer that saw such a
 * majority. Delivers instances in order, without gaps, and each value id once; applies the
 * configuration changes it delivers (and learns others' histories: config-gossip.ts).
 */
export class Learner implements Role {
  private readonly gossip: ConfigGossip;
  private readonly tally: VoteTally;
  /** The tally was rechecked for instances up to here (their configuration became known). */
  private tallyCheckedTo: number;
  /** Decided instances not yet delivered (all ≥ next). */
  private readonly decided = new Map<number, Batch>();
  private next: number;
  private lastDelivered: number;
  private highestSeen: number;
  /** Every instance below is known decided (delivered here, or reported decided by anyone). */
  private decidedKnown: number;
  private readonly deliveredIds = new ClientIds();
  /** Per decided-but-unknown instance, each acceptor's account of it (its vote, or none). */
  private readonly recovery = new Map<number, Map<number, Vote | null>>();
  /** Per acceptor, the latest point below which it said it dropped every vote. */
  private readonly trimmedBelow = new Map<number, number>();
  private readonly catchupMax: number;
  private readonly acceptorIds: AcceptorIdentities;

  private behindSinceMs = Infinity;
  private lastProgressMs = 0;
  private lastCatchupMs = -Infinity;
  private idleProbeMs: number;

  constructor(readonly opts: LearnerOptions) {
    this.gossip = new ConfigGossip(opts.acceptors, "learners", () => this.decidedKnown, opts.reconfigAlpha);
    this.tallyCheckedTo = this.gossip.history.horizon;
    this.tally = this.newTally();
    this.idleProbeMs = opts.catchupMs;
    this.next = opts.startAt ?? 0;
    this.lastDelivered = this.next - 1;
    this.highestSeen = this.next - 1;
    this.decidedKnown = this.next;
    this.catchupMax = opts.catchupInstancesMax ?? CATCHUP_INSTANCES_MAX;
    if (opts.deliveredIds !== undefined) this.deliveredIds.restore(opts.deliveredIds);
    this.acceptorIds = new AcceptorIdentities(false);
  }

  protected newTally(): VoteTally {
    return new VoteTally(this.gossip.history);
  }

  /** Whether these acceptors, having dropped the next instance, are enough to give up: a majority of its configuration. */
  protected trimmedEnough(accs: readonly number[]): boolean {
    return this.config.isQuorum(this.next, accs) === true;
  }

  /** The configuration history this learner knows. */
  get config(): ConfigHistory {
    return this.gossip.history;
  }

  stamp(): ConfigStamp {
    return this.gossip.history.stamp;
  }

  /** The next instance to deliver: every instance below it is delivered. */
  get nextInstance(): number {
    return this.next;
  }

  /** Instances known to exist that are not delivered yet (0 when nothing suggests a gap). */
  get waitingInstances(): number {
    return Math.max(0, this.highestSeen - this.next + 1);
  }

  /** The ids delivered so far, in bounded form: with `nextInstance`, where a restart resumes. */
  deliveredIdsSnapshot(): IdsSnapshot {
    return this.deliveredIds.snapshot();
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    this.gossip.onInput(input, nowMs, fx);
    const msg = input.kind === "msg" ? input.msg : undefined;
    if (input.kind === "tick") this.onTick(nowMs, fx);
    else if (msg === undefined) return fx;
    else if (msg.t === "decision") {
      for (const d of msg.decided) this.onDecided(d.inst, d.cVal);
      this.noteDecidedBelow(msg.decidedBelow);
    } else if (msg.t === "2a") {
      for (const p of msg.proposals) this.onProposal(p.inst, msg.cRnd, msg.nonce, p.cVal, fx);
    } else if ((msg.t === "2b" || msg.t === "trimmed" || msg.t === "votes") && this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) {
      if (msg.t === "2b") {
        for (const inst of msg.insts) this.onVote(msg.acc, inst, msg.vRnd, msg.nonce, undefined, fx);
        this.noteDecidedBelow(msg.decidedBelow);
      } else if (msg.t === "trimmed") this.onTrimmed(msg.acc, msg.below, fx);
      else this.onVotes(msg, fx);
    } else if (msg.t === "catchup") this.serveArchive(msg, fx);
    this.deliverReady(nowMs, fx);
    fx.wakeAt(this.nextCheckMs());
    return fx;
  }

  /** A vote: from a 2B (no batch) or an account (with it). */
  private onVote(acc: number, inst: number, vRnd: number, nonce: number, vVal: Batch | undefined, fx: Effects): void {
    if (inst > this.highestSeen) this.highestSeen = inst;
    if (!this.open(inst)) return;
    const r = this.tally.add(acc, inst, vRnd, nonce, vVal, fx.violations);
    if (r !== undefined && r !== DECIDED_VALUE_UNKNOWN) this.decided.set(inst, r); // unknown: catch-up asks for it
  }

  /**
   * A 2A: what a round proposed for an instance, paired with the round's votes. A proposal alone
   * says nothing of what exists (a stray one may be far ahead): only votes and decisions move
   * `highestSeen`, which Catchups report and proposers fill holes up to.
   */
  private onProposal(inst: number, vRnd: number, nonce: number, cVal: Batch, fx: Effects): void {
    if (!this.open(inst)) return;
    const r = this.tally.propose(inst, vRnd, nonce, cVal, fx.violations);
    if (r !== undefined) this.decided.set(inst, r);
  }

  /**
   * Whether an instance still needs deciding here, and is near enough to keep its votes and
   * proposals (a learner far behind does not pile up the live traffic: it asks for it later).
   */
  private open(inst: number): boolean {
    return inst >= this.next && inst < this.next + 16 * this.catchupMax && !this.decided.has(inst);
  }

  /** Someone reports every instance below `below` decided. */
  private noteDecidedBelow(below: number): void {
    if (below - 1 > this.highestSeen) this.highestSeen = below - 1;
    if (below > this.decidedKnown) this.decidedKnown = below;
  }

  /**
   * An acceptor no longer has instances below `below`. Once a majority say so for our next
   * instance, no one can serve it (proposers keep no more than acceptors): give up, loudly,
   * rather than wait forever.
   */
  private onTrimmed(acc: number, below: number, fx: Effects): void {
    this.trimmedBelow.set(acc, Math.max(below, this.trimmedBelow.get(acc) ?? 0));
    this.noteDecidedBelow(below); // acceptors trim only decided instances
    const beyond = [...this.trimmedBelow].filter(([, b]) => b > this.next);
    if (this.trimmedEnough(beyond.map(([a]) => a)) && !this.opts.archives) {
      fx.fatal = {
        cause: "trimmed",
        reason:
          `instance ${this.next} is needed but a majority of acceptors dropped every instance below ${Math.min(...beyond.map(([, b]) => b))} ` +
          `(acceptor.retainInstances): this learner started or fell too far behind to learn the whole sequence`,
      };
    }
  }

  /**
   * An acceptor's full account of a range. Its votes count as 2B. Beyond that, for an instance
   * the account itself shows decided (below its decidedBelow: the acceptor knew the instance was
   * decided when it answered, so its account includes its deciding vote if it cast one), the
   * accounts of any majority of acceptors determine the decided value: it is the one with the
   * highest vRnd (the rule Phase 1 relies on). That recovers instances whose votes are spread
   * over several rounds, with no proposer that still knows them.
   */
  private onVotes(msg: Votes, fx: Effects): void {
    for (const v of msg.votes) this.onVote(msg.acc, v.inst, v.vRnd, 0, v.vVal, fx);
    this.noteDecidedBelow(msg.decidedBelow);
    const byInst = new Map<number, Vote>();
    for (const v of msg.votes) byInst.set(v.inst, v);
    const end = Math.min(msg.to, msg.decidedBelow, this.next + this.catchupMax);
    for (let inst = Math.max(msg.from, this.next); inst < end; inst++) {
      if (this.decided.has(inst)) continue;
      let accounts = this.recovery.get(inst);
      if (accounts === undefined) {
        accounts = new Map();
        this.recovery.set(inst, accounts);
      }
      accounts.set(msg.acc, byInst.get(inst) ?? null);
      if (this.config.isQuorum(inst, accounts.keys()) !== true) continue;
      const best = highestVote(accounts.values(), fx.violations);
      if (best !== null) this.onDecided(inst, best.vVal);
    }
  }

  private onDecided(inst: number, batch: Batch): void {
    if (this.tally.conflicted(inst)) return; // a round there carried two batches: decide nothing on it
    if (inst > this.highestSeen) this.highestSeen = inst;
    if (inst < this.next || this.decided.has(inst)) return;
    this.tally.forget(inst);
    this.decided.set(inst, batch);
  }

  private deliverReady(nowMs: number, fx: Effects): void {
    const before = this.next;
    do {
      for (let batch = this.decided.get(this.next); batch !== undefined; batch = this.decided.get(this.next)) {
        const inst = this.next;
        assert(inst === this.lastDelivered + 1, "a learner delivers only the instance after the last one it delivered");
        this.release(inst);
        this.opts.archive?.store.append(inst, batch);
        fx.deliverInstance({ inst, cVal: batch });
        this.lastDelivered = inst;
        this.next = inst + 1;
        this.config.apply(inst, batch);
        this.deliverRuns(batch, fx);
      }
    } while (this.recheck());
    assert(this.next >= before, "the delivered prefix only grows");
    if (this.next !== before) {
      if (this.next > this.decidedKnown) this.decidedKnown = this.next;
      this.lastProgressMs = nowMs;
      this.idleProbeMs = this.opts.catchupMs;
      this.behindSinceMs = Infinity;
    }
    if (this.highestSeen >= this.next && this.behindSinceMs === Infinity) this.behindSinceMs = nowMs;
  }

  /**
   * Decides what the votes of instances whose configuration became known (the horizon moved)
   * decide now; true when that decided the next instance.
   */
  private recheck(): boolean {
    const horizon = this.config.horizon;
    if (horizon <= this.tallyCheckedTo) return false;
    for (const [inst, r] of this.tally.recheck(this.tallyCheckedTo, horizon)) {
      if (r !== DECIDED_VALUE_UNKNOWN && this.open(inst)) this.decided.set(inst, r);
    }
    this.tallyCheckedTo = horizon;
    return this.decided.has(this.next);
  }

  /** Drops what was kept to decide an instance, now delivered. */
  protected release(inst: number): void {
    this.decided.delete(inst);
    this.recovery.delete(inst);
  }

  /**
   * Another learner's Catchup, answered from this learner's archive (when it keeps one): the
   * instances asked that it has, as Decisions that also say what this learner knows decided.
   */
  private serveArchive(msg: Catchup, fx: Effects): void {
    const archive = this.opts.archive;
    if (archive === undefined) return;
    const decided = archive.store.read(msg.from, msg.to, archive.datagramBytesMax * archive.datagramsMax);
    if ("damage" in decided) {
      fx.fatal = { cause: "storage", reason: `the learner archive is damaged: ${decided.damage}; not serving from it (move it away and restart)` };
      return;
    }
    sendDecisions(fx, decided, this.decidedKnown, false, archive.datagramBytesMax, archive.datagramsMax);
  }

  /**
   * Each value once: the parts of each run not delivered before (all of it, but for a value
   * decided twice), written out as they are, lines and all.
   */
  private deliverRuns(batch: Batch, fx: Effects): void {
    for (const c = batch.cursor(); c.next(); ) {
      if (c.client === RECONFIG_CLIENT) continue; // a configuration change (applied above), no client's value
      const ids = this.deliveredIds.of(c.client);
      if (c.first === ids.floor && ids.above.size === 0) {
        // The common case: the run right after what this client had delivered.
        ids.add(c.first, c.end);
        fx.deliver({ client: c.client, first: c.first, count: c.count, lines: c.lines });
        continue;
      }
      const first = c.first;
      const bytes = c.bytes;
      const linesStart = c.linesStart;
      ids.add(c.first, c.end, (s, e) => {
        const start = skipLines(bytes, linesStart, s - first);
        fx.deliver({ client: c.client, first: s, count: e - s, lines: bytes.subarray(start, skipLines(bytes, start, e - s)) });
      });
    }
  }

  /**
   * What always holds between steps (see Role.invariants). Linear in what the learner keeps of
   * instances it has not delivered (bounded: see `open` and `onVotes`).
   */
  invariants(): void {
    // `deliverReady` moves `next` and `lastDelivered` together, one instance at a time.
    assert(this.next >= (this.opts.startAt ?? 0), "a learner's delivered prefix only grows from where it started");
    assert(this.lastDelivered === this.next - 1, "a learner's delivered prefix is contiguous: the last instance delivered is the one before next");
    // Delivering raises decidedKnown to next; reports of a decided prefix only raise it.
    assert(this.decidedKnown >= this.next, "a learner knows every instance it delivered decided");
    // Votes, decisions and decided prefixes raise highestSeen before anything is decided from them.
    assert(this.highestSeen >= this.decidedKnown - 1, "a learner has seen every instance it knows decided");
    // `deliverReady` ends every step (but an input a learner ignores): a decided next is delivered at once.
    assert(!this.decided.has(this.next), "a learner delivers its next instance in the step that decides it");
    for (const inst of this.decided.keys()) {
      assert(inst > this.next && inst <= this.highestSeen, "a learner keeps only decided instances it has not delivered, as far as it has seen");
      assert(!this.tally.isOpen(inst), "a learner tallies no instance it knows decided");
    }
    // Instances enter the tally only when open (at or above next); each leaves it when decided.
    assert(this.tally.lowestOpen() >= this.next, "a learner tallies no instance below its next");
    this.tally.invariants();
    this.config.invariants();
    // Every step ends with `recheck` (deliverReady), once the history's horizon has moved.
    assert(this.tallyCheckedTo === this.config.horizon, "a learner rechecked its tally as far as it knows configurations");
    this.catchupInvariants();
    // Behind exactly when it heard of an instance it has not delivered: the catch-up timer runs then.
    assert((this.behindSinceMs !== Infinity) === (this.highestSeen >= this.next), "a learner is behind exactly while it has heard of an instance it has not delivered");
    const { catchupMs, idleProbeMaxMs } = this.opts;
    const probeMs = this.idleProbeMs;
    assert(probeMs >= Math.min(catchupMs, idleProbeMaxMs) && probeMs <= Math.max(catchupMs, idleProbeMaxMs), "a learner's idle probe backs off from catchupMs up to idleProbeMaxMs");
  }

  /** What catch-up keeps: accounts of acceptors (admitted ids) for instances in [next, next + catchupMax). */
  private catchupInvariants(): void {
    assert(this.recovery.size <= this.catchupMax, "a learner keeps accounts of at most one Catchup's instances");
    for (const [inst, accounts] of this.recovery) {
      // `onVotes` keeps accounts from next up to next + catchupMax; delivering drops them.
      assert(inst >= this.next && inst < this.next + this.catchupMax, "a learner keeps accounts only of undelivered instances within one Catchup");
      for (const acc of accounts.keys()) assert(acc >= 1 && acc <= ACCEPTORS_MAX, "a learner keeps accounts only of acceptor ids");
    }
    for (const acc of this.trimmedBelow.keys()) assert(acc >= 1 && acc <= ACCEPTORS_MAX, "a learner keeps trim points only of acceptor ids");
  }

  /**
   * Catch-up: ask acceptors (and proposers) for [next, next + catchupMax) when a gap has lasted
   * catchupMs, or, when nothing arrives, as a probe with backoff (a learner started late, or one
   * that missed the last instances, has no other way to know it is behind). The request says
   * what this learner knows decided and how far it has heard of votes, so that acceptors relearn
   * the decided prefix and a proposer finishes instances nobody else can.
   */
  private onTick(nowMs: number, fx: Effects): void {
    const sinceCatchup = nowMs - this.lastCatchupMs;
    let ask = false;
    if (this.highestSeen >= this.next) {
      ask = nowMs - this.behindSinceMs >= this.opts.catchupMs && sinceCatchup >= this.opts.catchupMs;
    } else if (nowMs - Math.max(this.lastProgressMs, this.lastCatchupMs) >= this.idleProbeMs) {
      ask = true;
      this.idleProbeMs = Math.min(this.idleProbeMs * 2, this.opts.idleProbeMaxMs);
    }
    if (!ask) return;
    this.lastCatchupMs = nowMs;
    // A gap asks only for the hole before the next instance it has; a probe asks for a range.
    const to = Math.min(this.next + this.catchupMax, this.highestSeen >= this.next ? this.holeEndExclusive() : Infinity);
    const msg = { t: "catchup", from: this.next, to, decidedBelow: this.decidedKnown, seenTo: this.highestSeen + 1 } as const;
    fx.send("acceptors", msg);
    fx.send("proposers", msg);
    if (this.opts.archives) fx.send("learners", msg);
  }

  /** The first instance above `next` that is decided (or seen at all): where the hole ends. */
  private holeEndExclusive(): number {
    let end = this.highestSeen + 1;
    for (const inst of this.decided.keys()) if (inst < end) end = inst;
    return end;
  }

  private nextCheckMs(): number {
    if (this.highestSeen >= this.next) {
      return Math.max(this.behindSinceMs, this.lastCatchupMs) + this.opts.catchupMs;
    }
    return Math.max(this.lastProgressMs, this.lastCatchupMs) + this.idleProbeMs;
  }
}
