import { assert } from "./assert.ts";
import { Batch, BatchBuilder, linesPrefix, runBytes, runHeaderBytes, skipLines, type Run } from "./batch.ts";
import { AcceptorIdentities } from "./identities.ts";
import { NO_NOTIFY, NotifyWriter, REPORT_ALL, joinNotify, notifyEntryBytes, reportList } from "./notify.ts";
import { IdGuard } from "./id-guard.ts";
import { PendingValues } from "./pending.ts";
import {
  CATCHUP_INSTANCES_MAX,
  Effects,
  INSTANCES_AHEAD_MAX,
  type Catchup,
  type Group,
  type Input,
  type Nack,
  type Phase1B,
  type Phase2A,
  type Phase2B,
  type Proposal,
  type Role,
  type Submit,
  type Vote,
} from "./messages.ts";
import { chunkAckRanges, chunkBySize, proposalBytes, sendDecisions } from "./pack.ts";
import { DECIDED_VALUE_UNKNOWN, VoteTally, majority } from "./tally.ts";
import { PROPOSER_ID_MAX, ROUND_STRIDE } from "./id-limits.ts";
import { BATCH_FRAMING_BYTES, MESSAGE_OVERHEAD_BYTES, NONCE_MAX, NOTIFY_2B_MARGIN_BYTES } from "./wire-budget.ts";


/** Decided instances whose votes (and 2A, if it did not come) the tally keeps, below the first undecided. */
const TALLY_KEEP_INSTANCES = 4096;

/**
 * Takeover waits grow 2^k-fold after k attempts that ended preempted with no decision seen since,
 * up to this k (16 ×: at most 9.6 s with the default takeoverMs).
 */
const BACKOFF_EXPONENT_MAX = 4;
/** Values forwarded to the leader per starving check, at most. */
const FORWARD_VALUES_MAX = 1024;

export interface ProposerOptions {
  /** 0 ≤ id ≤ PROPOSER_ID_MAX (below ROUND_STRIDE). */
  readonly id: number;
  readonly acceptors: number;
  readonly batchValuesMax: number;
  /** Bound on one batch's wire size; a 2A holding it must fit one datagram. */
  readonly batchBytesMax: number;
  readonly datagramBytesMax: number;
  /** Instances in flight at once. */
  readonly pipelineWindow: number;
  /** Bound on client values heard and not yet decided; more are dropped (clients resend). */
  readonly pendingValuesMax: number;
  readonly retransmitMs: number;
  /** Time without progress after which a standing-by proposer with work takes over. */
  readonly takeoverMs: number;
  /** Clients resend undecided values at least this often (config client.retransmitMs). */
  readonly clientRetransmitMs: number;
  readonly catchupDatagramsMax: number;
  /** Injected randomness in [0, 1), for takeover backoff. */
  readonly random: () => number;
  /**
   * Rounds start above this floor (the runtime passes the clock: milliseconds × ROUND_STRIDE).
   * It only saves a restarted proposer a refused Phase 1: acceptors bind each round to one
   * incarnation (see `incarnation`), so round reuse is impossible whatever the clocks say.
   */
  readonly roundFloor: number;
  /** Decided batches kept below the first undecided instance, to answer learners' Catchup. */
  readonly retainInstances: number;
  /**
   * This process's incarnation nonce, in [1, NONCE_MAX], new at every start (random). It goes in
   * every 1A and 2A; acceptors bind a promised round to it, and answers echo it.
   */
  readonly incarnation: number;
  /**
   * Hellos of another process with this proposer's id heard over this long mean a live process
   * (a shorter burst may be late datagrams of this process's previous incarnation); see
   * id-guard.ts. Default 10 s.
   */
  readonly duplicateGraceMs?: number;
  /** Instances one Catchup is answered for. Default CATCHUP_INSTANCES_MAX. */
  readonly catchupInstancesMax?: number;
  /** Bound on how far above the decided prefix a learner's report makes a hole. Default INSTANCES_AHEAD_MAX. */
  readonly instancesAheadMax?: number;
  /**
   * Gather across a burst of inputs, and act at `flush` (the end of the runtime's event-loop
   * turn): the values of every Submit of the burst are proposed together (fuller batches), and
   * the values decided in the burst are acked together. Default false: in each step's effects.
   */
  readonly gather?: boolean;
  /**
   * A 2A tells the clients where it placed their runs (`notify`: they learn decisions from the
   * acceptors' 2Bs, one message delay sooner than from an Ack) while fewer than this many
   * instances are in flight; under heavier load the leader acks instead (one Ack per turn costs
   * clients less than every acceptor's 2Bs). Default 0: always Acks.
   */
  readonly notifyBelowInflight?: number;
  /**
   * Thrifty 2Bs: a 2A names a majority of the acceptors heard from lately as reporters
   * (`report`): only they send their 2B to the learners (and clients); the others send it to the
   * proposers alone. Learners and clients then get one message per reporter instead of one per
   * acceptor. Retransmissions name every acceptor. Default false: every acceptor reports.
   */
  readonly thriftyReports?: boolean;
  /** A Hello to the other proposers this often (see Hello in messages.ts). Default HELLO_EVERY_MS. */
  readonly helloEveryMs?: number;
  /**
   * A new proposer runs its first Phase 1 no sooner than this after it started, unless it heard
   * a leader meanwhile (a Hello, votes): a leader already there is not taken over for nothing.
   * Default two Hello periods.
   */
  readonly probeWaitMs?: number;
}

/** Proposers say they are there this often. */
export const HELLO_EVERY_MS = 250;
/** Another proposer not heard for this many Hello periods is taken for gone (2As skip the proposers' group). */
const OTHERS_HEARD_HELLOS = 4;

/** Thrifty 2Bs: an acceptor not heard from for this long (every acceptor's 2Bs reach the proposers) is not named a reporter. */
const REPORTER_HEARD_MS = 500;

/**
 * - `probing`: just started; asks a majority of acceptors for their promises (a round-0 query)
 *   so that its first round is above them, and watches for a leader.
 * - `phase1`: runs Phase 1 in round cRnd for every instance from p1From.
 * - `leader`: a majority promised cRnd; Phase 2 only.
 * - `standby`: another proposer leads (or led); takes over when its work stalls.
 * - `stopped`: found its id in use by another live process.
 */
export type ProposerMode = "probing" | "standby" | "phase1" | "leader" | "stopped";

interface Coverage {
  to: number;
  done: boolean;
}

interface InFlight {
  readonly cVal: Batch;
  sentAtMs: number;
  /** Where the batch's runs are, for the clients (empty: the leader acks them when decided). */
  notify: Uint8Array;
}

export function nextRound(highest: number, id: number): number {
  return (Math.floor(highest / ROUND_STRIDE) + 1) * ROUND_STRIDE + id;
}

/**
 * Paxos proposer with proactive Phase 1 (one 1A for all instances from `p1From` up), pipelined
 * Phase 2 with self-clocked batching, and takeover with randomized, growing backoff. Learns
 * decisions from direct 2B like a learner, to ack clients and to know which instances are done.
 */
export class Proposer implements Role {
  protected mode: ProposerMode = "probing";
  protected cRnd = 0;
  protected highestRnd: number;
  private readonly nonce: number;
  private startedAtMs = NaN;
  private readonly idGuard: IdGuard;

  // Probing
  private readonly probed = new Set<number>();
  private probeSentAtMs = -Infinity;
  /** 2B votes were seen while probing: someone leads, so no Phase 1 at start. */
  private votesSeen = false;

  // Phase 1
  protected p1From = 0;
  private readonly p1Coverage = new Map<number, Coverage>();
  /** Acceptors that refused our round as bound to another incarnation (they never vote in it). */
  private readonly refusers = new Set<number>();
  protected readonly p1Votes = new Map<number, Vote>();
  /** Instances whose promises showed two batches in one round (never proposed). */
  private readonly p1Conflicts = new Set<number>();
  /** The highest decidedBelow among this Phase 1's promises. */
  private p1Decided = 0;
  private p1SentAtMs = 0;

  // Phase 2
  protected nextInst = 0;
  private readonly inflight = new Map<number, InFlight>();
  /** Instances found accepted (or holes) at takeover, [retakeNext, retakeTop], proposed as the window allows. */
  private retakeNext = 0;
  private retakeTop = -1;
  /** Client values: waiting, in flight in our round, known decided. */
  private readonly values = new PendingValues();

  // What is known decided
  /** Decided instances kept (retention), with their batch, or null: decided in a round whose 2A this proposer never saw. */
  private readonly decided = new Map<number, Batch | null>();
  private firstUndecided = 0;
  /** Decided batches below this were forgotten (retention). */
  private decidedKeptFrom = 0;
  /** The tally was cleared below this. */
  private tallyKeptFrom = 0;
  private maxDecided = -1;
  private readonly tally: VoteTally;
  private readonly acceptorIds: AcceptorIdentities;

  // Takeover
  /** Instances up to here exist (decided, or voted as a stuck learner reports): below is a hole to fill. */
  private holeTop = -1;
  private holeSinceMs = Infinity;
  private holeFrom = 0;
  private lastDecisionMs = 0;
  private notBeforeMs = 0;
  private takeoverDelayMs: number;
  /** Takeover attempts that ended preempted since the last decision this proposer saw. */
  private failedAttempts = 0;
  private lastForwardMs = -Infinity;
  private starvingSinceMs = Infinity;

  constructor(readonly opts: ProposerOptions) {
    assert(opts.id >= 0 && opts.id <= PROPOSER_ID_MAX, `proposer id must be in [0, ${PROPOSER_ID_MAX}]`);
    assert(Number.isSafeInteger(opts.incarnation) && opts.incarnation >= 1 && opts.incarnation <= NONCE_MAX, "an incarnation nonce is in [1, 2^48]");
    this.nonce = opts.incarnation;
    this.highestRnd = opts.roundFloor;
    this.tally = new VoteTally(majority(opts.acceptors));
    this.acceptorIds = new AcceptorIdentities(opts.acceptors, true);
    this.takeoverDelayMs = opts.takeoverMs;
    this.startedWallMs = Math.floor(opts.roundFloor / ROUND_STRIDE);
    this.idGuard = new IdGuard(opts.id, opts.incarnation, this.startedWallMs, opts.duplicateGraceMs ?? 10_000, OTHERS_HEARD_HELLOS * (opts.helloEveryMs ?? HELLO_EVERY_MS));
  }

  /** When this process started, by its wall clock (ms): what its Hellos say. */
  private readonly startedWallMs: number;

  get round(): number {
    return this.cRnd;
  }

  /** Every instance below is known decided. */
  get decidedPrefix(): number {
    return this.firstUndecided;
  }

  /** For metrics: Phase 1 runs, and those that took over from another round. */
  readonly counters = { phase1Runs: 0, takeovers: 0, forwarded: 0 };

  get isLeader(): boolean {
    return this.mode === "leader";
  }

  get state(): ProposerMode {
    return this.mode;
  }

  get pendingCount(): number {
    return this.values.size + this.values.inflight;
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    if (Number.isNaN(this.startedAtMs)) this.startedAtMs = nowMs;
    if (this.mode === "stopped") return fx;
    if (input.kind === "tick") this.onTick(nowMs, fx);
    else if (input.kind === "msg") {
      const msg = input.msg;
      switch (msg.t) {
        case "submit":
          this.onSubmit(msg, nowMs, fx);
          break;
        case "1b":
          if (this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) {
            this.acceptorHeardMs.set(msg.acc, nowMs);
            this.onPhase1B(msg, nowMs, fx);
          }
          break;
        case "2a":
          this.onPhase2A(msg, nowMs, fx);
          break;
        case "2b":
          if (this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) {
            this.acceptorHeardMs.set(msg.acc, nowMs);
            this.onPhase2B(msg, nowMs, fx);
          }
          break;
        case "nack":
          if (this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) this.onNack(msg, nowMs);
          break;
        case "catchup":
          this.onCatchup(msg, nowMs, fx);
          break;
        case "ack":
          this.onAck(msg.ranges, nowMs);
          break;
        case "hello":
          if (msg.nonce === this.nonce) break; // our own, looped back
          this.noteOtherProposer(nowMs);
          if (msg.leading) this.leaderHeardAtMs = nowMs;
          if (this.idGuard.onHello(msg, nowMs, fx)) this.mode = "stopped";
          break;
        default:
          break;
      }
    }
    this.updateHole(nowMs);
    if (fx.fatal === undefined) this.requestWake(nowMs, fx);
    return fx;
  }

  private onTick(nowMs: number, fx: Effects): void {
    if (nowMs - this.helloSentAtMs >= this.helloEveryMs) this.sendHello(nowMs, fx);
    switch (this.mode) {
      case "probing":
        if (this.probed.size < majority(this.opts.acceptors)) {
          if (nowMs - this.probeSentAtMs >= this.opts.retransmitMs) this.sendProbe(nowMs, fx);
        } else if (this.votesSeen || nowMs - this.leaderHeardAtMs <= OTHERS_HEARD_HELLOS * this.helloEveryMs) this.standBy(nowMs, false); // someone leads
        else if (nowMs - this.startedAtMs >= this.probeWaitMs) this.startPhase1(nowMs, fx); // proactive Phase 1, before any client value
        break;
      case "phase1":
        if (nowMs - this.p1SentAtMs < this.opts.retransmitMs) break;
        // Some acceptor bound this round to another incarnation and no majority came meanwhile:
        // the round is lost (that acceptor will never promise it); a higher one, later.
        if (this.refusers.size > 0) this.standBy(nowMs, true);
        else this.resendPhase1A(nowMs, fx);
        break;
      case "leader":
        // Likewise in Phase 2: a 2A no majority voted for by its retransmission, with such an
        // acceptor out, may never be (the others may be down): the round is given up.
        if (this.refusers.size > 0 && this.has2AStale(nowMs)) {
          this.standBy(nowMs, true);
          break;
        }
        this.resendStale2A(nowMs, fx);
        this.proposeNew(nowMs, fx);
        break;
      case "standby":
        this.forwardStarving(nowMs, fx);
        if (nowMs >= this.takeoverAtMs(nowMs)) this.startPhase1(nowMs, fx);
        break;
      case "stopped":
        break;
    }
  }

  private requestWake(nowMs: number, fx: Effects): void {
    fx.wakeAt(this.helloSentAtMs + this.helloEveryMs);
    switch (this.mode) {
      case "probing":
        fx.wakeAt(this.probed.size < majority(this.opts.acceptors) ? this.probeSentAtMs + this.opts.retransmitMs : Math.max(nowMs, this.startedAtMs + this.probeWaitMs));
        break;
      case "phase1":
        fx.wakeAt(this.p1SentAtMs + this.opts.retransmitMs);
        break;
      case "leader": {
        const oldest = this.inflight.values().next();
        if (!oldest.done) fx.wakeAt(oldest.value.sentAtMs + this.opts.retransmitMs);
        break;
      }
      case "standby":
        fx.wakeAt(this.takeoverAtMs(nowMs));
        if (this.values.size > 0) fx.wakeAt(Math.max(nowMs, this.lastForwardMs) + this.opts.takeoverMs);
        break;
      case "stopped":
        break;
    }
  }

  // ---- clients ----

  /**
   * A client with undecided values resends them at least every clientRetransmitMs; one silent
   * for three times that has all its values decided (it got their acks), or is gone: values of it
   * still waiting here are no reason to take over.
   */
  private clientSilent(client: number, nowMs: number): boolean {
    return nowMs - (this.values.peek(client)?.heardAtMs ?? -Infinity) > 3 * this.opts.clientRetransmitMs;
  }

  private onSubmit(msg: Submit, nowMs: number, fx: Effects): void {
    if (msg.via === this.nonce) return; // our own forward, back by loopback
    if (msg.via !== 0) this.noteOtherProposer(nowMs);
    const ackRanges: number[] = [];
    let oversize = 0;
    for (const c = msg.runs.cursor(); c.next(); ) {
      const client = c.client;
      const offer = (first: number, count: number, lines: Uint8Array): void =>
        this.values.offer(client, first, c.floor, count, lines, nowMs, msg.via === 0, this.opts.pendingValuesMax, (s, e) => ackRanges.push(client, s, e - s));
      if (BATCH_FRAMING_BYTES + runBytes(client, c.first, c.floor, c.count, c.linesEnd - c.linesStart) <= this.opts.batchBytesMax) {
        offer(c.first, c.count, c.lines);
        continue;
      }
      // A run larger than a batch (its client has another batch.bytesMax): in parts that fit; a
      // value no batch holds is refused (a 2A holding it might not fit a datagram).
      const lines = c.lines;
      const room = this.opts.batchBytesMax - BATCH_FRAMING_BYTES - runHeaderBytes(client, c.end, c.floor, c.count, lines.length);
      for (let seq = c.first, at = 0; seq < c.end; ) {
        const part = linesPrefix(lines, at, lines.length, c.end - seq, room);
        if (part.count === 0) {
          oversize++;
          at = skipLines(lines, at, 1);
          seq++;
          continue;
        }
        offer(seq, part.count, lines.subarray(at, part.end));
        seq += part.count;
        at = part.end;
      }
    }
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
    if (this.mode !== "leader") return;
    if (this.opts.gather) this.proposeDue = true;
    else this.proposeNew(nowMs, fx);
  }

  private proposeDue = false;
  /** Ranges (client, first, count) decided in this burst, acked at `flush` when gathering. */
  private acksDue: number[] = [];

  /** The end of a burst of inputs: proposes what arrived in it, acks what it decided (gather). */
  flush(nowMs: number): Effects {
    const fx = new Effects();
    if (this.mode === "stopped") return fx;
    if (this.proposeDue) {
      this.proposeDue = false;
      if (this.mode === "leader") this.proposeNew(nowMs, fx);
    }
    if (this.acksDue.length > 0) this.sendAcks("clients", this.acksDue, fx);
    this.acksDue = [];
    this.requestWake(nowMs, fx);
    return fx;
  }

  /** Acks for these ranges (client, first, count), as few as hold them within one datagram each. */
  private sendAcks(to: Group, ranges: readonly number[], fx: Effects): void {
    for (const chunk of chunkAckRanges(ranges, this.opts.datagramBytesMax)) fx.send(to, { t: "ack", ranges: chunk });
  }

  /** Another proposer says these values are decided (an answer to a forward): they wait no more. */
  private onAck(ranges: readonly number[], nowMs: number): void {
    for (let i = 0; i + 2 < ranges.length; i += 3) this.values.decide(ranges[i]!, ranges[i + 1]!, ranges[i + 1]! + ranges[i + 2]!, nowMs);
  }

  // ---- probing and Phase 1 ----

  private sendProbe(nowMs: number, fx: Effects): void {
    this.probeSentAtMs = nowMs;
    fx.send("acceptors", { t: "1a", cRnd: 0, nonce: this.nonce, from: 0, decidedBelow: 0, acc: 0 });
  }

  protected startPhase1(nowMs: number, fx: Effects): void {
    this.counters.phase1Runs++;
    if (this.cRnd !== 0) this.counters.takeovers++; // not this incarnation's first Phase 1
    this.cRnd = nextRound(this.highestRnd, this.opts.id);
    this.highestRnd = this.cRnd;
    this.mode = "phase1";
    this.p1From = this.firstUndecided;
    this.p1Coverage.clear();
    this.refusers.clear();
    this.p1Votes.clear();
    this.p1Conflicts.clear();
    this.p1SentAtMs = nowMs;
    this.p1Decided = 0;
    this.send1A(this.p1From, 0, fx);
  }

  /** A 1A of our round from `from`, to every acceptor (`acc` 0) or to one. */
  private send1A(from: number, acc: number, fx: Effects): void {
    fx.send("acceptors", { t: "1a", cRnd: this.cRnd, nonce: this.nonce, from, decidedBelow: this.firstUndecided, acc });
  }

  /** Asks again: everyone from the start, and each acceptor whose answer is incomplete from where it stopped. */
  private resendPhase1A(nowMs: number, fx: Effects): void {
    this.send1A(this.p1From, 0, fx);
    for (const [acc, cov] of this.p1Coverage) {
      if (!cov.done && cov.to > this.p1From) this.send1A(cov.to, acc, fx);
    }
    this.p1SentAtMs = nowMs;
  }

  private onPhase1B(msg: Phase1B, nowMs: number, fx: Effects): void {
    if (msg.nonce !== this.nonce) this.noteOtherProposer(nowMs);
    this.noteRound(msg.rnd, nowMs);
    // Only answers to this incarnation's own 1A count: a promise of the same round to another
    // incarnation (one that started with the same id) is not ours.
    if (this.mode !== "phase1" || msg.rnd !== this.cRnd || msg.nonce !== this.nonce) return;
    const cov = this.p1Coverage.get(msg.acc) ?? { to: this.p1From, done: false };
    this.p1Coverage.set(msg.acc, cov);
    if (cov.done || msg.from > cov.to) return; // duplicate, or a piece after a lost one
    for (const vote of msg.votes) this.notePhase1Vote(vote, fx);
    this.p1Decided = Math.max(this.p1Decided, msg.decidedBelow);
    const advanced = msg.to > cov.to;
    cov.to = Math.max(cov.to, msg.to);
    cov.done = msg.done;
    if (!cov.done) {
      // The next piece, from this acceptor only; a duplicate piece asks nothing more.
      if (advanced) this.send1A(cov.to, msg.acc, fx);
      return;
    }
    let complete = 0;
    for (const c of this.p1Coverage.values()) if (c.done) complete++;
    if (complete >= majority(this.opts.acceptors)) this.becomeLeader(nowMs, fx);
  }

  /**
   * Keeps, per instance, the vote with the highest vRnd among the promises. Two different batches
   * with the same vRnd cannot happen in a correct cluster: the instance is reported, and never
   * proposed in this round (no pick between the two).
   */
  protected notePhase1Vote(vote: Vote, fx: Effects): void {
    if (vote.inst < this.p1From) return;
    const known = this.p1Votes.get(vote.inst);
    if (known === undefined || vote.vRnd > known.vRnd) this.p1Votes.set(vote.inst, vote);
    else if (vote.vRnd === known.vRnd && !vote.vVal.sameAs(known.vVal) && !this.p1Conflicts.has(vote.inst)) {
      this.p1Conflicts.add(vote.inst);
      fx.violations.push(`two different batches voted for instance ${vote.inst} in round ${vote.vRnd}; not proposing there`);
    }
  }

  /**
   * With a majority of promises: re-propose, in our round, every value accepted at or above the
   * decided prefix (the highest-vRnd one per instance), fill the holes below them and below what
   * learners have seen with no-ops, then carry on with new values. No instance a promise reported
   * is skipped, however far above: any of them may hold a chosen value.
   */
  private becomeLeader(nowMs: number, fx: Effects): void {
    this.mode = "leader";
    // Below an acceptor's decidedBelow every instance is decided (it trims, and reports, only
    // what someone found decided): never propose there, not even a no-op.
    const from = Math.max(this.p1From, this.p1Decided);
    if (this.p1Decided > this.firstUndecided) this.skipDecidedBelow(this.p1Decided, nowMs);
    const top = this.highestTakenInstance(from);
    this.retakeNext = from;
    this.retakeTop = top;
    this.nextInst = top + 1;
    this.proposeNew(nowMs, fx);
  }

  /** The last instance a new leader takes over: the highest that promises reported, decided or learners saw. */
  protected highestTakenInstance(from: number): number {
    let top = Math.max(from - 1, this.maxDecided, this.holeTop);
    for (const inst of this.p1Votes.keys()) top = Math.max(top, inst);
    return top;
  }

  /** The value Paxos allows for an instance after Phase 1: the highest-vRnd vote, else a no-op. */
  protected valueForTakenInstance(inst: number): Batch {
    return this.p1Votes.get(inst)?.vVal ?? Batch.EMPTY;
  }

  // ---- Phase 2 ----

  /**
   * Fills the pipeline window: first the instances taken over, then batches of pending values
   * (batches grow while the window is full), then no-ops up to instances learners have seen.
   */
  private proposeNew(nowMs: number, fx: Effects): void {
    const proposals: Proposal[] = [];
    // Under light load the clients learn decisions from the 2Bs (see notifyBelowInflight).
    const notify = this.inflight.size < (this.opts.notifyBelowInflight ?? 0);
    const propose = (inst: number, cVal: Batch): void => {
      assert(!this.inflight.has(inst), "a leader proposes one batch per instance in its round");
      this.inflight.set(inst, { cVal, sentAtMs: nowMs, notify: notify ? this.notifyOf(inst, cVal) : NO_NOTIFY });
      proposals.push({ inst, cVal });
    };
    // Instances taken over come first, through the same window: a new leader far behind must
    // not flood the acceptors with its whole backlog at once.
    while (this.inflight.size < this.opts.pipelineWindow && this.retakeNext <= this.retakeTop) {
      const inst = this.retakeNext++;
      if (inst < this.firstUndecided || this.decided.has(inst) || this.p1Conflicts.has(inst)) continue;
      const cVal = this.valueForTakenInstance(inst);
      this.p1Votes.delete(inst);
      this.values.markInflight(cVal);
      propose(inst, cVal);
    }
    const retaking = this.retakeNext <= this.retakeTop;
    while (!retaking && this.inflight.size < this.opts.pipelineWindow) {
      const cVal = this.values.size > 0 ? this.takeBatch() : Batch.EMPTY;
      if (cVal.length === 0 && this.nextInst > this.holeTop) break; // values all turned out decided
      propose(this.nextInst++, cVal);
    }
    if (proposals.length > 0) this.send2A(proposals, this.reporters(nowMs), nowMs, fx);
  }

  private helloSentAtMs = -Infinity;
  /** When another proposer was last heard (a Hello, a 2A, a forward): 2As go to the proposers' group only while one is. */
  private otherProposerAtMs = -Infinity;

  private get helloEveryMs(): number {
    return this.opts.helloEveryMs ?? HELLO_EVERY_MS;
  }

  private get probeWaitMs(): number {
    return this.opts.probeWaitMs ?? 2 * this.helloEveryMs;
  }

  private sendHello(nowMs: number, fx: Effects): void {
    this.helloSentAtMs = nowMs;
    fx.send("proposers", { t: "hello", id: this.opts.id, nonce: this.nonce, leading: this.mode === "leader", startedMs: this.startedWallMs });
  }

  private noteOtherProposer(nowMs: number): void {
    this.otherProposerAtMs = nowMs;
  }

  /** Whether another proposer was heard lately: it keeps each round's batches from our 2As. */
  private otherProposerHeard(nowMs: number): boolean {
    return nowMs - this.otherProposerAtMs <= OTHERS_HEARD_HELLOS * this.helloEveryMs;
  }

  /** When each acceptor was last heard (a 1B or a 2B): thrifty 2Bs name reporters among those heard lately. */
  private readonly acceptorHeardMs = new Map<number, number>();

  /**
   * The acceptors that report a new 2A's votes to the learners (empty: all). With thrifty 2Bs,
   * a majority of those heard within REPORTER_HEARD_MS, lowest ids first (a stable set); every
   * acceptor when too few were heard.
   */
  private reporters(nowMs: number): Uint8Array {
    if (!this.opts.thriftyReports) return REPORT_ALL;
    const quorum = majority(this.opts.acceptors);
    const heard: number[] = [];
    for (let acc = 1; acc <= this.opts.acceptors && heard.length < quorum; acc++) {
      if (nowMs - (this.acceptorHeardMs.get(acc) ?? -Infinity) <= REPORTER_HEARD_MS) heard.push(acc);
    }
    return heard.length < quorum ? REPORT_ALL : reportList(heard);
  }

  /** Fills a batch from the waiting values (a run is cut at a line where the batch is full). */
  protected takeBatch(): Batch {
    const builder = new BatchBuilder(this.opts.batchBytesMax - BATCH_FRAMING_BYTES);
    this.values.take(builder, this.opts.batchValuesMax, () => {});
    return builder.finish();
  }

  /** Where a batch's runs are, for the clients' group (what a 2A's `notify` says of one instance). */
  private notifyOf(inst: number, cVal: Batch): Uint8Array {
    if (cVal.runs === 0) return NO_NOTIFY;
    let size = 0;
    for (const c = cVal.cursor(); c.next(); ) size += notifyEntryBytes(inst, c.client, c.first, c.count);
    const w = new NotifyWriter(size);
    for (const c = cVal.cursor(); c.next(); ) w.add(inst, c.client, c.first, c.count);
    return w.finish();
  }

  /** Some 2A has waited a retransmission period for a majority of votes (the oldest comes first). */
  private has2AStale(nowMs: number): boolean {
    const oldest = this.inflight.values().next();
    return !oldest.done && nowMs - oldest.value.sentAtMs >= this.opts.retransmitMs;
  }

  private resendStale2A(nowMs: number, fx: Effects): void {
    const stale: Proposal[] = [];
    for (const [inst, f] of this.inflight) {
      if (nowMs - f.sentAtMs < this.opts.retransmitMs) break; // insertion order = send order
      stale.push({ inst, cVal: f.cVal });
    }
    for (const p of stale) {
      const f = this.inflight.get(p.inst)!;
      this.inflight.delete(p.inst);
      f.sentAtMs = nowMs;
      this.inflight.set(p.inst, f);
    }
    this.send2A(stale, REPORT_ALL, nowMs, fx); // the votes of any majority will do
  }

  /**
   * 2A to the acceptors, the learners and the other proposers (one message, encoded once): the
   * learners and proposers keep each round's batch and pair the value-less 2Bs with it, as this
   * proposer does with its own.
   */
  private send2A(proposals: Proposal[], report: Uint8Array, nowMs: number, fx: Effects): void {
    for (const p of proposals) this.tally.propose(p.inst, this.cRnd, this.nonce, p.cVal, fx.violations);
    const notifyOf = (p: Proposal): Uint8Array => this.inflight.get(p.inst)?.notify ?? NO_NOTIFY;
    // A 2A's notify comes back in 2Bs, whose fixed part is larger: room for that is kept.
    const budget = proposals.some((p) => notifyOf(p).length > 0) ? this.opts.datagramBytesMax - NOTIFY_2B_MARGIN_BYTES : this.opts.datagramBytesMax;
    for (const p of proposals) {
      const f = this.inflight.get(p.inst);
      // Too many runs to say where they are within a datagram: the leader acks them instead.
      if (f !== undefined && f.notify.length > 0 && MESSAGE_OVERHEAD_BYTES + proposalBytes(p) + f.notify.length > budget) f.notify = NO_NOTIFY;
    }
    // Standing-by proposers keep each round's batches; with none heard, the datagram would come back to us alone.
    const toProposers = this.otherProposerHeard(nowMs);
    for (const chunk of chunkBySize(proposals, (p) => proposalBytes(p) + notifyOf(p).length, budget)) {
      const notify = joinNotify(chunk.map(notifyOf).filter((n) => n.length > 0));
      const twoA = { t: "2a", cRnd: this.cRnd, nonce: this.nonce, proposals: chunk, decidedBelow: this.firstUndecided, notify, report } as const;
      fx.send("acceptors", twoA);
      fx.send("learners", twoA);
      if (toProposers) fx.send("proposers", twoA);
    }
  }

  /**
   * Another proposer's 2A: what its round proposed, so that this one knows which values the
   * round's 2Bs decide (to stop waiting for them, and to answer catch-ups with them).
   */
  private onPhase2A(msg: Phase2A, nowMs: number, fx: Effects): void {
    if (msg.nonce === this.nonce || msg.proposals.length === 0) return; // our own, looped back
    this.noteOtherProposer(nowMs);
    this.leaderHeardAtMs = nowMs;
    for (const p of msg.proposals) {
      if (p.inst < this.decidedKeptFrom) continue;
      const known = this.decided.get(p.inst);
      if (known !== undefined && known !== null) continue;
      if (known === undefined && p.inst < this.firstUndecided) continue; // decided, and forgotten
      const r = this.tally.propose(p.inst, msg.cRnd, msg.nonce, p.cVal, fx.violations);
      if (r !== undefined) this.onDecided(p.inst, r, msg.cRnd, nowMs, fx);
    }
  }

  private onPhase2B(msg: Phase2B, nowMs: number, fx: Effects): void {
    if (this.mode === "probing") this.votesSeen = true; // someone is deciding
    if (msg.insts.length > 0) this.noteRound(msg.vRnd, nowMs);
    for (const inst of msg.insts) {
      if (this.decided.has(inst) || inst < this.firstUndecided) continue;
      const r = this.tally.add(msg.acc, inst, msg.vRnd, msg.nonce, undefined, fx.violations);
      // Another proposer's round: decided, though this one never saw its batch.
      if (r !== undefined) this.onDecided(inst, r === DECIDED_VALUE_UNKNOWN ? null : r, msg.vRnd, nowMs, fx);
    }
    // A proposer that missed decisions (2B lost while standing by) would otherwise keep every
    // decision above its hole forever: move past what another proposer found decided.
    if (msg.decidedBelow > this.firstUndecided) this.skipDecidedBelow(msg.decidedBelow, nowMs);
    this.proposeSoon(nowMs, fx);
  }

  /**
   * Instance `inst` is decided in round `vRnd`, as `vVal` (null: a batch this proposer has not
   * seen yet; called again with it if its 2A comes later).
   */
  private onDecided(inst: number, vVal: Batch | null, vRnd: number, nowMs: number, fx: Effects): void {
    this.decided.set(inst, vVal);
    this.maxDecided = Math.max(this.maxDecided, inst);
    while (this.decided.has(this.firstUndecided)) this.firstUndecided++;
    this.forgetOldDecided();
    this.lastDecisionMs = nowMs; // progress: whoever leads is alive
    this.failedAttempts = 0; // and contention, if there was any, is over
    const mine = this.inflight.get(inst);
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
    if (mine !== undefined) {
      this.inflight.delete(inst);
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
    assert(below > this.firstUndecided, "the decided prefix only grows");
    this.tally.forgetBelow(below);
    for (const [inst, f] of this.inflight) {
      if (inst >= below) continue;
      this.inflight.delete(inst);
      this.values.requeue(f.cVal, nowMs);
    }
    this.firstUndecided = below;
    this.maxDecided = Math.max(this.maxDecided, below - 1);
    this.nextInst = Math.max(this.nextInst, below);
    while (this.decided.has(this.firstUndecided)) this.firstUndecided++;
    this.forgetOldDecided();
  }

  /** Keeps decided batches only for the last retainInstances below the first undecided one. */
  private forgetOldDecided(): void {
    const keepFrom = this.firstUndecided - this.opts.retainInstances;
    if (keepFrom - this.decidedKeptFrom > this.opts.retainInstances) {
      // A jump (after skipDecidedBelow): scan what is there rather than every number.
      for (const inst of this.decided.keys()) if (inst < keepFrom) this.decided.delete(inst);
    } else for (let inst = this.decidedKeptFrom; inst < keepFrom; inst++) this.decided.delete(inst);
    this.decidedKeptFrom = Math.max(this.decidedKeptFrom, keepFrom);
    // Votes and proposals of instances decided long ago (a 2A that never came, a round that lost)
    // are dropped now and then.
    const tallyFrom = Math.max(keepFrom, this.firstUndecided - TALLY_KEEP_INSTANCES);
    if (tallyFrom - this.tallyKeptFrom >= TALLY_KEEP_INSTANCES / 4) {
      this.tally.forgetBelow(tallyFrom);
      this.tallyKeptFrom = tallyFrom;
    }
  }

  // ---- rounds and takeover ----

  private onNack(msg: Nack, nowMs: number): void {
    if (msg.nonce !== this.nonce) this.noteOtherProposer(nowMs); // an answer to another proposer's 1A or 2A
    if (msg.nonce === this.nonce && this.mode === "probing") this.probed.add(msg.acc);
    // Our own round refused at an equal promise: that acceptor bound it to another incarnation of
    // our id. In Phase 1 or 2, give up once too many did for a majority to remain (or, see onTick,
    // when no majority answered or voted by the next retransmission).
    if (msg.nonce === this.nonce && msg.cRnd === this.cRnd && msg.rnd === this.cRnd && (this.mode === "phase1" || this.mode === "leader")) {
      this.refusers.add(msg.acc);
      if (this.refusers.size > this.opts.acceptors - majority(this.opts.acceptors)) this.standBy(nowMs, true);
      return;
    }
    this.noteRound(msg.rnd, nowMs);
  }

  /** A round higher than ours means another proposer is taking over: stand by, and defer a takeover of our own. */
  private noteRound(rnd: number, nowMs: number): void {
    const higher = rnd > this.highestRnd;
    if (higher) this.highestRnd = rnd;
    if (this.mode === "phase1" || this.mode === "leader") {
      if (rnd > this.cRnd) this.standBy(nowMs, true);
    } else if (this.mode === "standby" && higher) this.deferTakeover(nowMs);
  }

  private standBy(nowMs: number, preempted: boolean): void {
    if (preempted) this.failedAttempts = Math.min(this.failedAttempts + 1, BACKOFF_EXPONENT_MAX);
    this.mode = "standby";
    this.leaderHeardAtMs = nowMs; // someone leads (or did, a moment ago)
    for (const f of this.inflight.values()) this.values.requeue(f.cVal, nowMs);
    this.inflight.clear();
    this.values.clearInflight();
    this.retakeNext = 0;
    this.retakeTop = -1;
    this.p1Votes.clear();
    this.deferTakeover(nowMs);
  }

  /**
   * No takeover before a random delay from now, which doubles with each attempt that made no
   * progress: two proposers that keep preempting each other soon wait long enough for one of
   * them to finish Phase 1 and decide something.
   */
  private deferTakeover(nowMs: number): void {
    this.takeoverDelayMs = this.opts.takeoverMs * (1 + this.opts.random()) * 2 ** this.failedAttempts;
    this.notBeforeMs = nowMs + this.takeoverDelayMs;
  }

  /**
   * When a standing-by proposer takes over (Infinity: it has no work). Its work is
   * - values waiting while no decision at all was seen for the delay (the leader is gone);
   * - values of a client nobody decides, still undecided a delay after they were forwarded to
   *   the leader (the leader cannot hear that client, nor this proposer);
   * - a hole: instances below one that exists (decided, or voted as a stuck learner reports) that
   *   it does not know decided, with no progress through them for the delay.
   */
  private takeoverAtMs(nowMs: number): number {
    let at = Infinity;
    const oldest = this.values.oldest((q) => this.clientSilent(q.client, nowMs));
    if (oldest !== undefined) at = Math.max(oldest.heardAtMs, this.lastDecisionMs) + this.takeoverDelayMs;
    if (this.starvingSinceMs < Infinity) at = Math.min(at, this.starvingSinceMs + this.takeoverDelayMs);
    if (this.holeSinceMs < Infinity) at = Math.min(at, this.holeSinceMs + this.takeoverDelayMs);
    // No leader heard (no Hello saying so, no 2A, no decision) for a few Hello periods: it is
    // gone, work or not (an idle cluster must have a leader when work comes).
    at = Math.min(at, Math.max(this.leaderHeardAtMs, this.lastDecisionMs) + OTHERS_HEARD_HELLOS * this.helloEveryMs + this.takeoverDelayMs);
    return Math.max(at, this.notBeforeMs);
  }

  /** When another proposer was last heard leading (a Hello saying so, or its 2A). */
  private leaderHeardAtMs = -Infinity;

  /**
   * Values whose client has had nothing decided since they arrived, for takeoverMs: the leader
   * may not hear that client. Forward them to the proposers (the leader among them), at most
   * once per takeoverMs.
   */
  private forwardStarving(nowMs: number, fx: Effects): void {
    if (nowMs - this.lastForwardMs < this.opts.takeoverMs) return;
    const starving: Run[] = [];
    let count = 0;
    this.values.forEachOldest((q, book, waiting) => {
      if (nowMs - q.heardAtMs < this.opts.takeoverMs || count >= FORWARD_VALUES_MAX) return false;
      const nothingDecided = book.decidedAtMs < q.heardAtMs;
      if (!nothingDecided || this.clientSilent(q.client, nowMs)) return true;
      waiting.forEachIn(q.first, q.first + q.count, (s, e) => {
        const start = skipLines(q.lines, 0, s - q.first);
        starving.push({ client: q.client, first: s, floor: q.floor, count: e - s, lines: q.lines.subarray(start, skipLines(q.lines, start, e - s)) });
        count += e - s;
      });
      return true;
    });
    if (starving.length === 0) {
      this.starvingSinceMs = Infinity;
      return;
    }
    this.lastForwardMs = nowMs;
    if (this.starvingSinceMs === Infinity) this.starvingSinceMs = nowMs;
    this.counters.forwarded += count;
    const runSize = (r: Run): number => runBytes(r.client, r.first, r.floor, r.count, r.lines.length);
    for (const chunk of chunkBySize(starving, runSize, this.opts.datagramBytesMax)) {
      fx.send("proposers", { t: "submit", runs: Batch.ofRuns(chunk), via: this.nonce });
    }
  }

  /** Starts or re-arms the hole timer: a hole exists, and progress through it re-arms it. */
  private updateHole(nowMs: number): void {
    this.holeTop = Math.max(this.holeTop, this.maxDecided);
    if (this.firstUndecided > this.holeTop) this.holeSinceMs = Infinity;
    else if (this.holeSinceMs === Infinity || this.firstUndecided > this.holeFrom) {
      this.holeSinceMs = nowMs;
      this.holeFrom = this.firstUndecided;
    }
  }

  // ---- catch-up ----

  /**
   * Answers a learner with the instances it asks that this proposer saw decided, and the decided
   * prefix it knows. The request also tells what the learner knows decided (skip it) and how far
   * it heard of votes: an instance below that which this proposer does not know decided is a
   * hole to fill.
   */
  private onCatchup(msg: Catchup, nowMs: number, fx: Effects): void {
    if (msg.decidedBelow > this.firstUndecided) this.skipDecidedBelow(msg.decidedBelow, nowMs);
    const decided: Proposal[] = [];
    const to = Math.min(msg.to, this.maxDecided + 1, msg.from + (this.opts.catchupInstancesMax ?? CATCHUP_INSTANCES_MAX));
    for (let inst = msg.from; inst < to; inst++) {
      const cVal = this.decided.get(inst);
      if (cVal !== undefined && cVal !== null) decided.push({ inst, cVal });
    }
    // The learner knows less of the decided prefix than this proposer: say so, also for instances
    // whose batch this proposer never saw (the learner's next Catchup tells the acceptors, whose
    // accounts then let it recover them).
    sendDecisions(fx, decided, this.firstUndecided, msg.decidedBelow < this.firstUndecided, this.opts.datagramBytesMax, this.opts.catchupDatagramsMax);
    if (msg.seenTo > msg.from && msg.from >= this.firstUndecided && !this.decided.has(msg.from)) {
      // Bounded like proposals: a stray request cannot make a leader fill billions of no-ops.
      this.holeTop = Math.max(this.holeTop, Math.min(msg.seenTo - 1, this.firstUndecided + (this.opts.instancesAheadMax ?? INSTANCES_AHEAD_MAX)));
      if (this.mode === "leader") this.proposeNew(nowMs, fx);
    }
  }
}
