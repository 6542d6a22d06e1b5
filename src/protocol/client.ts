import { Effects, type Input, type Role, type Value } from "./messages.ts";
import { valueWireBytes } from "./batch.ts";
import { HeadQueue } from "./head-queue.ts";
import { chunkBySize } from "./pack.ts";

export interface ClientOptions {
  /**
   * The client number values carry, with seqs from `seqBase` up. A restarted client must not
   * reuse ids of its earlier run (they would be taken for duplicates): the runtime makes the
   * number unique per run (see clientNumber in id-limits.ts).
   */
  readonly id: number;
  /** Values submitted and not yet known decided, at most. */
  readonly outstandingMax: number;
  readonly datagramBytesMax: number;
  /**
   * Resend a value not acked after this long, at most. The actual timeout adapts to the observed
   * latency as TCP's does (smoothed latency + 4 × its variation), between retransmitMinMs and this.
   */
  readonly retransmitMs: number;
  readonly retransmitMinMs: number;
  /** First sequence number. */
  readonly seqBase: number;
  /**
   * Send the values that acks make room for at `flush` (the end of the runtime's event-loop
   * turn), so that the acks of one burst open one Submit, not one each. Default false.
   */
  readonly gather?: boolean;
}

const EMPTY = new Uint8Array(0);

interface Outstanding {
  readonly value: Value;
  readonly firstSentAtMs: number;
  sentAtMs: number;
}

/**
 * Client: numbers each value (client id, seq), submits values in order with a bounded window of
 * undecided ones, and resends them until a proposer acks them as decided.
 */
export class Client implements Role {
  /** Values accepted by `submit` and not sent yet. */
  private readonly queue = new HeadQueue<Uint8Array>(EMPTY);
  private readonly outstanding = new Map<number, Outstanding>();
  private nextSeq: number;
  /** Every seq below this is acked (decided): the floor new values carry. */
  private ackedBelow: number;
  private srttMs: number | undefined;
  private rttvarMs = 0;
  private rtoMs: number;

  constructor(readonly opts: ClientOptions) {
    this.nextSeq = opts.seqBase;
    this.ackedBelow = opts.seqBase;
    this.rtoMs = opts.retransmitMs;
  }

  /** Values accepted by `submit` and not yet decided. */
  get undecided(): number {
    return this.queue.length + this.outstanding.size;
  }

  /** The seq the next submitted value will get. */
  get seqNext(): number {
    return this.nextSeq + this.queue.length;
  }

  /** Queues values for submission, in order; returns the seq of the first. */
  submit(datas: readonly Uint8Array[], nowMs: number): { seq: number; fx: Effects } {
    const seq = this.seqNext;
    for (const d of datas) this.queue.push(d);
    const fx = new Effects();
    this.fill(nowMs, fx);
    this.requestWake(fx);
    return { seq, fx };
  }

  step(input: Input, nowMs: number): Effects {
    const fx = new Effects();
    if (input.kind === "tick") this.resendStale(nowMs, fx);
    else if (input.msg.t === "ack") {
      const ids = input.msg.ids;
      let sampleMs = -1;
      for (let i = 0; i + 1 < ids.length; i += 2) {
        if (ids[i] !== this.opts.id) continue;
        const o = this.outstanding.get(ids[i + 1]!);
        if (o === undefined) continue; // a duplicate ack
        this.outstanding.delete(o.value.seq);
        fx.acked.push(o.value.seq);
        fx.ackedSentAtMs.push(o.firstSentAtMs);
        // Karn: only values sent once tell the latency.
        if (o.sentAtMs === o.firstSentAtMs) sampleMs = Math.max(sampleMs, nowMs - o.sentAtMs);
      }
      if (sampleMs >= 0) this.noteLatency(sampleMs);
      while (this.ackedBelow < this.nextSeq && !this.outstanding.has(this.ackedBelow)) this.ackedBelow++;
      if (fx.acked.length > 0) {
        if (this.opts.gather) this.fillDue = true;
        else this.fill(nowMs, fx);
      }
    }
    this.requestWake(fx);
    return fx;
  }

  private requestWake(fx: Effects): void {
    const oldest = this.outstanding.values().next();
    if (!oldest.done) fx.wakeAt(oldest.value.sentAtMs + this.rtoMs);
  }

  private fillDue = false;

  /** The end of a burst of inputs: the room its acks made is filled, in one Submit (gather). */
  flush(nowMs: number): Effects {
    const fx = new Effects();
    if (this.fillDue) {
      this.fillDue = false;
      this.fill(nowMs, fx);
      this.requestWake(fx);
    }
    return fx;
  }

  private fill(nowMs: number, fx: Effects): void {
    const fresh: Value[] = [];
    while (this.outstanding.size < this.opts.outstandingMax && this.queue.length > 0) {
      const data = this.queue.shift()!;
      const value: Value = { client: this.opts.id, seq: this.nextSeq++, floor: this.ackedBelow, data };
      this.outstanding.set(value.seq, { value, firstSentAtMs: nowMs, sentAtMs: nowMs });
      fresh.push(value);
    }
    this.counters.submitted += fresh.length;
    this.sendValues(fresh, fx);
  }

  /** For metrics: values sent for the first time, and resends. */
  readonly counters = { submitted: 0, retransmitted: 0 };

  /** The retransmission timeout in force. */
  get retransmitTimeoutMs(): number {
    return this.rtoMs;
  }

  /** RFC 6298's estimator, one sample per ack message (the slowest value it acks). */
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

  private resendStale(nowMs: number, fx: Effects): void {
    const stale: Outstanding[] = [];
    for (const o of this.outstanding.values()) {
      if (nowMs - o.sentAtMs < this.rtoMs) break; // insertion order = send order
      stale.push(o);
    }
    for (const o of stale) {
      this.outstanding.delete(o.value.seq);
      o.sentAtMs = nowMs;
      this.outstanding.set(o.value.seq, o);
    }
    this.counters.retransmitted += stale.length;
    this.sendValues(
      stale.map((o) => o.value),
      fx,
    );
  }

  private sendValues(values: Value[], fx: Effects): void {
    for (const chunk of chunkBySize(values, valueWireBytes, this.opts.datagramBytesMax)) {
      fx.send("proposers", { t: "submit", values: chunk, via: 0 });
    }
  }
}
