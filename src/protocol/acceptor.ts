import { assert } from "./assert.ts";
import { ConfigGossip } from "./config-gossip.ts";
import { formatMembers, type ConfigHistory, type ConfigStamp } from "./configuration.ts";
import { HeadQueue } from "./head-queue.ts";
import { NO_NOTIFY, joinNotify, reports } from "./notify.ts";
import { chunkInstances, voteBytes } from "./pack.ts";
import { MESSAGE_FIXED_BYTES, MESSAGE_OVERHEAD_BYTES } from "./wire-budget.ts";
import {
  Effects,
  INSTANCES_AHEAD_MAX,
  NO_EFFECTS,
  type Catchup,
  type Input,
  type Phase1A,
  type Phase2A,
  type PersistRecord,
  type Role,
  type Vote,
} from "./messages.ts";

export interface AcceptorOptions {
  /** α of configuration changes (configuration.ts; RECONFIG_ALPHA): the cluster's, tests may shrink it. */
  readonly reconfigAlpha?: number;
  readonly id: number;
  /** The initial configuration's acceptors (1 to this); changes come through the log (configuration.ts). */
  readonly acceptors: number;
  /**
   * This acceptor's identity, in [1, NONCE_MAX]: random, drawn when its state was created (an
   * in-memory acceptor at every start; a durable one when its log was created, and kept in it).
   * Every message it sends carries it; see Refuse.
   */
  readonly ident: number;
  /** Every 1B and 2B must fit one datagram of this size. */
  readonly datagramBytesMax: number;
  /** Bound on the datagrams sent in answer to one Catchup. */
  readonly catchupDatagramsMax: number;
  /**
   * Votes kept below the decided prefix that proposers report: older ones are dropped, so memory
   * stays bounded. Learners further behind than this cannot catch up from acceptors.
   */
  readonly retainInstances: number;
  /**
   * No proposal is accepted more than this many instances above what this acceptor knows of
   * (the decided prefix, its highest vote): a stray datagram cannot make later leaders fill
   * billions of holes. Default INSTANCES_AHEAD_MAX; the simulator scales it down.
   */
  readonly instancesAheadMax?: number;
  /**
   * Gather the votes of a burst of 2As and send them as one 2B per round at `flush` (the end of
   * the runtime's event-loop turn), instead of one 2B per 2A: under load, several 2As arrive per
   * turn. Default false: a 2B per 2A, in the step's own effects.
   */
  readonly gather?: boolean;
}

/** Instances per 2B, at most (and as many as fit one datagram: see send2B). */
const TWO_B_INSTANCES_MAX = 256;

/** Votes of one round cast for one 2A, and the 2A's notify list. */
interface VoteGroup {
  readonly insts: readonly number[];
  readonly notify: Uint8Array;
}

/**
 * Paxos acceptor. `rnd` is the highest round promised, for every instance at once (one 1A
 * covers all instances from some i upward, and promising more instances only refuses more).
 * `accepted` maps an instance to its (vRnd, vVal).
 *
 * A promise is bound to the proposer incarnation (`nonce`) that asked for it first: the same
 * round from another incarnation is refused. Only an incarnation with a majority of promises
 * proposes, and majorities intersect, so every vote of one round comes from one incarnation,
 * which proposes one batch per instance: two values never get votes in one round, whatever the
 * clocks, replays, restarts or duplicate ids.
 */
export class Acceptor implements Role {
  protected rnd = 0;
  /** The incarnation `rnd` is bound to; 0 when unknown (refuses `rnd` to everyone). */
  protected rndOwner = 0;
  protected readonly accepted = new Map<number, Vote>();
  /** Accepted instances in increasing order, for 1B and Catchup ranges. */
  private readonly sortedInsts = new HeadQueue<number>();
  private sortedDirty = false;
  private storedBytesTotal = 0;
  /** Votes below this instance were dropped; every instance below it is decided. */
  protected trimmedBelow = 0;
  /** The highest decided prefix a proposer or learner reported (persisted: it saves a new leader work). */
  private decidedHint = 0;
  /** The highest instance ever voted here. */
  private highestInst = -1;
  /** The highest round of a vote ever held here (0: none), for the invariants. */
  private highestVoteRnd = 0;
  private readonly aheadMax: number;
  private readonly gossip: ConfigGossip;
  /** The history as last persisted: its epoch and knownTo. */
  private persistedEpoch = 0;
  private persistedKnownTo = 0;

  constructor(readonly opts: AcceptorOptions) {
    this.aheadMax = opts.instancesAheadMax ?? INSTANCES_AHEAD_MAX;
    this.gossip = new ConfigGossip(opts.acceptors, "acceptors", () => this.decidedPrefix, opts.reconfigAlpha);
  }

  /** The configuration history this acceptor knows. */
  get config(): ConfigHistory {
    return this.gossip.history;
  }

  stamp(): ConfigStamp {
    return this.gossip.history.stamp;
  }

  /** Reinstates what a durable acceptor persisted before it stopped (runtime start-up). */
  restore(records: Iterable<PersistRecord>): void {
    for (const r of records) {
      if (r.kind === "promise") {
        if (r.rnd >= this.rnd) [this.rnd, this.rndOwner] = [r.rnd, r.owner];
      } else if (r.kind === "trim") {
        // Only decided instances are trimmed: a trim record says so (older logs, and a lost
        // decided record, have the one without the other).
        this.decidedHint = Math.max(this.decidedHint, r.below);
        this.trim(r.below);
      } else if (r.kind === "decided") this.decidedHint = Math.max(this.decidedHint, r.below);
      else if (r.kind === "config") {
        this.config.merge(r.history, r.knownTo);
        [this.persistedEpoch, this.persistedKnownTo] = [this.config.epoch, this.config.knownTo];
      } else if (r.vote.inst >= this.trimmedBelow) this.hold(r.vote);
    }
  }

  /** Everything this acceptor holds, as records (for compacting its log). */
  *snapshot(): Iterable<PersistRecord> {
    yield { kind: "promise", rnd: this.rnd, owner: this.rndOwner };
    yield { kind: "trim", below: this.trimmedBelow };
    yield { kind: "decided", below: this.decidedHint };
    yield { kind: "config", history: this.config.history, knownTo: this.config.knownTo };
    for (const vote of this.accepted.values()) yield { kind: "vote", vote };
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    if (input.kind !== "msg") return fx;
    this.gossip.onInput(input, nowMs, fx);
    const msg = input.msg;
    switch (msg.t) {
      case "1a":
        this.onPhase1A(msg, fx);
        break;
      case "2a":
        this.onPhase2A(msg, fx);
        break;
      case "catchup":
        this.onCatchup(msg, fx);
        break;
      case "refuse":
        if (msg.acc === this.opts.id && msg.ident === this.opts.ident) {
          fx.fatal = {
            cause: "acceptor-identity",
            reason:
              `the cluster knows another process as acceptor ${this.opts.id}: another process runs with this id, or this acceptor ` +
              `restarted without its storage (it forgot its votes, so it must not vote again); stopping`,
          };
        }
        break;
      default:
        break; // not for acceptors
    }
    this.followConfig(fx);
    return fx;
  }

  /**
   * After each step: the history is persisted when it gained an epoch, or knows α/2 instances
   * more than last persisted (after a restart of the whole cluster it knows as far as the decided
   * prefix it persisted, less that: configuration.ts); and an acceptor that no configuration of
   * an undecided instance includes any more (a change removed it, and governs) stops.
   */
  private followConfig(fx: Effects): void {
    const h = this.config;
    if (h.epoch > this.persistedEpoch || h.knownTo - this.persistedKnownTo >= h.alpha / 2) {
      [this.persistedEpoch, this.persistedKnownTo] = [h.epoch, h.knownTo];
      fx.persistRecord({ kind: "config", history: h.history, knownTo: h.knownTo });
    }
    const id = this.opts.id;
    // Removed only once a change left it out and governs every undecided instance (checked in
    // full only then: this runs after every step).
    if (h.epoch === 0 || h.latest.members.includes(id) || this.decidedPrefix < h.latest.from) return;
    const wasMember = h.history.some((c) => c.members.includes(id));
    if (wasMember && !h.membersFrom(this.decidedPrefix).has(id) && fx.fatal === undefined) {
      const latest = h.latest;
      fx.fatal = {
        cause: "removed",
        reason:
          `acceptor ${id} was removed from the cluster: configuration epoch ${latest.epoch} (acceptors ${formatMembers(latest.members)}) ` +
          `governs from instance ${latest.from}, and every instance before is decided; this acceptor is no longer needed, stopping`,
      };
    }
  }

  get promised(): number {
    return this.rnd;
  }

  /** Every instance below is decided: trimmed here, or reported decided by a proposer. */
  get decidedPrefix(): number {
    return Math.max(this.trimmedBelow, this.decidedHint);
  }

  get voteCount(): number {
    return this.accepted.size;
  }

  /** Approximate bytes of the votes held (what a compacted log would take). */
  get storedBytes(): number {
    return this.storedBytesTotal;
  }

  /** The vote held for an instance, if any (for tests and inspection). */
  voteOf(inst: number): Vote | undefined {
    return this.accepted.get(inst);
  }

  /**
   * What always holds between steps (see Role.invariants), in constant time but for the votes
   * gathered in this turn: the votes held are checked through what `hold` and `trim` keep of
   * them (their count, bytes, highest round and the ends of the sorted index).
   */
  invariants(): void {
    assert(Number.isInteger(this.rnd) && this.rnd >= 0, "an acceptor's promise is a round");
    // `promise` binds every round it raises to to an incarnation; round 0 is promised to nobody.
    assert(this.rnd > 0 || this.rndOwner === 0, "no incarnation owns round 0");
    // A vote is cast in the round just promised (onPhase2A asserts it), and a promise only rises;
    // restored votes follow the promise records they depend on in the log.
    assert(this.highestVoteRnd <= this.rnd, "an acceptor's votes are never in a round above its promise");
    // `noteDecided` trims below a reported decided prefix (minus the retention) after noting it;
    // `restore` takes a trim record as such a report.
    assert(this.trimmedBelow >= 0 && this.trimmedBelow <= this.decidedHint, "an acceptor trims only below the decided prefix it knows");
    // `hold` and `trim` add and subtract each vote's bytes.
    assert(this.storedBytesTotal >= 0 && (this.accepted.size > 0 || this.storedBytesTotal === 0), "an acceptor counts the bytes of exactly the votes it holds");
    assert(this.accepted.size === 0 || this.highestInst >= 0, "an acceptor holding votes knows its highest instance voted");
    this.sortedIndexInvariants();
    // Votes wait for the end of the turn only when gathering (`flush` empties the list), and were
    // cast in rounds this acceptor promised.
    assert(this.opts.gather === true || this.gathered.length === 0, "only a gathering acceptor holds votes back");
    for (const g of this.gathered) assert(g.vRnd <= this.rnd && g.groups.length > 0, "votes held back were cast in a promised round");
  }

  /**
   * The sorted index: a new instance in order is appended, one out of order marks it dirty (it is
   * rebuilt at the next read, and `trim` reads it first): clean, it lists exactly the instances
   * held, none below the trim point.
   */
  private sortedIndexInvariants(): void {
    const insts = this.sortedInsts;
    assert(insts.length <= this.accepted.size, "the sorted index lists no instance that is not held");
    if (this.sortedDirty || insts.length === 0) return;
    assert(insts.length === this.accepted.size, "a clean sorted index lists every instance held");
    const first = insts.at(0);
    const last = insts.last()!;
    assert(first <= last && this.accepted.has(first) && this.accepted.has(last), "a clean sorted index starts and ends with instances held");
    assert(first >= this.trimmedBelow, "an acceptor keeps no vote below its trim point");
    assert(last <= this.highestInst, "no vote held is above the highest instance voted");
  }

  /**
   * A 1A of a round above the promise, or equal to it from the incarnation it is bound to, is
   * answered with a promise. Equal rounds are answered again: a proposer retransmits its 1A when
   * the 1B was lost, and asks for later pieces in the same round. A 1A of round 0 is a query.
   */
  protected onPhase1A(msg: Phase1A, fx: Effects): void {
    if (msg.acc !== 0 && msg.acc !== this.opts.id) return; // a piece asked of another acceptor
    if (msg.cRnd === 0 || !this.mayPromise(msg.cRnd, msg.nonce)) {
      fx.send("proposers", { t: "nack", acc: this.opts.id, ident: this.opts.ident, rnd: this.rnd, cRnd: msg.cRnd, nonce: msg.nonce });
      return;
    }
    this.promise(msg.cRnd, msg.nonce, fx);
    this.noteDecided(msg.decidedBelow, fx);
    // What is known decided needs no report: a proposer that just started would otherwise fetch
    // every vote this acceptor retains.
    const decidedBelow = this.decidedPrefix;
    const { votes, to, done } = this.votesFrom(Math.max(msg.from, decidedBelow), Infinity);
    fx.send("proposers", { t: "1b", acc: this.opts.id, ident: this.opts.ident, rnd: this.rnd, nonce: msg.nonce, from: msg.from, to, done, votes, decidedBelow });
  }

  protected onPhase2A(msg: Phase2A, fx: Effects): void {
    if (!this.mayAccept(msg.cRnd, msg.nonce)) {
      fx.send("proposers", { t: "nack", acc: this.opts.id, ident: this.opts.ident, rnd: this.rnd, cRnd: msg.cRnd, nonce: msg.nonce });
      return;
    }
    this.promise(msg.cRnd, msg.nonce, fx);
    this.noteDecided(msg.decidedBelow, fx);
    assert(this.rnd === msg.cRnd, "an acceptor votes only in the round it promised");
    const aheadLimit = Math.max(msg.decidedBelow, this.decidedPrefix, this.highestInst + 1) + this.aheadMax;
    const insts: number[] = [];
    for (const p of msg.proposals) {
      if (p.inst < this.trimmedBelow) continue; // decided long ago: no vote needed, none kept
      if (this.config.isMember(this.opts.id, p.inst) === false) continue; // its configuration does not count this acceptor
      if (p.inst >= aheadLimit) continue; // no real proposal is that far ahead
      const old = this.accepted.get(p.inst);
      if (old !== undefined && old.vRnd === msg.cRnd) {
        // A retransmission. Another batch in the same round would be a second value in one round:
        // refused, the first vote stays.
        if (!old.vVal.sameAs(p.cVal)) {
          fx.violations.push(`two batches proposed for instance ${p.inst} in round ${msg.cRnd}; kept the first`);
          continue;
        }
        insts.push(p.inst);
        continue;
      }
      const vote: Vote = { inst: p.inst, vRnd: msg.cRnd, vVal: p.cVal };
      this.hold(vote);
      insts.push(p.inst);
      fx.persistRecord({ kind: "vote", vote });
    }
    // Thrifty 2Bs: an acceptor the 2A does not name as a reporter tells only the proposers (who
    // track every acceptor: who is up, who is an impostor), not learners nor clients.
    const report = reports(msg.report, this.opts.id);
    const notify = insts.length > 0 && report ? msg.notify : NO_NOTIFY;
    if (this.opts.gather) this.gatherVotes(msg.cRnd, msg.nonce, report, insts, notify);
    else this.send2B(msg.cRnd, msg.nonce, report, [{ insts, notify }], fx);
  }

  /**
   * 2Bs for the votes of one round, given per 2A with the 2A's notify list: as few as hold them
   * within TWO_B_INSTANCES_MAX instances and one datagram each (one also for none). A 2B that
   * passes a notify list on goes to the clients too.
   */
  private send2B(vRnd: number, nonce: number, report: boolean, groups: readonly VoteGroup[], fx: Effects): void {
    if (groups.every((g) => g.notify.length === 0)) {
      const insts = groups.length === 1 ? groups[0]!.insts : groups.flatMap((g) => g.insts);
      for (const chunk of chunkInstances(insts, this.opts.datagramBytesMax, TWO_B_INSTANCES_MAX)) this.send2BOf(vRnd, nonce, report, chunk, NO_NOTIFY, fx);
      return;
    }
    // With notify lists: groups are packed whole while they fit (a 2A's notify list fits a 2B with its instances).
    const room = this.opts.datagramBytesMax - MESSAGE_FIXED_BYTES["2b"];
    let insts: number[] = [];
    let notify: Uint8Array[] = [];
    let bytes = 0;
    const send = (): void => {
      for (const chunk of chunkInstances(insts, this.opts.datagramBytesMax, TWO_B_INSTANCES_MAX)) this.send2BOf(vRnd, nonce, report, chunk, joinNotify(notify), fx);
      insts = [];
      notify = [];
      bytes = 0;
    };
    for (const g of groups) {
      const size = 9 * g.insts.length + g.notify.length; // instances as varints take at most 9 bytes each
      if (insts.length > 0 && (bytes + size > room || insts.length + g.insts.length > TWO_B_INSTANCES_MAX)) send();
      for (const inst of g.insts) insts.push(inst);
      if (g.notify.length > 0) notify.push(g.notify);
      bytes += size;
    }
    if (insts.length > 0 || notify.length > 0) send();
  }

  private send2BOf(vRnd: number, nonce: number, report: boolean, insts: readonly number[], notify: Uint8Array, fx: Effects): void {
    const twoB = { t: "2b", acc: this.opts.id, ident: this.opts.ident, vRnd, nonce, insts, decidedBelow: this.decidedPrefix, notify } as const;
    if (report) fx.send("learners", twoB);
    fx.send("proposers", twoB);
    if (notify.length > 0) fx.send("clients", twoB);
  }

  /** Votes cast (persisted) whose 2B waits for `flush`, by round and by whether they are reported. */
  private gathered: { vRnd: number; nonce: number; report: boolean; groups: VoteGroup[] }[] = [];

  private gatherVotes(vRnd: number, nonce: number, report: boolean, insts: number[], notify: Uint8Array): void {
    if (insts.length === 0) return;
    let g = this.gathered.find((x) => x.vRnd === vRnd && x.nonce === nonce && x.report === report);
    if (g === undefined) this.gathered.push((g = { vRnd, nonce, report, groups: [] }));
    g.groups.push({ insts, notify });
  }

  /** The end of a burst of inputs: the gathered votes go out, one 2B per round (and per datagram). */
  flush(_nowMs: number): Effects {
    if (this.gathered.length === 0) return NO_EFFECTS;
    const fx = new Effects();
    for (const g of this.gathered) this.send2B(g.vRnd, g.nonce, g.report, g.groups, fx);
    this.gathered = [];
    return fx;
  }

  private hold(vote: Vote): void {
    const old = this.accepted.get(vote.inst);
    if (old === undefined) this.markNewInstance(vote.inst);
    else this.storedBytesTotal -= old.vVal.wireBytes;
    this.storedBytesTotal += vote.vVal.wireBytes;
    this.accepted.set(vote.inst, vote);
    if (vote.inst > this.highestInst) this.highestInst = vote.inst;
    if (vote.vRnd > this.highestVoteRnd) this.highestVoteRnd = vote.vRnd;
  }

  /**
   * Notes a decided prefix someone reported (a fact: every instance below is decided), and drops
   * votes that are both decided and older than the retention.
   */
  private noteDecided(decidedBelow: number, fx: Effects): void {
    if (decidedBelow > this.decidedHint) {
      this.decidedHint = decidedBelow;
      fx.persistRecord({ kind: "decided", below: decidedBelow });
    }
    // Trimmed in steps, not one instance per 2A: at most trimStep more votes are kept.
    const below = decidedBelow - this.opts.retainInstances;
    if (below - this.trimmedBelow < this.trimStep) return;
    this.trim(below);
    fx.persistRecord({ kind: "trim", below });
  }

  /** How far the decided prefix moves before votes are trimmed again. */
  private get trimStep(): number {
    return Math.max(1, Math.min(256, Math.ceil(this.opts.retainInstances / 8)));
  }


  private trim(below: number): void {
    if (below <= this.trimmedBelow) return;
    this.trimmedBelow = below;
    const insts = this.sorted();
    const cut = insts.lowerBound(below, identity);
    for (let k = 0; k < cut; k++) {
      const vote = this.accepted.get(insts.at(k))!;
      this.storedBytesTotal -= vote.vVal.wireBytes;
      this.accepted.delete(insts.at(k));
    }
    insts.dropFirst(cut);
  }

  /**
   * Raises the promise (never lowers it) and binds it to the asking incarnation; a raised
   * promise must be durable before the reply.
   */
  private promise(rnd: number, owner: number, fx: Effects): void {
    if (rnd <= this.rnd) return;
    this.rnd = rnd;
    this.rndOwner = owner;
    fx.persistRecord({ kind: "promise", rnd, owner });
  }

  /** A round above the promise, or the promised round from the incarnation it is bound to. */
  protected admits(cRnd: number, nonce: number): boolean {
    return cRnd > this.rnd || (cRnd === this.rnd && nonce === this.rndOwner && nonce !== 0);
  }

  protected mayPromise(cRnd: number, nonce: number): boolean {
    return this.admits(cRnd, nonce);
  }

  protected mayAccept(cRnd: number, nonce: number): boolean {
    return this.admits(cRnd, nonce);
  }

  /**
   * Answers a learner with its account of the instances asked (Votes), bounded in datagrams, and
   * notes what the learner knows decided (an acceptor restarted in an idle cluster relearns it so).
   */
  private onCatchup(msg: Catchup, fx: Effects): void {
    this.noteDecided(msg.decidedBelow, fx);
    if (msg.from < this.trimmedBelow) fx.send("learners", { t: "trimmed", acc: this.opts.id, ident: this.opts.ident, below: this.trimmedBelow });
    let from = Math.max(msg.from, this.trimmedBelow);
    const decidedBelow = this.decidedPrefix;
    for (let i = 0; i < this.opts.catchupDatagramsMax && from < msg.to; i++) {
      const { votes, to, done } = this.votesFrom(from, msg.to);
      fx.send("learners", { t: "votes", acc: this.opts.id, ident: this.opts.ident, from, to: done ? msg.to : to, decidedBelow, votes });
      if (done) break;
      from = to;
    }
  }

  /**
   * Votes of instances in [from, limit) that fit one datagram. `to` is where the answer stops
   * (exclusive); `done` says no vote remains in [to, limit).
   */
  private votesFrom(from: number, limit: number): { votes: Vote[]; to: number; done: boolean } {
    const insts = this.sorted();
    let k = insts.lowerBound(from, identity);
    const votes: Vote[] = [];
    let bytes = MESSAGE_OVERHEAD_BYTES;
    for (; k < insts.length; k++) {
      const inst = insts.at(k);
      if (inst >= limit) break;
      const vote = this.accepted.get(inst)!;
      const size = voteBytes(vote);
      if (votes.length > 0 && bytes + size > this.opts.datagramBytesMax) {
        return { votes, to: inst, done: false };
      }
      bytes += size;
      votes.push(vote);
    }
    return { votes, to: k < insts.length ? insts.at(k) : Math.max(from, (insts.last() ?? from) + 1), done: true };
  }

  /** Instances arrive mostly in order: appended; one out of order makes the next read sort them all. */
  private markNewInstance(inst: number): void {
    const last = this.sortedInsts.last();
    if (!this.sortedDirty && (last === undefined || last < inst)) this.sortedInsts.push(inst);
    else this.sortedDirty = true;
  }

  private sorted(): HeadQueue<number> {
    if (this.sortedDirty) {
      this.sortedInsts.reset([...this.accepted.keys()].sort((a, b) => a - b));
      this.sortedDirty = false;
    }
    return this.sortedInsts;
  }
}

const identity = (x: number): number => x;
