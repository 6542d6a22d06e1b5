import { assert } from "./assert.ts";
import { BatchBuilder, linesPrefix, runBytes, runHeaderBytes, skipLines } from "./batch.ts";
import { HeadQueue } from "./head-queue.ts";
import { AcceptorIdentities } from "./identities.ts";
import { Effects, NO_EFFECTS, type Input, type Phase2B, type Role } from "./messages.ts";
import { forEachNotified } from "./notify.ts";
import { ConfigGossip } from "./config-gossip.ts";
import type { ConfigHistory, ConfigStamp } from "./configuration.ts";
import { BATCH_FRAMING_BYTES, UDP_PAYLOAD_BYTES_MAX } from "./wire-budget.ts";

export interface ClientOptions {
  /** α of configuration changes (configuration.ts; RECONFIG_ALPHA): the cluster's, tests may shrink it. */
  readonly reconfigAlpha?: number;
  /**
   * The client number values carry, with seqs from `seqBase` up. A restarted client must not
   * reuse ids of its earlier run (they would be taken for duplicates): the runtime makes the
   * number unique per run (see clientNumber in id-limits.ts).
   */
  readonly id: number;
  /**
   * The initial configuration's acceptors (1 to this; changes come through the log): 2Bs of a
   * majority of an instance's configuration for a round that placed a run there decide it.
   */
  readonly acceptors: number;
  /** Values submitted and not yet known decided, at most. */
  readonly outstandingMax: number;
  /** A run must fit one batch of this many bytes (config batch.bytesMax). */
  readonly batchBytesMax: number;
  /**
   * Resend a value not acked after this long, at most. The actual timeout adapts to the observed
   * latency as TCP's does (smoothed latency + 4 × its variation), between retransmitMinMs and this.
   */
  readonly retransmitMs: number;
  readonly retransmitMinMs: number;
  /** First sequence number. */
  readonly seqBase: number;
  /**
   * Ask the proposers for the configuration history this often (`paxos reconfigure`: what is in
   * force, what is pending, and the decided prefix), until told. Default: never.
   */
  readonly askConfigEveryMs?: number;
  /**
   * Send the values that acks make room for at `flush` (the end of the runtime's event-loop
   * turn), so that the acks of one burst open one Submit, not one each. Default false.
   */
  readonly gather?: boolean;
}

/** Lines read and not sent yet: `count` lines from byte `at` of `lines`. */
interface Slab {
  readonly lines: Uint8Array;
  at: number;
  count: number;
}

const VACANT_SLAB: Slab = { lines: new Uint8Array(0), at: 0, count: 0 };

/** A run sent and not wholly known decided. */
interface OutRun {
  readonly first: number;
  readonly count: number;
  readonly lines: Uint8Array;
  readonly firstSentAtMs: number;
  sentAtMs: number;
  /** Values of the run not known decided. */
  unacked: number;
  /** Per value, 1 once known decided; only made when part of the run is acked. */
  acked: Uint8Array | undefined;
}

/** A run a 2B said was placed in (instance, round), and the acceptors that voted for it there. */
interface Placement {
  readonly vRnd: number;
  readonly nonce: number;
  readonly first: number;
  readonly count: number;
  readonly voters: number[];
}

/**
 * Client: numbers each value (client id, seq), submits values in order in runs of consecutive
 * seqs, with a bounded window of undecided ones, and resends them until it knows them decided:
 * from a majority of 2Bs for a round whose 2A placed them (three message delays), or from a
 * proposer's Ack.
 */
export class Client implements Role {
  private readonly queue = new HeadQueue<Slab>(VACANT_SLAB);
  private unsent = 0;
  /** Runs sent and not wholly acked, by first seq, in the order they were (re)sent. */
  private readonly out = new Map<number, OutRun>();
  /** The first seqs of `out` in increasing order (some may be gone: dropped lazily from the front). */
  private readonly outFirsts = new HeadQueue<number>();
  private unacked = 0;
  private nextSeq: number;
  /** Every seq below this is acked (decided): the floor new runs carry. */
  private ackedBelow: number;
  private srttMs: number | undefined;
  private rttvarMs = 0;
  private rtoMs: number;
  private fillDue = false;
  /** Per instance, the runs of this client placed there, as 2Bs report them. */
  private readonly placed = new Map<number, Placement[]>();
  private readonly acceptorIds: AcceptorIdentities;
  private readonly gossip: ConfigGossip;
  /** Placements were rechecked for instances up to here (their configuration became known). */
  private placementsCheckedTo: number;

  constructor(readonly opts: ClientOptions) {
    this.nextSeq = opts.seqBase;
    this.ackedBelow = opts.seqBase;
    this.rtoMs = opts.retransmitMs;
    this.acceptorIds = new AcceptorIdentities(false);
    this.gossip = new ConfigGossip(opts.acceptors, "clients", () => 0, opts.reconfigAlpha);
    this.placementsCheckedTo = this.gossip.history.horizon;
  }

  /** The configuration history this client knows (what decides its placements). */
  get config(): ConfigHistory {
    return this.gossip.history;
  }

  stamp(): ConfigStamp {
    return this.gossip.history.stamp;
  }

  /** Values accepted by `submit` and not yet decided. */
  get undecided(): number {
    return this.unsent + this.unacked;
  }

  /** The seq the next submitted value will get. */
  get seqNext(): number {
    return this.nextSeq + this.unsent;
  }

  /** For metrics: values sent for the first time, and resends. */
  readonly counters = { submitted: 0, retransmitted: 0 };

  /** The retransmission timeout in force. */
  get retransmitTimeoutMs(): number {
    return this.rtoMs;
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    this.gossip.onInput(input, nowMs, fx);
    if (input.kind === "tick") {
      this.resendStale(nowMs, fx);
      this.askConfig(nowMs, fx);
    }
    else if (input.kind === "submit") {
      if (input.count > 0) {
        this.queue.push({ lines: input.lines, at: 0, count: input.count });
        this.unsent += input.count;
      }
      this.fill(nowMs, fx);
    } else if (input.msg.t === "ack") {
      const r = input.msg.ranges;
      let sampleMs = -1;
      for (let i = 0; i + 2 < r.length; i += 3) {
        if (r[i] === this.opts.id) sampleMs = Math.max(sampleMs, this.ackRange(r[i + 1]!, r[i + 2]!, nowMs, fx));
      }
      this.afterAcks(sampleMs, nowMs, fx);
    } else if (input.msg.t === "2b") this.on2B(input.msg, nowMs, fx);
    this.recheckPlacements(nowMs, fx);
    this.requestWake(fx);
    return fx;
  }

  /** Placements in instances whose configuration became known: those a quorum voted for are decided. */
  private recheckPlacements(nowMs: number, fx: Effects): void {
    const horizon = this.config.horizon;
    if (horizon <= this.placementsCheckedTo) return;
    const from = this.placementsCheckedTo;
    this.placementsCheckedTo = horizon;
    if (this.placed.size === 0) return; // most steps move the horizon: nothing to look at then
    // The instances of [from, horizon) with placements, looked up by number while that is cheaper.
    const insts: number[] = [];
    if (horizon - from <= this.placed.size) {
      for (let i = from; i < horizon; i++) if (this.placed.has(i)) insts.push(i);
    } else for (const inst of this.placed.keys()) if (inst >= from && inst < horizon) insts.push(inst);
    if (insts.length === 0) return;
    let sampleMs = -1;
    for (const inst of insts) {
      const list = this.placed.get(inst);
      if (list === undefined) continue;
      for (const p of [...list]) {
        if (this.config.isQuorum(inst, p.voters) !== true) continue;
        this.dropPlacement(inst, p);
        sampleMs = Math.max(sampleMs, this.ackRange(p.first, p.count, nowMs, fx));
      }
    }
    this.afterAcks(sampleMs, nowMs, fx);
  }

  /** The end of a burst of inputs: the room its acks made is filled, in as few Submits as hold it (gather). */
  flush(nowMs: number): Effects {
    if (!this.fillDue) return NO_EFFECTS;
    const fx = new Effects();
    this.fillDue = false;
    this.fill(nowMs, fx);
    this.requestWake(fx);
    return fx;
  }

  /**
   * What always holds between steps (see Role.invariants). Linear in the runs in flight, their
   * values, the placements kept and the lines queued.
   */
  invariants(): void {
    const o = this.opts;
    // `fill` sends only while the window has room, and no more than the room.
    assert(this.unacked >= 0 && this.unacked <= o.outstandingMax, "a client's values in flight stay within its window");
    assert(this.unsent >= 0, "a client never sends more values than it was given");
    // Seqs are given in order from seqBase; acks only move the acked prefix up, to the first seq not known decided.
    assert(o.seqBase <= this.ackedBelow && this.ackedBelow <= this.nextSeq, "a client's acked prefix lies within the seqs it sent");
    assert(this.unacked <= this.nextSeq - this.ackedBelow, "a client's values in flight lie between its acked prefix and its next seq");
    this.outInvariants();
    this.queueInvariants();
    this.placementInvariants();
    // noteLatency clamps the timeout to [retransmitMinMs, retransmitMs] (retransmitMs wins if lower).
    assert(this.rtoMs <= o.retransmitMs && this.rtoMs >= Math.min(o.retransmitMinMs, o.retransmitMs), "a client's retransmission timeout stays within its bounds");
    assert(!this.fillDue || o.gather === true, "only a gathering client defers filling its window to the end of the turn");
  }

  /**
   * The runs in flight: each has values not known decided (a run wholly acked is dropped), their
   * sum is `unacked`, and the lowest of them is where the acked prefix ends.
   */
  private outInvariants(): void {
    let unacked = 0;
    let lowest = this.nextSeq;
    for (const [first, run] of this.out) {
      assert(run.first === first && run.count > 0 && first + run.count <= this.nextSeq, "a run in flight is one the client sent");
      assert(run.unacked > 0 && run.unacked <= run.count, "a run in flight has values not known decided, and no more than it holds");
      let k = 0;
      if (run.acked === undefined) assert(run.unacked === run.count, "a run with no part acked has every value in flight");
      else {
        assert(run.acked.length === run.count && run.unacked === run.count - run.acked.reduce((sum, a) => sum + a, 0), "a run counts exactly the values of it not acked");
        while (run.acked[k] === 1) k++;
      }
      lowest = Math.min(lowest, first + k);
      unacked += run.unacked;
    }
    assert(unacked === this.unacked, "a client's values in flight are those of its runs in flight");
    // advanceAckedBelow runs after every step that acks something, and sending adds runs above it.
    assert(this.ackedBelow === lowest, "a client's acked prefix ends at its first value not known decided");
    let live = 0;
    for (let i = 0; i < this.outFirsts.length; i++) {
      assert(i === 0 || this.outFirsts.at(i - 1) < this.outFirsts.at(i), "a client's runs in flight are indexed in increasing order");
      if (this.out.has(this.outFirsts.at(i))) live++;
    }
    assert(live === this.out.size, "every run in flight is indexed");
  }

  /** Lines given and not sent: `unsent` of them, in slabs that each have some (an empty one is dropped). */
  private queueInvariants(): void {
    let unsent = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const slab = this.queue.at(i);
      assert(slab.count > 0 && slab.at < slab.lines.length, "a slab of lines queued has lines left");
      unsent += slab.count;
    }
    assert(unsent === this.unsent, "a client's values not sent are the lines it queued");
  }

  /** Placements: bounded, and each short of a majority (a majority acks its run and drops it). */
  private placementInvariants(): void {
    assert(this.placed.size <= 2 * this.opts.outstandingMax + 64, "a client keeps a bounded number of placements");
    assert(this.placementsCheckedTo === this.config.horizon, "a client rechecked its placements as far as it knows configurations");
    for (const [inst, list] of this.placed) {
      assert(list.length > 0, "a client keeps no empty list of placements");
      for (const p of list) {
        assert(this.config.isQuorum(inst, p.voters) !== true, "a placement a quorum voted for is acked and dropped");
        assert(new Set(p.voters).size === p.voters.length, "a placement counts each acceptor once");
      }
    }
  }

  private afterAcks(sampleMs: number, nowMs: number, fx: Effects): void {
    if (sampleMs >= 0) this.noteLatency(sampleMs);
    if (fx.acked.length === 0) return;
    this.advanceAckedBelow();
    if (this.opts.gather) this.fillDue = true;
    else this.fill(nowMs, fx);
  }

  /**
   * A 2B that passes on where its round placed runs: the runs of this client placed in an
   * instance it voted for gain that acceptor's vote; a majority of one round decides them.
   */
  private on2B(msg: Phase2B, nowMs: number, fx: Effects): void {
    if (msg.notify.length === 0) return;
    let mine: number[] | undefined;
    forEachNotified(msg.notify, (inst, client, first, count) => {
      if (client === this.opts.id && first + count > this.ackedBelow) (mine ??= []).push(inst, first, count);
    });
    if (mine === undefined || !this.acceptorIds.admit(msg.acc, msg.ident, nowMs, fx)) return;
    const voted = new Set(msg.insts);
    let sampleMs = -1;
    for (let k = 0; k < mine.length; k += 3) {
      const inst = mine[k]!;
      if (!voted.has(inst)) continue;
      const p = this.placement(inst, msg.vRnd, msg.nonce, mine[k + 1]!, mine[k + 2]!);
      if (p.voters.includes(msg.acc)) continue;
      p.voters.push(msg.acc);
      if (this.config.isQuorum(inst, p.voters) !== true) continue;
      this.dropPlacement(inst, p);
      sampleMs = Math.max(sampleMs, this.ackRange(p.first, p.count, nowMs, fx));
    }
    this.afterAcks(sampleMs, nowMs, fx);
  }

  private placement(inst: number, vRnd: number, nonce: number, first: number, count: number): Placement {
    let list = this.placed.get(inst);
    if (list === undefined) {
      // Bounded: placements that never reach a majority (a round that lost) are dropped oldest first.
      if (this.placed.size >= 2 * this.opts.outstandingMax + 64) this.placed.delete(this.placed.keys().next().value!);
      list = [];
      this.placed.set(inst, list);
    }
    for (const p of list) if (p.vRnd === vRnd && p.nonce === nonce && p.first === first && p.count === count) return p;
    const p: Placement = { vRnd, nonce, first, count, voters: [] };
    list.push(p);
    return p;
  }

  private dropPlacement(inst: number, p: Placement): void {
    const list = this.placed.get(inst)!;
    list.splice(list.indexOf(p), 1);
    if (list.length === 0) this.placed.delete(inst);
  }

  /**
   * Seqs [first, first + count) are decided: the runs they belong to learn it. Returns the
   * latency sample they give (Karn: only runs sent once), or -1.
   */
  private ackRange(first: number, count: number, nowMs: number, fx: Effects): number {
    const end = first + count;
    if (end <= this.ackedBelow) return -1; // a duplicate ack
    let sampleMs = -1;
    const exact = this.out.get(first);
    if (exact !== undefined && exact.count === count && exact.acked === undefined) {
      this.ackWhole(exact, fx);
      return exact.sentAtMs === exact.firstSentAtMs ? nowMs - exact.sentAtMs : -1;
    }
    // Runs overlapping [first, end): from the last one that starts at or below `first`.
    let k = this.outFirsts.lowerBound(first + 1, (x) => x) - 1;
    if (k < 0) k = 0;
    for (; k < this.outFirsts.length; k++) {
      const o = this.out.get(this.outFirsts.at(k));
      if (o === undefined) continue;
      if (o.first >= end) break;
      const s = Math.max(first, o.first);
      const e = Math.min(end, o.first + o.count);
      if (s >= e) continue;
      if (this.ackPart(o, s, e, fx) && o.sentAtMs === o.firstSentAtMs) sampleMs = Math.max(sampleMs, nowMs - o.sentAtMs);
    }
    return sampleMs;
  }

  private ackWhole(o: OutRun, fx: Effects): void {
    fx.ack({ first: o.first, count: o.count, sentAtMs: o.firstSentAtMs });
    this.unacked -= o.count;
    o.unacked = 0;
    this.out.delete(o.first);
  }

  /** Seqs [s, e) of run `o` are decided; true when some were not known so. */
  private ackPart(o: OutRun, s: number, e: number, fx: Effects): boolean {
    if (o.acked === undefined) {
      if (s === o.first && e === o.first + o.count) {
        this.ackWhole(o, fx);
        return true;
      }
      o.acked = new Uint8Array(o.count);
    }
    let any = false;
    let segment = -1;
    for (let seq = s; seq <= e; seq++) {
      const fresh = seq < e && o.acked[seq - o.first] === 0;
      if (fresh) {
        o.acked[seq - o.first] = 1;
        if (segment < 0) segment = seq;
      } else if (segment >= 0) {
        fx.ack({ first: segment, count: seq - segment, sentAtMs: o.firstSentAtMs });
        o.unacked -= seq - segment;
        this.unacked -= seq - segment;
        segment = -1;
        any = true;
      }
    }
    if (o.unacked === 0) this.out.delete(o.first);
    return any;
  }

  /** Every seq below the first one not known decided is acked. */
  private advanceAckedBelow(): void {
    while (this.outFirsts.length > 0 && !this.out.has(this.outFirsts.at(0))) this.outFirsts.dropFirst(1);
    if (this.outFirsts.length === 0) {
      this.ackedBelow = this.nextSeq;
      return;
    }
    const o = this.out.get(this.outFirsts.at(0))!;
    let k = 0;
    if (o.acked !== undefined) while (o.acked[k] === 1) k++;
    this.ackedBelow = o.first + k;
  }

  private requestWake(fx: Effects): void {
    const oldest = this.out.values().next();
    if (!oldest.done) fx.wakeAt(oldest.value.sentAtMs + this.rtoMs);
    if (this.opts.askConfigEveryMs !== undefined && this.asking) fx.wakeAt(this.askedAtMs + this.opts.askConfigEveryMs);
  }

  /** Numbers the values from `seq` on; only before any was submitted (`paxos reconfigure`: seq = the epoch a change replaces). */
  startSeqsAt(seq: number): void {
    assert(this.undecided === 0 && this.nextSeq === this.opts.seqBase && this.out.size === 0, "a client renumbers its values before it submits any");
    this.nextSeq = seq;
    this.ackedBelow = seq;
  }

  private askedAtMs = -Infinity;
  /** Asking for the history until `answered` (set by the runner: it may want a fresh answer again). */
  asking = true;

  /** Config answers heard, and the highest decided prefix they said. */
  get configAnswers(): { readonly count: number; readonly decidedBelow: number } {
    return { count: this.gossip.answers, decidedBelow: this.gossip.answeredDecidedBelow };
  }

  private askConfig(nowMs: number, fx: Effects): void {
    const every = this.opts.askConfigEveryMs;
    if (every === undefined || !this.asking || nowMs - this.askedAtMs < every) return;
    this.askedAtMs = nowMs;
    this.gossip.ask(fx);
    fx.wakeAt(nowMs + every);
  }

  /** Bytes of lines a run may carry so that it fits one batch whatever its count. */
  private linesBytesMax(first: number): number {
    const header = runHeaderBytes(this.opts.id, first, this.ackedBelow, UDP_PAYLOAD_BYTES_MAX, UDP_PAYLOAD_BYTES_MAX);
    return this.opts.batchBytesMax - BATCH_FRAMING_BYTES - header;
  }

  /** Sends new runs while the window has room, each as large as a batch holds. */
  private fill(nowMs: number, fx: Effects): void {
    while (this.unacked < this.opts.outstandingMax && this.unsent > 0) {
      const slab = this.queue.at(0);
      const first = this.nextSeq;
      const { count, end } = linesPrefix(slab.lines, slab.at, slab.lines.length, Math.min(slab.count, this.opts.outstandingMax - this.unacked), this.linesBytesMax(first));
      assert(count > 0, "a value read fits a batch alone (longer lines are refused when read)");
      const o: OutRun = { first, count, lines: slab.lines.subarray(slab.at, end), firstSentAtMs: nowMs, sentAtMs: nowMs, unacked: count, acked: undefined };
      slab.at = end;
      slab.count -= count;
      if (slab.count === 0) this.queue.shift();
      this.unsent -= count;
      this.nextSeq += count;
      this.unacked += count;
      this.out.set(first, o);
      this.outFirsts.push(first);
      this.counters.submitted += count;
      this.sendRun(first, count, o.lines, 0, o.lines.length, fx);
    }
  }

  private sendRun(first: number, count: number, lines: Uint8Array, start: number, end: number, fx: Effects): void {
    const floor = Math.min(this.ackedBelow, first);
    const b = new BatchBuilder(runBytes(this.opts.id, first, floor, count, end - start));
    b.add(this.opts.id, first, floor, count, lines, start, end);
    fx.send("proposers", { t: "submit", runs: b.finish(), via: 0 });
  }

  /** RFC 6298's estimator, one sample per ack message (the slowest run it acks). */
  private noteLatency(ms: number): void {
    if (this.srttMs === undefined) {
      this.srttMs = ms;
      this.rttvarMs = ms / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - ms);
      this.srttMs = 0.875 * this.srttMs + 0.125 * ms;
    }
    const rto = this.srttMs + 4 * this.rttvarMs;
    this.rtoMs = Math.min(this.opts.retransmitMs, Math.max(this.opts.retransmitMinMs, rto));
  }

  /** Resends the values of runs not acked within the timeout (the parts not known decided). */
  private resendStale(nowMs: number, fx: Effects): void {
    const stale: OutRun[] = [];
    for (const o of this.out.values()) {
      if (nowMs - o.sentAtMs < this.rtoMs) break; // insertion order = send order
      stale.push(o);
    }
    for (const o of stale) {
      this.out.delete(o.first);
      o.sentAtMs = nowMs;
      this.out.set(o.first, o);
      this.counters.retransmitted += o.unacked;
      if (o.acked === undefined) {
        this.sendRun(o.first, o.count, o.lines, 0, o.lines.length, fx);
        continue;
      }
      // The parts not acked, each a run.
      let at = 0;
      let k = 0;
      while (k < o.count) {
        if (o.acked[k] === 1) {
          at = skipLines(o.lines, at, 1);
          k++;
          continue;
        }
        const from = k;
        const start = at;
        while (k < o.count && o.acked[k] === 0) k++;
        at = skipLines(o.lines, at, k - from);
        this.sendRun(o.first + from, k - from, o.lines, start, at, fx);
      }
    }
  }
}
