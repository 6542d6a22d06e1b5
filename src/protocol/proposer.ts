import { Batch, valueWireBytes } from "./batch.ts";
import { FloorIdSet, IdSet, ValueQueue } from "./ids.ts";
import {
  CATCHUP_INSTANCES_MAX,
  Effects,
  INSTANCES_AHEAD_MAX,
  type Catchup,
  type Input,
  type Nack,
  type Phase1B,
  type Phase2B,
  type Proposal,
  type Role,
  type Submit,
  type Value,
  type Vote,
} from "./messages.ts";
import { chunkBySize, proposalBytes, sendDecisions } from "./pack.ts";
import { VoteTally, majority } from "./tally.ts";

/** Rounds are counter × ROUND_STRIDE + proposer id: unique per proposer, and increasing. */
export const ROUND_STRIDE = 1000;

export interface ProposerOptions {
  /** 0 ≤ id < ROUND_STRIDE. */
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
  /** Time without progress after which a standing-by proposer with pending values takes over. */
  readonly takeoverMs: number;
  readonly catchupDatagramsMax: number;
  /** Injected randomness in [0, 1), for takeover backoff. */
  readonly random: () => number;
  /**
   * Every round this proposer uses is above this floor. A restarted proposer has forgotten its
   * rounds; were it to pick one it used before, acceptors would take its new 2A for the old round
   * and a learner could combine votes for two different values. The runtime passes the clock
   * (milliseconds × ROUND_STRIDE), which moves on faster than takeovers can.
   */
  readonly roundFloor: number;
  /** Decided batches kept below the first undecided instance, to answer learners' Catchup. */
  readonly retainInstances: number;
}

type Mode = "standby" | "phase1" | "leader";

interface Coverage {
  to: number;
  done: boolean;
}

interface InFlight {
  readonly cVal: Batch;
  sentAtMs: number;
}

export function nextRound(highest: number, id: number): number {
  return (Math.floor(highest / ROUND_STRIDE) + 1) * ROUND_STRIDE + id;
}

/**
 * Paxos proposer with proactive Phase 1 (one 1A for all instances from `p1From` up), pipelined
 * Phase 2 with self-clocked batching, and takeover with randomized backoff. Learns decisions from
 * direct 2B like a learner, to ack clients and to know which instances are done.
 */
export class Proposer implements Role {
  protected mode: Mode = "standby";
  protected cRnd = 0;
  protected highestRnd: number;
  /** Whether votes were seen (then no Phase 1 at start: someone leads). */
  private seenRound: boolean;
  private started = false;
  /**
   * Before its first Phase 1, a proposer asks a majority of acceptors for their promises (a 1A of
   * round 0, answered with Nack or 1B), so that its rounds start above every round a majority
   * promised, its own earlier incarnation's included, whatever the clocks say.
   */
  private readonly probed = new Set<number>();
  private probeSentAtMs = -Infinity;

  // Phase 1
  protected p1From = 0;
  private readonly p1Coverage = new Map<number, Coverage>();
  protected readonly p1Votes = new Map<number, Vote>();
  /** The highest decidedBelow among this Phase 1's promises. */
  private p1Decided = 0;
  private p1SentAtMs = 0;

  // Phase 2
  protected nextInst = 0;
  private readonly inflight = new Map<number, InFlight>();
  /** Instances found accepted (or holes) at takeover, proposed as the window allows. */
  private retaken: Proposal[] = [];
  private retakenHead = 0;
  private readonly inflightIds = new IdSet();
  private readonly pending = new ValueQueue();

  // What is known decided
  private readonly decided = new Map<number, Batch>();
  private firstUndecided = 0;
  /** Decided batches below this were forgotten (retention). */
  private decidedKeptFrom = 0;
  private maxDecided = -1;
  private readonly decidedIds = new FloorIdSet();
  private readonly tally: VoteTally;

  private takeoverAtMs = Infinity;

  constructor(readonly opts: ProposerOptions) {
    if (opts.id < 0 || opts.id >= ROUND_STRIDE) throw new RangeError(`proposer id must be in [0, ${ROUND_STRIDE})`);
    this.highestRnd = opts.roundFloor;
    this.seenRound = false;
    this.tally = new VoteTally(majority(opts.acceptors));
  }

  get round(): number {
    return this.cRnd;
  }

  /** Every instance below is known decided. */
  get decidedPrefix(): number {
    return this.firstUndecided;
  }

  /** For metrics: Phase 1 runs, and those that took over from another round. */
  readonly counters = { phase1Runs: 0, takeovers: 0 };

  get isLeader(): boolean {
    return this.mode === "leader";
  }

  get pendingCount(): number {
    return this.pending.size + this.inflightIds.size;
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    if (input.kind === "tick") this.onTick(nowMs, fx);
    else {
      const msg = input.msg;
      if (!this.started && (msg.t === "nack" || msg.t === "1b")) this.probed.add(msg.acc);
      switch (msg.t) {
        case "submit":
          this.onSubmit(msg, nowMs, fx);
          break;
        case "1b":
          this.onPhase1B(msg, nowMs, fx);
          break;
        case "2b":
          this.onPhase2B(msg, nowMs, fx);
          break;
        case "nack":
          this.onNack(msg, nowMs);
          break;
        case "catchup":
          this.onCatchup(msg, fx);
          break;
        default:
          break;
      }
    }
    this.requestWake(fx);
    return fx;
  }

  private onTick(nowMs: number, fx: Effects): void {
    if (!this.started) {
      if (this.probed.size < majority(this.opts.acceptors)) {
        if (nowMs - this.probeSentAtMs >= this.opts.retransmitMs) {
          this.probeSentAtMs = nowMs;
          fx.send("acceptors", { t: "1a", cRnd: 0, from: 0, decidedBelow: 0, acc: 0 });
        }
        return;
      }
      this.started = true;
      // Proactive Phase 1, before any client value, unless a leader is already visible.
      if (!this.seenRound) this.startPhase1(nowMs, fx);
      else this.armTakeover(nowMs);
      return;
    }
    switch (this.mode) {
      case "phase1":
        if (nowMs - this.p1SentAtMs >= this.opts.retransmitMs) this.resendPhase1A(nowMs, fx);
        break;
      case "leader":
        this.resendStale2A(nowMs, fx);
        this.proposeNew(nowMs, fx);
        break;
      case "standby":
        if (this.hasWork() && nowMs >= this.takeoverAtMs) this.startPhase1(nowMs, fx);
        break;
    }
  }

  private requestWake(fx: Effects): void {
    if (!this.started) fx.wakeAt(this.probed.size < majority(this.opts.acceptors) ? this.probeSentAtMs + this.opts.retransmitMs : 0);
    else if (this.mode === "phase1") fx.wakeAt(this.p1SentAtMs + this.opts.retransmitMs);
    else if (this.mode === "leader") {
      const oldest = this.inflight.values().next();
      if (!oldest.done) fx.wakeAt(oldest.value.sentAtMs + this.opts.retransmitMs);
    } else if (this.hasWork()) fx.wakeAt(this.takeoverAtMs);
  }

  /**
   * Work that justifies a takeover when nobody makes progress: client values waiting, or a hole
   * (an instance below one seen decided that is not known decided: the leader that would have
   * filled it may be gone, and no client may ever resend anything).
   */
  private hasWork(): boolean {
    return this.pending.size > 0 || this.firstUndecided <= this.maxDecided;
  }

  // ---- clients ----

  private onSubmit(msg: Submit, nowMs: number, fx: Effects): void {
    const ackIds: number[] = [];
    for (const v of msg.values) {
      this.decidedIds.raiseFloor(v.client, v.floor); // the client knows everything below is decided
      if (this.decidedIds.has(v.client, v.seq)) {
        ackIds.push(v.client, v.seq); // a retransmission of a decided value: its ack was lost
        continue;
      }
      if (this.inflightIds.has(v.client, v.seq) || this.pending.has(v.client, v.seq)) continue;
      if (this.pending.size >= this.opts.pendingValuesMax) continue;
      if (this.pending.size === 0 && this.mode === "standby") this.armTakeover(nowMs);
      this.pending.push(v);
    }
    if (ackIds.length > 0) fx.send("clients", { t: "ack", ids: ackIds });
    if (this.mode === "leader") this.proposeNew(nowMs, fx);
  }

  // ---- Phase 1 ----

  protected startPhase1(nowMs: number, fx: Effects): void {
    this.counters.phase1Runs++;
    if (this.cRnd !== 0) this.counters.takeovers++; // not this incarnation's first Phase 1
    this.cRnd = nextRound(this.highestRnd, this.opts.id);
    this.highestRnd = this.cRnd;
    this.mode = "phase1";
    this.p1From = this.firstUndecided;
    this.p1Coverage.clear();
    this.p1Votes.clear();
    this.p1SentAtMs = nowMs;
    this.p1Decided = 0;
    this.send1A(this.p1From, 0, fx);
  }

  /** A 1A of our round from `from`, to every acceptor (`acc` 0) or to one. */
  private send1A(from: number, acc: number, fx: Effects): void {
    fx.send("acceptors", { t: "1a", cRnd: this.cRnd, from, decidedBelow: this.firstUndecided, acc });
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
    this.noteRound(msg.rnd, nowMs);
    if (this.mode !== "phase1" || msg.rnd !== this.cRnd) return;
    const cov = this.p1Coverage.get(msg.acc) ?? { to: this.p1From, done: false };
    this.p1Coverage.set(msg.acc, cov);
    if (cov.done || msg.from > cov.to) return; // duplicate, or a piece after a lost one
    for (const vote of msg.votes) this.notePhase1Vote(vote);
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

  /** Keeps, per instance, the vote with the highest vRnd among the promises. */
  protected notePhase1Vote(vote: Vote): void {
    if (vote.inst < this.p1From) return;
    const known = this.p1Votes.get(vote.inst);
    if (known === undefined || vote.vRnd > known.vRnd) this.p1Votes.set(vote.inst, vote);
  }

  /**
   * With a majority of promises: re-propose, in our round, every value accepted at or above
   * `p1From` (the highest-vRnd one per instance), fill the holes below them with no-ops, then
   * carry on with new values.
   */
  private becomeLeader(nowMs: number, fx: Effects): void {
    this.mode = "leader";
    // Below an acceptor's decidedBelow every instance is decided (it trims, and reports, only
    // what a proposer found decided): never propose there, not even a no-op.
    const from = Math.max(this.p1From, this.p1Decided);
    if (this.p1Decided > this.firstUndecided) this.skipDecidedBelow(this.p1Decided);
    let top = Math.max(from - 1, this.maxDecided);
    for (const inst of this.p1Votes.keys()) top = Math.max(top, inst);
    top = Math.min(top, from + INSTANCES_AHEAD_MAX); // acceptors hold nothing beyond
    this.retaken = [];
    this.retakenHead = 0;
    for (let inst = from; inst <= top; inst++) {
      if (this.decided.has(inst)) continue;
      const cVal = this.valueForTakenInstance(inst);
      for (const v of cVal.values) {
        this.pending.delete(v.client, v.seq);
        this.inflightIds.add(v.client, v.seq);
      }
      this.retaken.push({ inst, cVal });
    }
    this.p1Votes.clear();
    this.nextInst = top + 1;
    this.proposeNew(nowMs, fx);
  }

  /** The value Paxos allows for an instance after Phase 1: the highest-vRnd vote, else a no-op. */
  protected valueForTakenInstance(inst: number): Batch {
    return this.p1Votes.get(inst)?.vVal ?? Batch.EMPTY;
  }

  // ---- Phase 2 ----

  /** Fills the pipeline window with batches of pending values (batches grow while it is full). */
  private proposeNew(nowMs: number, fx: Effects): void {
    const proposals: Proposal[] = [];
    // Instances taken over come first, through the same window: a new leader far behind must
    // not flood the acceptors with its whole backlog at once.
    while (this.inflight.size < this.opts.pipelineWindow && this.retakenHead < this.retaken.length) {
      const p = this.retaken[this.retakenHead++]!;
      if (p.inst < this.firstUndecided || this.decided.has(p.inst)) {
        this.requeueUndecided(p.cVal); // decided meanwhile
        continue;
      }
      this.inflight.set(p.inst, { cVal: p.cVal, sentAtMs: nowMs });
      proposals.push(p);
    }
    if (this.retakenHead === this.retaken.length && this.retaken.length > 0) {
      this.retaken = [];
      this.retakenHead = 0;
    }
    while (this.inflight.size < this.opts.pipelineWindow && this.retaken.length === 0 && this.pending.size > 0) {
      const cVal = this.takeBatch();
      const inst = this.nextInst++;
      this.inflight.set(inst, { cVal, sentAtMs: nowMs });
      proposals.push({ inst, cVal });
    }
    this.send2A(proposals, fx);
  }

  protected takeBatch(): Batch {
    let bytes = Batch.EMPTY.wireBytes;
    const batch = this.pending.take((v, taken) => {
      const size = valueWireBytes(v);
      if (taken >= this.opts.batchValuesMax || (taken > 0 && bytes + size > this.opts.batchBytesMax)) return false;
      bytes += size;
      return true;
    }, (v) => this.decidedIds.has(v.client, v.seq));
    for (const v of batch) this.inflightIds.add(v.client, v.seq);
    return Batch.of(batch);
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
    this.send2A(stale, fx);
  }

  private send2A(proposals: Proposal[], fx: Effects): void {
    for (const chunk of chunkBySize(proposals, proposalBytes, this.opts.datagramBytesMax)) {
      fx.send("acceptors", { t: "2a", cRnd: this.cRnd, proposals: chunk, decidedBelow: this.firstUndecided });
    }
  }

  private onPhase2B(msg: Phase2B, nowMs: number, fx: Effects): void {
    this.seenRound = true; // someone is deciding
    for (const vote of msg.votes) {
      this.noteRound(vote.vRnd, nowMs);
      if (this.decided.has(vote.inst) || vote.inst < this.firstUndecided) continue;
      const vVal = this.tally.add(msg.acc, vote);
      if (vVal !== undefined) this.onDecided(vote.inst, vVal, vote.vRnd, nowMs, fx);
    }
    // A proposer that missed decisions (2B lost while standing by) would otherwise keep every
    // decision above its hole forever: move past what another proposer found decided.
    if (msg.decidedBelow > this.firstUndecided) this.skipDecidedBelow(msg.decidedBelow);
    if (this.mode === "leader") this.proposeNew(nowMs, fx);
  }

  private onDecided(inst: number, vVal: Batch, vRnd: number, nowMs: number, fx: Effects): void {
    this.decided.set(inst, vVal);
    this.maxDecided = Math.max(this.maxDecided, inst);
    while (this.decided.has(this.firstUndecided)) this.firstUndecided++;
    this.forgetOldDecided();
    this.armTakeover(nowMs); // progress: whoever leads is alive
    const mine = this.inflight.get(inst);
    // Our own proposal in our round is the same batch, already unpacked (one value per round);
    // otherwise the ids are read from the packed bytes, no values built.
    const batch = mine !== undefined && vRnd === this.cRnd ? mine.cVal : vVal;
    const ackIds: number[] = [];
    batch.forEachId((client, seq, floor) => {
      this.decidedIds.add(client, seq);
      this.decidedIds.raiseFloor(client, floor); // a fact: the client had these acked
      this.pending.delete(client, seq);
      this.inflightIds.delete(client, seq);
      ackIds.push(client, seq);
    });
    if (mine !== undefined) {
      this.inflight.delete(inst);
      this.requeueUndecided(mine.cVal);
    }
    if (vRnd === this.cRnd && ackIds.length > 0) fx.send("clients", { t: "ack", ids: ackIds });
  }

  /**
   * Instances below `below` are decided, though we do not know their values: stop proposing
   * there (our values in them go back to pending unless known decided; a duplicate is harmless).
   */
  private skipDecidedBelow(below: number): void {
    this.tally.forgetBelow(below);
    for (const [inst, f] of this.inflight) {
      if (inst >= below) continue;
      this.inflight.delete(inst);
      this.requeueUndecided(f.cVal);
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
  }

  /** Values of a batch that lost its instance go back to pending, unless decided elsewhere. */
  private requeueUndecided(batch: Batch): void {
    for (const v of batch.values) {
      this.inflightIds.delete(v.client, v.seq);
      if (!this.decidedIds.has(v.client, v.seq)) this.pending.push(v);
    }
  }

  // ---- rounds and takeover ----

  private onNack(msg: Nack, nowMs: number): void {
    this.noteRound(msg.rnd, nowMs);
  }

  /** A higher round than ours means another proposer took over: stand by. */
  private noteRound(rnd: number, nowMs: number): void {
    if (rnd > this.highestRnd) this.highestRnd = rnd;
    if (rnd > this.cRnd && this.mode !== "standby") this.standBy(nowMs);
  }

  private standBy(nowMs: number): void {
    this.mode = "standby";
    for (const f of this.inflight.values()) this.requeueUndecided(f.cVal);
    for (let k = this.retakenHead; k < this.retaken.length; k++) this.requeueUndecided(this.retaken[k]!.cVal);
    this.retaken = [];
    this.retakenHead = 0;
    this.inflight.clear();
    this.inflightIds.clear();
    this.p1Votes.clear();
    this.armTakeover(nowMs);
  }

  /** Takeover deadline: a timeout plus a random backoff, so that proposers do not duel forever. */
  private armTakeover(nowMs: number): void {
    this.takeoverAtMs = nowMs + this.opts.takeoverMs * (1 + this.opts.random());
  }

  // ---- catch-up ----

  private onCatchup(msg: Catchup, fx: Effects): void {
    const decided: Proposal[] = [];
    const to = Math.min(msg.to, this.maxDecided + 1, msg.from + CATCHUP_INSTANCES_MAX);
    for (let inst = msg.from; inst < to; inst++) {
      const cVal = this.decided.get(inst);
      if (cVal !== undefined) decided.push({ inst, cVal });
    }
    sendDecisions(fx, decided, this.opts.datagramBytesMax, this.opts.catchupDatagramsMax);
  }
}
