/**
 * The Paxos proposer: proactive Phase 1 (one 1A for every instance from the decided prefix up),
 * pipelined Phase 2 with self-clocked batching, and takeover with randomized, growing backoff. It
 * learns decisions from direct 2Bs like a learner, to ack clients and to know which instances are
 * done.
 *
 * One mode at a time, each with the state that exists only in it (`Mode`), changed only by the
 * transitions `startPhase1`, `becomeLeader`, `standBy` and `stop`. What outlives a mode lives in
 * its own module: what is decided (decided-log.ts), when to take over (takeover.ts), who was heard
 * (presence.ts), the clients' values (pending.ts, intake.ts), duplicate ids (id-guard.ts).
 */
import { assert } from "./assert.ts";
import { Batch, BatchBuilder } from "./batch.ts";
import { ConfigGossip } from "./config-gossip.ts";
import { isQuorumOf, majorityOf, type ConfigHistory, type ConfigStamp, type Configuration } from "./configuration.ts";
import { DecidedLog } from "./decided-log.ts";
import { AcceptorIdentities } from "./identities.ts";
import { IdGuard } from "./id-guard.ts";
import { ACCEPTORS_MAX, PROPOSER_ID_MAX, ROUND_STRIDE } from "./id-limits.ts";
import { clientSilent, runsInBatches, starvingRuns, takeIn } from "./intake.ts";
import {
  CATCHUP_INSTANCES_MAX,
  Effects,
  INSTANCES_AHEAD_MAX,
  type Catchup,
  type Group,
  type Input,
  type Message,
  type Nack,
  type Phase1B,
  type Phase2A,
  type Phase2B,
  type Proposal,
  type Role,
  type Submit,
  type Vote,
} from "./messages.ts";
import { NO_NOTIFY, NotifyWriter, REPORT_ALL, joinNotify, notifyEntryBytes } from "./notify.ts";
import { chunkAckRanges, chunkBySize, proposalBytes, sendDecisions } from "./pack.ts";
import { PendingValues } from "./pending.ts";
import type { ProposerOptions } from "./proposer-options.ts";
import { HELLO_EVERY_MS, OTHERS_HEARD_HELLOS, Presence } from "./presence.ts";
import { DECIDED_VALUE_UNKNOWN, majority } from "./tally.ts";
import { NEVER_MS, TakeoverTimer } from "./takeover.ts";
import { BATCH_FRAMING_BYTES, MESSAGE_OVERHEAD_BYTES, NONCE_MAX, NOTIFY_2B_MARGIN_BYTES } from "./wire-budget.ts";

export { HELLO_EVERY_MS } from "./presence.ts";
export type { ProposerOptions } from "./proposer-options.ts";

export type ProposerMode = Mode["kind"];

/**
 * The modes, and the state that exists only in each.
 * - `probing`: just started; asks a majority of acceptors for their promises (a round-0 query)
 *   so that its first round is above them, and watches for a leader.
 * - `phase1`: runs Phase 1 in round cRnd for every instance from `from`.
 * - `leader`: a majority promised cRnd; Phase 2 only.
 * - `standby`: another proposer leads (or led); takes over when its work stalls (takeover.ts).
 * - `stopped`: found its id in use by another live process.
 */
type Mode = Probing | Phase1 | Leading | Standby | Stopped;

interface Probing {
  readonly kind: "probing";
  /** The first step's time (set then: the proposer has no clock of its own). */
  startedAtMs: number | undefined;
  /** Acceptors that answered the probe. */
  readonly probed: Set<number>;
  sentAtMs: number;
  /** 2B votes were seen: someone is deciding, so no Phase 1 at start. */
  votesSeen: boolean;
  /**
   * The highest promise among the probe's answers. 0: no acceptor of a majority ever promised a
   * round, so no proposer ever led this cluster, and none needs waiting for.
   */
  promisedMax: number;
}

interface Phase1 {
  readonly kind: "phase1";
  /** The 1A covers every instance from here. */
  readonly from: number;
  /** The configuration epoch this proposer knew when it started (a later one: see onConfigChange). */
  readonly epoch: number;
  /** How far each acceptor's (multi-piece) 1B answer got, and whether it is complete. */
  readonly coverage: Map<number, { to: number; done: boolean }>;
  /** Acceptors that refused our round as bound to another incarnation (they never vote in it). */
  readonly refusers: Set<number>;
  /** Per instance, the highest-vRnd vote among the promises. */
  readonly votes: Map<number, Vote>;
  /** Instances whose promises showed two batches in one round (never proposed). */
  readonly conflicts: Set<number>;
  /** The highest decidedBelow among the promises. */
  decidedBelow: number;
  sentAtMs: number;
}

interface InFlight {
  readonly cVal: Batch;
  sentAtMs: number;
  /** Where the batch's runs are, for the clients (empty: the leader acks them when decided). */
  notify: Uint8Array;
}

interface Leading {
  readonly kind: "leader";
  /** The latest configuration epoch its Phase 1 had promises for. */
  readonly epoch: number;
  /** From Phase 1: refusers still count (a round no majority can vote in is given up). */
  readonly refusers: Set<number>;
  /** From Phase 1: the votes to re-propose in [retakeNext, retakeTop], and conflicted instances. */
  readonly votes: Map<number, Vote>;
  readonly conflicts: Set<number>;
  /** Our proposals not decided yet, in send order (oldest first). */
  readonly inflight: Map<number, InFlight>;
  /** Instances taken over (accepted, or holes), proposed as the window allows. */
  retakeNext: number;
  readonly retakeTop: number;
  /** The next instance for new values. */
  nextInst: number;
}

interface Standby {
  readonly kind: "standby";
}

interface Stopped {
  readonly kind: "stopped";
}

/** Where a batch's runs are, for the clients' group (what a 2A's `notify` says of one instance). */
function notifyOf(inst: number, cVal: Batch): Uint8Array {
  if (cVal.runs === 0) return NO_NOTIFY;
  let size = 0;
  for (const c = cVal.cursor(); c.next(); ) size += notifyEntryBytes(inst, c.client, c.first, c.count);
  const w = new NotifyWriter(size);
  for (const c = cVal.cursor(); c.next(); ) w.add(inst, c.client, c.first, c.count);
  return w.finish();
}

export function nextRound(highest: number, id: number): number {
  return (Math.floor(highest / ROUND_STRIDE) + 1) * ROUND_STRIDE + id;
}

export class Proposer implements Role {
  private mode: Mode = { kind: "probing", startedAtMs: undefined, probed: new Set(), sentAtMs: NEVER_MS, votesSeen: false, promisedMax: 0 };
  /** The round of this process's latest Phase 1 (0: none yet). */
  protected cRnd = 0;
  protected highestRnd: number;
  private readonly nonce: number;
  /** When this process started, by its wall clock (ms): what its Hellos say. */
  private readonly startedWallMs: number;
  private readonly idGuard: IdGuard;
  private readonly gossip: ConfigGossip;
  private readonly log: DecidedLog;
  /** The tally was rechecked for instances up to here (their configuration became known). */
  private tallyCheckedTo: number;
  private readonly takeover: TakeoverTimer;
  private readonly presence: Presence;
  private readonly acceptorIds: AcceptorIdentities;
  /** Client values: waiting, in flight in our round, known decided. */
  private readonly values = new PendingValues();
  /** Gathering (opts.gather): propose at `flush`. */
  private proposeDue = false;
  /** Ranges (client, first, count) decided and to be acked (at `flush` when gathering). */
  private acksDue: number[] = [];

  /** For metrics: Phase 1 runs, and those that took over from another round. */
  readonly counters = { phase1Runs: 0, takeovers: 0, forwarded: 0 };

  constructor(readonly opts: ProposerOptions) {
    assert(opts.id >= 0 && opts.id <= PROPOSER_ID_MAX, `proposer id must be in [0, ${PROPOSER_ID_MAX}]`);
    assert(Number.isSafeInteger(opts.incarnation) && opts.incarnation >= 1 && opts.incarnation <= NONCE_MAX, "an incarnation nonce is in [1, 2^48]");
    this.nonce = opts.incarnation;
    this.highestRnd = opts.roundFloor;
    this.gossip = new ConfigGossip(opts.acceptors, "proposers", () => this.log.firstUndecided, opts.reconfigAlpha);
    this.log = new DecidedLog(this.gossip.history, opts.retainInstances);
    this.tallyCheckedTo = this.gossip.history.horizon;
    this.acceptorIds = new AcceptorIdentities(true);
    const helloEveryMs = opts.helloEveryMs ?? HELLO_EVERY_MS;
    this.presence = new Presence(helloEveryMs, opts.thriftyReports ?? false);
    this.takeover = new TakeoverTimer(opts.takeoverMs, opts.random, OTHERS_HEARD_HELLOS * helloEveryMs);
    this.startedWallMs = Math.floor(opts.roundFloor / ROUND_STRIDE);
    this.idGuard = new IdGuard(opts.id, opts.incarnation, this.startedWallMs, opts.duplicateGraceMs ?? 10_000, OTHERS_HEARD_HELLOS * helloEveryMs);
  }

  // ---- transitions: the only places the mode changes ----

  /** A new round above every round seen, and a 1A for every instance from the decided prefix. */
  protected startPhase1(nowMs: number, fx: Effects): void {
    assert(this.mode.kind !== "stopped", "a stopped proposer runs no Phase 1");
    if (this.mode.kind === "leader") {
      // A new configuration governs instances ahead (see onConfigChange): our round needs its promises.
      for (const f of this.mode.inflight.values()) this.values.requeue(f.cVal, nowMs);
      this.values.clearInflight();
    }
    this.counters.phase1Runs++;
    if (this.cRnd !== 0) this.counters.takeovers++; // not this incarnation's first Phase 1
    this.cRnd = nextRound(this.highestRnd, this.opts.id);
    this.highestRnd = this.cRnd;
    const from = this.log.firstUndecided;
    this.mode = { kind: "phase1", from, epoch: this.config.epoch, coverage: new Map(), refusers: new Set(), votes: new Map(), conflicts: new Set(), decidedBelow: 0, sentAtMs: nowMs };
    this.send1A(from, 0, fx);
  }

  /**
   * With a majority of promises: re-propose, in our round, every value accepted at or above the
   * decided prefix (the highest-vRnd one per instance), fill the holes below them and below what
   * learners have seen with no-ops, then carry on with new values. No instance a promise reported
   * is skipped, however far above: any of them may hold a chosen value.
   */
  private becomeLeader(p1: Phase1, nowMs: number, fx: Effects): void {
    assert(this.mode === p1, "a proposer becomes leader from its Phase 1");
    // Below an acceptor's decidedBelow every instance is decided (it trims, and reports, only
    // what someone found decided): never propose there, not even a no-op.
    const from = Math.max(p1.from, p1.decidedBelow);
    if (p1.decidedBelow > this.log.firstUndecided) this.skipDecidedBelow(p1.decidedBelow, nowMs);
    const top = this.highestTakenInstance(from, p1.votes);
    this.mode = { kind: "leader", epoch: this.config.epoch, refusers: p1.refusers, votes: p1.votes, conflicts: p1.conflicts, inflight: new Map(), retakeNext: from, retakeTop: top, nextInst: top + 1 };
    this.proposeNew(this.mode, nowMs, fx);
  }

  /** Another round is (or may be) in charge: our proposals go back to pending, and a takeover waits. */
  private standBy(nowMs: number, preempted: boolean): void {
    const from = this.mode.kind;
    assert(from === "probing" || from === "phase1" || from === "leader", "a proposer stands by from probing, Phase 1 or leading");
    if (preempted) this.takeover.preempted();
    if (this.mode.kind === "leader") for (const f of this.mode.inflight.values()) this.values.requeue(f.cVal, nowMs);
    this.mode = { kind: "standby" };
    this.takeover.leaderHeard(nowMs); // someone leads (or did, a moment ago)
    this.values.clearInflight();
    this.takeover.defer(nowMs);
  }

  /** Another live process has our id (`fx.fatal` says so): nothing more from this one. */
  private stop(): void {
    assert(this.mode.kind !== "stopped", "a proposer stops once");
    this.mode = { kind: "stopped" };
  }

  // ---- the door ----

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    const mode = this.mode;
    if (mode.kind === "probing") mode.startedAtMs ??= nowMs;
    if (mode.kind === "stopped") return fx;
    const epoch = this.config.epoch;
    this.gossip.onInput(input, nowMs, fx);
    if (input.kind === "tick") this.onTick(nowMs, fx);
    else if (input.kind === "msg") this.onMessage(input.msg, nowMs, fx);
    this.followLog(epoch, nowMs, fx);
    this.takeover.trackHole(this.log.firstUndecided, this.log.maxDecided, nowMs);
    if (fx.fatal === undefined) this.requestWake(nowMs, fx);
    return fx;
  }

  /** The end of a burst of inputs: proposes what arrived in it, acks what it decided (gather). */
  flush(nowMs: number): Effects {
    const fx = new Effects();
    if (this.mode.kind === "stopped") return fx;
    if (this.proposeDue) {
      this.proposeDue = false;
      if (this.mode.kind === "leader") this.proposeNew(this.mode, nowMs, fx);
    }
    if (this.acksDue.length > 0) this.sendAcks("clients", this.acksDue, fx);
    this.acksDue = [];
    this.requestWake(nowMs, fx);
    return fx;
  }

  get round(): number {
    return this.cRnd;
  }

  /** Every instance below is known decided. */
  get decidedPrefix(): number {
    return this.log.firstUndecided;
  }

  /** The configuration history this proposer knows. */
  get config(): ConfigHistory {
    return this.gossip.history;
  }

  stamp(): ConfigStamp {
    return this.gossip.history.stamp;
  }

  get isLeader(): boolean {
    return this.mode.kind === "leader";
  }

  get state(): ProposerMode {
    return this.mode.kind;
  }

  get pendingCount(): number {
    return this.values.size + this.values.inflight;
  }

  private onMessage(msg: Message, nowMs: number, fx: Effects): void {
    switch (msg.t) {
      case "submit":
        return this.onSubmit(msg, nowMs, fx);
      case "1b":
        if (!this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) return;
        this.presence.acceptor(msg.acc, nowMs);
        return this.onPhase1B(msg, nowMs, fx);
      case "2a":
        return this.onPhase2A(msg, nowMs, fx);
      case "2b":
        if (!this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) return;
        this.presence.acceptor(msg.acc, nowMs);
        return this.onPhase2B(msg, nowMs, fx);
      case "nack":
        if (this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) this.onNack(msg, nowMs);
        return;
      case "catchup":
        return this.onCatchup(msg, nowMs, fx);
      case "ack":
        return this.onAck(msg.ranges, nowMs);
      case "hello":
        if (msg.nonce === this.nonce) return; // our own, looped back
        this.presence.otherProposer(nowMs);
        if (msg.leading) this.takeover.leaderHeard(nowMs);
        if (this.idGuard.onHello(msg, nowMs, fx)) this.stop();
        return;
      default:
        return;
    }
  }

  // ---- time: what each mode does when a timer fires, and when it wants the next ----

  private onTick(nowMs: number, fx: Effects): void {
    if (this.presence.helloDue(nowMs)) this.sendHello(nowMs, fx);
    const m = this.mode;
    switch (m.kind) {
      case "probing":
        if (m.probed.size < majorityOf(this.config.latest)) {
          if (nowMs - m.sentAtMs >= this.opts.retransmitMs) this.sendProbe(m, nowMs, fx);
        } else if (m.votesSeen || this.takeover.leaderHeardLately(nowMs)) this.standBy(nowMs, false); // someone leads
        else if (nowMs >= this.probedUntilMs(m, nowMs)) this.startPhase1(nowMs, fx); // proactive Phase 1, before any client value
        return;
      case "phase1":
        if (nowMs - m.sentAtMs < this.opts.retransmitMs) return;
        // Some acceptor bound this round to another incarnation and no majority came meanwhile:
        // the round is lost (that acceptor will never promise it); a higher one, later.
        if (m.refusers.size > 0) this.standBy(nowMs, true);
        else this.resendPhase1A(m, nowMs, fx);
        return;
      case "leader":
        // Likewise in Phase 2: a 2A no majority voted for by its retransmission, with such an
        // acceptor out, may never be (the others may be down): the round is given up.
        if (m.refusers.size > 0 && this.has2AStale(m, nowMs)) return this.standBy(nowMs, true);
        this.resendStale2A(m, nowMs, fx);
        return this.proposeNew(m, nowMs, fx);
      case "standby":
        this.forwardStarving(nowMs, fx);
        if (nowMs >= this.takeoverAtMs(nowMs)) this.startPhase1(nowMs, fx);
        return;
      case "stopped":
        return;
    }
  }

  private requestWake(nowMs: number, fx: Effects): void {
    fx.wakeAt(this.presence.nextHelloAtMs);
    const m = this.mode;
    switch (m.kind) {
      case "probing":
        fx.wakeAt(m.probed.size < majorityOf(this.config.latest) ? m.sentAtMs + this.opts.retransmitMs : Math.max(nowMs, this.probedUntilMs(m, nowMs)));
        return;
      case "phase1":
        return fx.wakeAt(m.sentAtMs + this.opts.retransmitMs);
      case "leader": {
        const oldest = m.inflight.values().next();
        if (!oldest.done) fx.wakeAt(oldest.value.sentAtMs + this.opts.retransmitMs);
        return;
      }
      case "standby":
        fx.wakeAt(this.takeoverAtMs(nowMs));
        if (this.values.size > 0) fx.wakeAt(this.takeover.nextForwardAtMs(nowMs));
        return;
      case "stopped":
        return;
    }
  }

  /**
   * When a probing proposer that heard no leader starts its first Phase 1: after `probeWaitMs`,
   * time for a live leader's Hellos to arrive; but at once when nobody ever led this cluster (no
   * promise at any acceptor of a majority: no leader to wait for) and this is the first proposer
   * (id 0 or 1), so that a fresh cluster serves its first value without the wait, and the others,
   * still waiting, hear its Hellos and stand by instead of dueling with it.
   */
  private probedUntilMs(m: Probing, nowMs: number): number {
    return m.promisedMax === 0 && this.opts.id <= 1 ? nowMs : m.startedAtMs! + this.probeWaitMs;
  }

  private get probeWaitMs(): number {
    return this.opts.probeWaitMs ?? 2 * this.presence.helloEveryMs;
  }

  private sendHello(nowMs: number, fx: Effects): void {
    this.presence.helloSent(nowMs);
    fx.send("proposers", { t: "hello", id: this.opts.id, nonce: this.nonce, leading: this.mode.kind === "leader", startedMs: this.startedWallMs });
  }

  // ---- clients ----

  private onSubmit(msg: Submit, nowMs: number, fx: Effects): void {
    if (msg.via === this.nonce) return; // our own forward, back by loopback
    if (msg.via !== 0) this.presence.otherProposer(nowMs);
    const ackRanges: number[] = [];
    const oversize = takeIn(this.values, msg, this.opts, nowMs, ackRanges);
    if (oversize > 0) {
      fx.violations.push(`${oversize} value(s) larger than a batch (batch.bytesMax ${this.opts.batchBytesMax}) refused: a client configured with another batch.bytesMax`);
    }
    if (ackRanges.length > 0) {
      // Retransmissions of decided values: their acks were lost.
      this.sendAcks("clients", ackRanges, fx);
      // A standing-by proposer forwarded values it took for undecided: tell it too.
      if (msg.via !== 0) this.sendAcks("proposers", ackRanges, fx);
    }
    this.proposeSoon(nowMs, fx);
  }

  /** Proposes what waits: now, or at `flush` when gathering a burst. */
  private proposeSoon(nowMs: number, fx: Effects): void {
    if (this.mode.kind !== "leader") return;
    if (this.opts.gather) this.proposeDue = true;
    else this.proposeNew(this.mode, nowMs, fx);
  }

  /** Acks for these ranges (client, first, count), as few as hold them within one datagram each. */
  private sendAcks(to: Group, ranges: readonly number[], fx: Effects): void {
    for (const chunk of chunkAckRanges(ranges, this.opts.datagramBytesMax)) fx.send(to, { t: "ack", ranges: chunk });
  }

  /** Another proposer says these values are decided (an answer to a forward): they wait no more. */
  private onAck(ranges: readonly number[], nowMs: number): void {
    for (let i = 0; i + 2 < ranges.length; i += 3) this.values.decide(ranges[i]!, ranges[i + 1]!, ranges[i + 1]! + ranges[i + 2]!, nowMs);
  }

  /** Fills a batch from the waiting values (a run is cut at a line where the batch is full). */
  protected takeBatch(): Batch {
    const builder = new BatchBuilder(this.opts.batchBytesMax - BATCH_FRAMING_BYTES);
    this.values.take(builder, this.opts.batchValuesMax, () => {});
    return builder.finish();
  }

  // ---- probing and Phase 1 ----

  private sendProbe(m: Probing, nowMs: number, fx: Effects): void {
    m.sentAtMs = nowMs;
    fx.send("acceptors", { t: "1a", cRnd: 0, nonce: this.nonce, from: 0, decidedBelow: 0, acc: 0 });
  }

  /** A 1A of our round from `from`, to every acceptor (`acc` 0) or to one. */
  private send1A(from: number, acc: number, fx: Effects): void {
    fx.send("acceptors", { t: "1a", cRnd: this.cRnd, nonce: this.nonce, from, decidedBelow: this.log.firstUndecided, acc });
  }

  /** Asks again: everyone from the start, and each acceptor whose answer is incomplete from where it stopped. */
  private resendPhase1A(p1: Phase1, nowMs: number, fx: Effects): void {
    this.send1A(p1.from, 0, fx);
    for (const [acc, cov] of p1.coverage) {
      if (!cov.done && cov.to > p1.from) this.send1A(cov.to, acc, fx);
    }
    p1.sentAtMs = nowMs;
  }

  private onPhase1B(msg: Phase1B, nowMs: number, fx: Effects): void {
    if (msg.nonce !== this.nonce) this.presence.otherProposer(nowMs);
    this.noteRound(msg.rnd, nowMs);
    // Only answers to this incarnation's own 1A count: a promise of the same round to another
    // incarnation (one that started with the same id) is not ours.
    const p1 = this.mode;
    if (p1.kind !== "phase1" || msg.rnd !== this.cRnd || msg.nonce !== this.nonce) return;
    const cov = p1.coverage.get(msg.acc) ?? { to: p1.from, done: false };
    p1.coverage.set(msg.acc, cov);
    if (cov.done || msg.from > cov.to) return; // duplicate, or a piece after a lost one
    for (const vote of msg.votes) this.notePhase1Vote(p1, vote, fx);
    p1.decidedBelow = Math.max(p1.decidedBelow, msg.decidedBelow);
    const advanced = msg.to > cov.to;
    cov.to = Math.max(cov.to, msg.to);
    cov.done = msg.done;
    if (!cov.done) {
      // The next piece, from this acceptor only; a duplicate piece asks nothing more.
      if (advanced) this.send1A(cov.to, msg.acc, fx);
      return;
    }
    if (this.promised(p1)) this.becomeLeader(p1, nowMs, fx);
  }

  /**
   * Whether our round has the promises it needs: a majority of every configuration that governs
   * an instance from the 1A's start up to the horizon (the instances this proposer may propose
   * in). The start is the 1A's, or the decided prefix a promise reported if higher: instances
   * below it are decided and need no promise (a restarted proposer starts from 0, and the
   * acceptors of those instances' configurations may be gone, removed). False while the
   * configuration of the start is not known.
   */
  private promised(p1: Phase1): boolean {
    const from = Math.max(p1.from, p1.decidedBelow);
    if (this.config.configOf(from) === undefined) return false;
    const done: number[] = [];
    for (const [acc, c] of p1.coverage) if (c.done) done.push(acc);
    return this.governing(from).every((c) => isQuorumOf(c, done));
  }

  /** The configurations that govern an instance in [from, horizon), oldest first. */
  protected governing(from: number): Configuration[] {
    const h = this.config;
    const out: Configuration[] = [];
    const configs = h.history;
    for (let i = 0; i < configs.length; i++) {
      const c = configs[i]!;
      const end = i + 1 < configs.length ? configs[i + 1]!.from : Infinity;
      if (end > from && c.from < h.horizon) out.push(c);
    }
    return out;
  }

  /**
   * Keeps, per instance, the vote with the highest vRnd among the promises. Two different batches
   * with the same vRnd cannot happen in a correct cluster: the instance is reported, and never
   * proposed in this round (no pick between the two).
   */
  private notePhase1Vote(p1: Phase1, vote: Vote, fx: Effects): void {
    if (vote.inst < p1.from) return;
    const known = p1.votes.get(vote.inst);
    if (known === undefined || vote.vRnd > known.vRnd) p1.votes.set(vote.inst, vote);
    else if (vote.vRnd === known.vRnd && !vote.vVal.sameAs(known.vVal) && !p1.conflicts.has(vote.inst)) {
      p1.conflicts.add(vote.inst);
      fx.violations.push(`two different batches voted for instance ${vote.inst} in round ${vote.vRnd}; not proposing there`);
    }
  }

  /** The last instance a new leader takes over: the highest that promises reported, decided or learners saw. */
  protected highestTakenInstance(from: number, votes: ReadonlyMap<number, Vote>): number {
    let top = Math.max(from - 1, this.log.maxDecided, this.takeover.holeTop);
    for (const inst of votes.keys()) top = Math.max(top, inst);
    return top;
  }

  /** The value Paxos allows for an instance after Phase 1: the highest-vRnd vote, else a no-op. */
  protected valueForTakenInstance(inst: number, votes: ReadonlyMap<number, Vote>): Batch {
    return votes.get(inst)?.vVal ?? Batch.EMPTY;
  }

  // ---- Phase 2 (leader) ----

  /**
   * Fills the pipeline window: first the instances taken over, then batches of pending values
   * (batches grow while the window is full), then no-ops up to instances learners have seen.
   */
  private proposeNew(m: Leading, nowMs: number, fx: Effects): void {
    const proposals: Proposal[] = [];
    // Under light load the clients learn decisions from the 2Bs (see notifyBelowInflight).
    const notify = m.inflight.size < (this.opts.notifyBelowInflight ?? 0);
    const propose = (inst: number, cVal: Batch): void => {
      assert(!m.inflight.has(inst), "a leader proposes one batch per instance in its round");
      m.inflight.set(inst, { cVal, sentAtMs: nowMs, notify: notify ? notifyOf(inst, cVal) : NO_NOTIFY });
      proposals.push({ inst, cVal });
    };
    // No instance whose configuration this proposer does not know (configuration.ts).
    const limit = this.config.horizon;
    // Instances taken over come first, through the same window: a new leader far behind must
    // not flood the acceptors with its whole backlog at once.
    while (m.inflight.size < this.opts.pipelineWindow && m.retakeNext <= m.retakeTop && m.retakeNext < limit) {
      const inst = m.retakeNext++;
      if (this.log.knows(inst) || m.conflicts.has(inst)) continue;
      const cVal = this.valueForTakenInstance(inst, m.votes);
      m.votes.delete(inst);
      this.values.markInflight(cVal);
      propose(inst, cVal);
    }
    const retaking = m.retakeNext <= m.retakeTop;
    // No-ops fill up to a hole learners saw, and up to where a decided change governs (so that
    // an idle cluster moves to it).
    const fillTop = Math.max(this.takeover.holeTop, (this.config.pendingAt(this.log.firstUndecided)?.from ?? 0) - 1);
    while (!retaking && m.inflight.size < this.opts.pipelineWindow && m.nextInst < limit) {
      const cVal = this.values.size > 0 ? this.takeBatch() : Batch.EMPTY;
      if (cVal.length === 0 && m.nextInst > fillTop) break; // values all turned out decided
      propose(m.nextInst++, cVal);
    }
    if (proposals.length > 0) this.send2A(m, proposals, this.reportersFor(proposals, nowMs), nowMs, fx);
  }

  /** Reporters of thrifty 2Bs among the members of the proposals' configuration (all, when they span two). */
  private reportersFor(proposals: readonly Proposal[], nowMs: number): Uint8Array {
    const first = this.config.configOf(proposals[0]!.inst);
    const last = this.config.configOf(proposals[proposals.length - 1]!.inst);
    return first === undefined || first !== last ? REPORT_ALL : this.presence.reporters(nowMs, first.members);
  }

  /** Some 2A has waited a retransmission period for a majority of votes (the oldest comes first). */
  private has2AStale(m: Leading, nowMs: number): boolean {
    const oldest = m.inflight.values().next();
    return !oldest.done && nowMs - oldest.value.sentAtMs >= this.opts.retransmitMs;
  }

  private resendStale2A(m: Leading, nowMs: number, fx: Effects): void {
    const stale: Proposal[] = [];
    for (const [inst, f] of m.inflight) {
      if (nowMs - f.sentAtMs < this.opts.retransmitMs) break; // insertion order = send order
      stale.push({ inst, cVal: f.cVal });
    }
    for (const p of stale) {
      const f = m.inflight.get(p.inst)!;
      m.inflight.delete(p.inst);
      f.sentAtMs = nowMs;
      m.inflight.set(p.inst, f);
    }
    this.send2A(m, stale, REPORT_ALL, nowMs, fx); // the votes of any majority will do
  }

  /**
   * 2A to the acceptors, the learners and the other proposers (one message, encoded once): the
   * learners and proposers keep each round's batch and pair the value-less 2Bs with it, as this
   * proposer does with its own.
   */
  private send2A(m: Leading, proposals: Proposal[], report: Uint8Array, nowMs: number, fx: Effects): void {
    for (const p of proposals) this.log.tally.propose(p.inst, this.cRnd, this.nonce, p.cVal, fx.violations);
    const notifyFor = (p: Proposal): Uint8Array => m.inflight.get(p.inst)?.notify ?? NO_NOTIFY;
    // A 2A's notify comes back in 2Bs, whose fixed part is larger: room for that is kept.
    const budget = proposals.some((p) => notifyFor(p).length > 0) ? this.opts.datagramBytesMax - NOTIFY_2B_MARGIN_BYTES : this.opts.datagramBytesMax;
    for (const p of proposals) {
      const f = m.inflight.get(p.inst);
      // Too many runs to say where they are within a datagram: the leader acks them instead.
      if (f !== undefined && f.notify.length > 0 && MESSAGE_OVERHEAD_BYTES + proposalBytes(p) + f.notify.length > budget) f.notify = NO_NOTIFY;
    }
    // Standing-by proposers keep each round's batches; with none heard, the datagram would come back to us alone.
    const toProposers = this.presence.otherProposerHeard(nowMs);
    for (const chunk of chunkBySize(proposals, (p) => proposalBytes(p) + notifyFor(p).length, budget)) {
      const notify = joinNotify(chunk.map(notifyFor).filter((n) => n.length > 0));
      const twoA = { t: "2a", cRnd: this.cRnd, nonce: this.nonce, proposals: chunk, decidedBelow: this.log.firstUndecided, notify, report } as const;
      fx.send("acceptors", twoA);
      fx.send("learners", twoA);
      if (toProposers) fx.send("proposers", twoA);
    }
  }

  // ---- learning decisions (every mode) ----

  /**
   * Another proposer's 2A: what its round proposed, so that this one knows which values the
   * round's 2Bs decide (to stop waiting for them, and to answer catch-ups with them).
   */
  private onPhase2A(msg: Phase2A, nowMs: number, fx: Effects): void {
    if (msg.nonce === this.nonce || msg.proposals.length === 0) return; // our own, looped back
    this.presence.otherProposer(nowMs);
    this.takeover.leaderHeard(nowMs);
    for (const p of msg.proposals) {
      if (!this.log.wantsBatch(p.inst)) continue;
      const r = this.log.tally.propose(p.inst, msg.cRnd, msg.nonce, p.cVal, fx.violations);
      if (r !== undefined) this.onDecided(p.inst, r, msg.cRnd, nowMs, fx);
    }
  }

  private onPhase2B(msg: Phase2B, nowMs: number, fx: Effects): void {
    if (this.mode.kind === "probing") this.mode.votesSeen = true; // someone is deciding
    if (msg.insts.length > 0) this.noteRound(msg.vRnd, nowMs);
    for (const inst of msg.insts) {
      if (this.log.knows(inst)) continue;
      const r = this.log.tally.add(msg.acc, inst, msg.vRnd, msg.nonce, undefined, fx.violations);
      // Another proposer's round: decided, though this one never saw its batch.
      if (r !== undefined) this.onDecided(inst, r === DECIDED_VALUE_UNKNOWN ? null : r, msg.vRnd, nowMs, fx);
    }
    // A proposer that missed decisions (2B lost while standing by) would otherwise keep every
    // decision above its hole forever: move past what another proposer found decided.
    if (msg.decidedBelow > this.log.firstUndecided) this.skipDecidedBelow(msg.decidedBelow, nowMs);
    this.proposeSoon(nowMs, fx);
  }

  /**
   * Instance `inst` is decided in round `vRnd`, as `vVal` (null: a batch this proposer has not
   * seen yet; called again with it if its 2A comes later).
   */
  private onDecided(inst: number, vVal: Batch | null, vRnd: number, nowMs: number, fx: Effects): void {
    this.log.record(inst, vVal);
    this.takeover.progress(nowMs);
    const mine = this.mode.kind === "leader" ? this.mode.inflight.get(inst) : undefined;
    const ours = vRnd === this.cRnd;
    // Our own proposal in our round is the same batch; otherwise the runs are read from the
    // decided batch (a proposer that never saw it knows nothing of its values).
    const batch = mine !== undefined && ours ? mine.cVal : vVal;
    // The clients learn it from the 2Bs when our 2A told them where their runs are.
    const ack = ours && (mine === undefined || mine.notify.length === 0);
    if (batch !== null) {
      for (const c = batch.cursor(); c.next(); ) {
        this.values.decide(c.client, c.first, c.end, nowMs);
        this.values.raiseFloor(this.values.book(c.client), c.floor); // a fact: the client had these acked
        if (ack) this.acksDue.push(c.client, c.first, c.count);
      }
    }
    if (this.values.clients > 8192) this.values.forgetIdle(nowMs, 10 * (this.opts.takeoverMs + this.opts.clientRetransmitMs));
    if (mine !== undefined && this.mode.kind === "leader") {
      this.mode.inflight.delete(inst);
      this.values.requeue(mine.cVal, nowMs); // what our batch held and this decision did not
    }
    if (!this.opts.gather && this.acksDue.length > 0) {
      this.sendAcks("clients", this.acksDue, fx);
      this.acksDue = [];
    }
  }

  /**
   * Instances below `below` are decided, though we do not know their values: stop proposing
   * there (our values in them go back to pending unless known decided; a duplicate is harmless).
   */
  private skipDecidedBelow(below: number, nowMs: number): void {
    this.log.skipBelow(below);
    const m = this.mode;
    if (m.kind !== "leader") return;
    for (const [inst, f] of m.inflight) {
      if (inst >= below) continue;
      m.inflight.delete(inst);
      this.values.requeue(f.cVal, nowMs);
    }
    m.nextInst = Math.max(m.nextInst, below);
  }

  // ---- rounds and takeover ----

  private onNack(msg: Nack, nowMs: number): void {
    const ours = msg.nonce === this.nonce;
    if (!ours) this.presence.otherProposer(nowMs); // an answer to another proposer's 1A or 2A
    const m = this.mode;
    if (ours && m.kind === "probing" && this.config.latest.members.includes(msg.acc)) {
      // Answers of the latest configuration's members count (a spare that joins answers too).
      m.probed.add(msg.acc);
      m.promisedMax = Math.max(m.promisedMax, msg.rnd);
    }
    // Our own round refused at an equal promise: that acceptor bound it to another incarnation of
    // our id. In Phase 1 or 2, give up once too many did for a majority to remain (or, see onTick,
    // when no majority answered or voted by the next retransmission).
    if (ours && msg.cRnd === this.cRnd && msg.rnd === this.cRnd && (m.kind === "phase1" || m.kind === "leader")) {
      m.refusers.add(msg.acc);
      if (!this.majorityLeft(m.refusers)) this.standBy(nowMs, true);
      return;
    }
    this.noteRound(msg.rnd, nowMs);
  }

  /** Whether, without these refusers, every configuration ahead still has a majority to promise and vote. */
  private majorityLeft(refusers: ReadonlySet<number>): boolean {
    return this.governing(this.log.firstUndecided).every((c) => c.members.filter((a) => !refusers.has(a)).length >= majorityOf(c));
  }

  /** A round higher than ours means another proposer is taking over: stand by, and defer a takeover of our own. */
  private noteRound(rnd: number, nowMs: number): void {
    const higher = rnd > this.highestRnd;
    if (higher) this.highestRnd = rnd;
    const kind = this.mode.kind;
    if (kind === "phase1" || kind === "leader") {
      if (rnd > this.cRnd) this.standBy(nowMs, true);
    } else if (kind === "standby" && higher) this.takeover.defer(nowMs);
  }

  /** When a standing-by proposer takes over (see takeover.ts for its work). */
  private takeoverAtMs(nowMs: number): number {
    const oldest = this.values.oldest((q) => clientSilent(this.values, q.client, nowMs, this.opts.clientRetransmitMs));
    return this.takeover.dueAtMs(oldest?.heardAtMs);
  }

  /**
   * Values whose client has had nothing decided since they arrived, for takeoverMs: the leader
   * may not hear that client. Forward them to the proposers (the leader among them), at most
   * once per takeoverMs.
   */
  private forwardStarving(nowMs: number, fx: Effects): void {
    if (!this.takeover.forwardDue(nowMs)) return;
    const silent = (client: number): boolean => clientSilent(this.values, client, nowMs, this.opts.clientRetransmitMs);
    const { runs, count } = starvingRuns(this.values, nowMs, this.opts.takeoverMs, silent);
    this.takeover.forwarded(nowMs, runs.length > 0);
    if (runs.length === 0) return;
    this.counters.forwarded += count;
    for (const batch of runsInBatches(runs, this.opts.datagramBytesMax)) fx.send("proposers", { t: "submit", runs: batch, via: this.nonce });
  }

  // ---- catch-up ----

  /**
   * Answers a learner with the instances it asks that this proposer saw decided, and the decided
   * prefix it knows. The request also tells what the learner knows decided (skip it) and how far
   * it heard of votes: an instance below that which this proposer does not know decided is a
   * hole to fill.
   */
  private onCatchup(msg: Catchup, nowMs: number, fx: Effects): void {
    if (msg.decidedBelow > this.log.firstUndecided) this.skipDecidedBelow(msg.decidedBelow, nowMs);
    const first = this.log.firstUndecided;
    const decided = this.log.batchesIn(msg.from, msg.to, this.opts.catchupInstancesMax ?? CATCHUP_INSTANCES_MAX);
    // The learner knows less of the decided prefix than this proposer: say so, also for instances
    // whose batch this proposer never saw (the learner's next Catchup tells the acceptors, whose
    // accounts then let it recover them).
    sendDecisions(fx, decided, first, msg.decidedBelow < first, this.opts.datagramBytesMax, this.opts.catchupDatagramsMax);
    if (msg.seenTo > msg.from && msg.from >= first && !this.log.has(msg.from)) {
      // Bounded like proposals: a stray request cannot make a leader fill billions of no-ops.
      this.takeover.holeReported(Math.min(msg.seenTo - 1, first + (this.opts.instancesAheadMax ?? INSTANCES_AHEAD_MAX)));
      if (this.mode.kind === "leader") this.proposeNew(this.mode, nowMs, fx);
    }
  }

  // ---- the configuration (configuration.ts) ----

  /**
   * After each step: the history follows the decided log (the changes in the batches of the
   * decided prefix, in order; a batch this proposer does not hold waits for a peer's stamp or
   * Config), votes of instances whose configuration became known are counted, and a new
   * configuration is acted on.
   */
  private followLog(epochBefore: number, nowMs: number, fx: Effects): void {
    const h = this.config;
    const horizonBefore = this.tallyCheckedTo;
    for (;;) {
      while (h.knownTo < this.log.firstUndecided) {
        const batch = this.log.batchAt(h.knownTo);
        if (batch === undefined || batch === null) break;
        h.apply(h.knownTo, batch);
      }
      if (h.horizon <= this.tallyCheckedTo) break;
      const from = this.tallyCheckedTo;
      this.tallyCheckedTo = h.horizon;
      for (const [inst, r, vRnd] of this.log.tally.recheck(from, h.horizon)) {
        if (!this.log.knows(inst)) this.onDecided(inst, r === DECIDED_VALUE_UNKNOWN ? null : r, vRnd, nowMs, fx);
      }
    }
    if (h.epoch > epochBefore) this.onConfigChange(nowMs, fx);
    else if (this.tallyCheckedTo > horizonBefore) {
      const m = this.mode;
      if (m.kind === "phase1" && this.promised(m)) this.becomeLeader(m, nowMs, fx);
      else this.proposeSoon(nowMs, fx); // a leader may propose further
    }
  }

  /**
   * A later configuration epoch became known. Its configuration governs instances at and above
   * this proposer's old horizon, where it proposed nothing; a leader's round has no promises of
   * its members yet: a new Phase 1 (a new round) gets them first. A Phase 1 under way needs them
   * too (`promised`), and its 1A went to every acceptor.
   */
  private onConfigChange(nowMs: number, fx: Effects): void {
    const m = this.mode;
    if (m.kind === "leader") this.startPhase1(nowMs, fx);
    else if (m.kind !== "phase1") return;
    else if (!this.majorityLeft(m.refusers)) this.standBy(nowMs, true);
    else if (this.promised(m)) this.becomeLeader(m, nowMs, fx);
  }

  // ---- invariants ----

  /** What holds after every step (checked by the driver in the simulator and tests). */
  invariants(): void {
    this.log.invariants();
    this.takeover.invariants();
    this.config.invariants();
    // `followLog` ends every step, and rechecks the tally as far as configurations are known.
    assert(this.tallyCheckedTo === this.config.horizon, "a proposer rechecked its tally as far as it knows configurations");
    const first = this.log.firstUndecided;
    assert(this.cRnd <= this.highestRnd, "our round is at most the highest round seen");
    assert(this.cRnd === 0 || this.cRnd % ROUND_STRIDE === this.opts.id, "our rounds carry our id");
    assert(this.opts.gather === true || this.acksDue.length === 0, "without gathering, decided values are acked in the step that decided them");
    const m = this.mode;
    if (m.kind !== "leader" && m.kind !== "stopped") assert(this.values.inflight === 0, "only a leader has values in flight");
    switch (m.kind) {
      case "probing":
        assert(this.cRnd === 0, "a proposer probes before its first Phase 1 only");
        assert(m.probed.size <= ACCEPTORS_MAX, "probe answers come from acceptors");
        return;
      case "phase1":
        assert(this.cRnd > 0 && m.from <= first, "Phase 1 covers the decided prefix it started from, in a round of ours");
        assert(this.majorityLeft(m.refusers), "Phase 1 goes on only while a majority may still promise");
        for (const c of m.coverage.values()) assert(c.to >= m.from, "a 1B answer covers from the 1A's start");
        return;
      case "leader":
        assert(this.cRnd > 0 && m.inflight.size <= this.opts.pipelineWindow, "a leader has at most pipelineWindow instances in flight");
        assert(m.retakeNext <= m.retakeTop + 1 && m.nextInst > m.retakeTop, "new values go above every instance taken over");
        assert(this.majorityLeft(m.refusers), "a leader goes on only while a majority may still vote");
        for (const inst of m.inflight.keys()) {
          assert(inst >= first && !this.log.has(inst), "an instance in flight is not known decided");
          assert(inst < this.config.horizon, "a leader proposes only in instances whose configuration it knows");
          assert(inst < m.nextInst, "an instance in flight was proposed below the next new one");
        }
        return;
      default:
        return;
    }
  }
}
