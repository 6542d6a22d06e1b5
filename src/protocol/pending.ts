/**
 * A proposer's client values: what it knows of each client (values decided, in flight in its
 * round, waiting) and the runs waiting to be proposed, in arrival order. Everything is by runs
 * and seq ranges: no object per value.
 */
import { assert } from "./assert.ts";
import { type Batch, type BatchBuilder, linesPrefix, runHeaderBytes, skipLines } from "./batch.ts";
import { HeadQueue, worthCompacting } from "./head-queue.ts";
import { FloorRanges, SeqRanges } from "./ids.ts";

/** What a proposer knows of one client's values. */
export class Book {
  /** Known decided (from decisions, the client's floors, and other proposers' acks). */
  readonly decided = new FloorRanges();
  /** Proposed in this proposer's round and not known decided. */
  readonly inflight = new SeqRanges();
  /** Waiting here to be proposed. */
  readonly pending = new SeqRanges();
  /** When the client itself last sent (or resent) a value; a forward says nothing of that. */
  heardAtMs = -Infinity;
  /** When a value of the client was last decided. */
  decidedAtMs = -Infinity;
}

/** A run waiting to be proposed: seqs [first, first + count), its lines `count` lines. */
export interface QueuedRun {
  readonly client: number;
  readonly first: number;
  readonly floor: number;
  readonly count: number;
  readonly lines: Uint8Array;
  readonly heardAtMs: number;
}

const VACANT: QueuedRun = { client: 0, first: 0, floor: 0, count: 0, lines: new Uint8Array(0), heardAtMs: 0 };

/** Parts of `parts` (flat start, end, …) not in `set`. */
function minus(parts: number[], set: SeqRanges): number[] {
  if (set.size === 0) return parts;
  const out: number[] = [];
  for (let k = 0; k < parts.length; k += 2) set.forEachGap(parts[k]!, parts[k + 1]!, (s, e) => out.push(s, e));
  return out;
}

/** The byte range of seqs [s, e) in the lines of a run that starts at `first`. */
function linesRange(lines: Uint8Array, first: number, count: number, s: number, e: number): [number, number] {
  const start = s === first ? 0 : skipLines(lines, 0, s - first);
  const end = e === first + count ? lines.length : skipLines(lines, start, e - s);
  return [start, end];
}

export class PendingValues {
  private readonly books = new Map<number, Book>();
  private readonly queue = new HeadQueue<QueuedRun>(VACANT);
  /** Values of the queued runs, waiting or not any more (decided, or taken by a takeover). */
  private queuedValues = 0;
  private pendingValues = 0;
  private inflightValues = 0;

  /** Values waiting to be proposed. */
  get size(): number {
    return this.pendingValues;
  }

  /** Values in flight in this proposer's round. */
  get inflight(): number {
    return this.inflightValues;
  }

  get clients(): number {
    return this.books.size;
  }

  book(client: number): Book {
    let b = this.books.get(client);
    if (b === undefined) {
      b = new Book();
      this.books.set(client, b);
    }
    return b;
  }

  peek(client: number): Book | undefined {
    return this.books.get(client);
  }

  isDecided(client: number, seq: number): boolean {
    return this.books.get(client)?.decided.has(seq) ?? false;
  }

  /**
   * A run from a Submit (`fromClient`: sent by the client itself, not forwarded). Parts known
   * decided go to `decided` (to be acked again: the ack was lost); parts neither decided, in
   * flight nor waiting are queued, as far as `limit` waiting values allow (the rest is dropped:
   * the client resends it).
   */
  offer(
    client: number,
    first: number,
    floor: number,
    count: number,
    lines: Uint8Array,
    nowMs: number,
    fromClient: boolean,
    limit: number,
    decided: (s: number, e: number) => void,
  ): void {
    const book = this.book(client);
    if (fromClient) book.heardAtMs = nowMs;
    const end = first + count;
    this.raiseFloor(book, floor); // the client knows everything below is decided
    book.decided.forEachKnown(first, end, decided);
    let parts: number[] = [];
    book.decided.forEachUnknown(first, end, (s, e) => parts.push(s, e));
    parts = minus(minus(parts, book.inflight), book.pending);
    for (let k = 0; k < parts.length && this.pendingValues < limit; k += 2) {
      const s = parts[k]!;
      const e = Math.min(parts[k + 1]!, s + limit - this.pendingValues);
      const [start, stop] = linesRange(lines, first, count, s, e);
      this.push(book, { client, first: s, floor, count: e - s, lines: start === 0 && stop === lines.length ? lines : lines.subarray(start, stop), heardAtMs: nowMs });
    }
  }

  private push(book: Book, q: QueuedRun): void {
    this.pendingValues += book.pending.add(q.first, q.first + q.count);
    this.queue.push(q);
    this.queuedValues += q.count;
  }

  /**
   * Fills `builder` with waiting values, oldest first, up to `valuesMax` values and its room (a
   * run is cut at a line when it does not fit whole); `onRun` hears each run added. The values
   * taken are in flight from now on.
   */
  take(builder: BatchBuilder, valuesMax: number, onRun: (client: number, first: number, count: number) => void): void {
    while (this.queue.length > 0 && builder.valueCount < valuesMax) {
      const q = this.queue.at(0);
      const book = this.books.get(q.client);
      const part = book?.pending.firstIn(q.first, q.first + q.count);
      if (part === undefined) {
        this.dropFront();
        continue;
      }
      const [s, e] = part;
      const [start, end] = linesRange(q.lines, q.first, q.count, s, e);
      const room = builder.room - runHeaderBytes(q.client, s, q.floor, e - s, end - start);
      const countMax = valuesMax - builder.valueCount;
      const fit = room >= end - start && e - s <= countMax ? { count: e - s, end } : linesPrefix(q.lines, start, end, countMax, room);
      if (fit.count === 0) break;
      builder.add(q.client, s, q.floor, fit.count, q.lines, start, fit.end);
      const taken = book!.pending.remove(s, s + fit.count);
      assert(taken === fit.count, "values taken from a queued run were waiting");
      this.pendingValues -= taken;
      this.inflightValues += book!.inflight.add(s, s + fit.count);
      onRun(q.client, s, fit.count);
      if (fit.count < e - s) break; // the batch is full
    }
  }

  /** The values of a batch are proposed again (a takeover re-proposes what acceptors voted): in flight, not waiting. */
  markInflight(batch: Batch): void {
    for (const c = batch.cursor(); c.next(); ) {
      const book = this.book(c.client);
      this.pendingValues -= book.pending.remove(c.first, c.end);
      this.inflightValues += book.inflight.add(c.first, c.end);
    }
  }

  /** A batch of this proposer lost its instance (or was given up): its values not known decided wait again. */
  requeue(batch: Batch, nowMs: number): void {
    for (const c = batch.cursor(); c.next(); ) {
      const book = this.books.get(c.client);
      if (book === undefined) continue;
      const parts: number[] = [];
      book.inflight.forEachIn(c.first, c.end, (s, e) => parts.push(s, e));
      for (let k = 0; k < parts.length; k += 2) {
        const s = parts[k]!;
        const e = parts[k + 1]!;
        this.inflightValues -= book.inflight.remove(s, e);
        const lines = c.lines;
        const [start, end] = linesRange(lines, c.first, c.count, s, e);
        this.push(book, { client: c.client, first: s, floor: c.floor, count: e - s, lines: lines.subarray(start, end), heardAtMs: nowMs });
      }
    }
  }

  /** Nothing is in flight any more (the proposer stood by after requeueing its batches). */
  clearInflight(): void {
    for (const book of this.books.values()) {
      this.inflightValues -= book.inflight.size;
      book.inflight.clear();
    }
    assert(this.inflightValues === 0, "in-flight values are counted");
  }

  /** Seqs [s, e) of `client` are decided: they neither wait nor fly any more. */
  decide(client: number, s: number, e: number, nowMs: number): void {
    const book = this.book(client);
    book.decided.add(s, e);
    book.decidedAtMs = nowMs;
    this.inflightValues -= book.inflight.remove(s, e);
    this.pendingValues -= book.pending.remove(s, e);
    this.compactIfWorth();
  }

  /** A fact: every seq of the client below `floor` is decided. */
  raiseFloor(book: Book, floor: number): void {
    if (floor <= book.decided.floor) return;
    book.decided.raiseFloor(floor);
    this.inflightValues -= book.inflight.remove(0, floor);
    this.pendingValues -= book.pending.remove(0, floor);
  }

  /**
   * The oldest run with values still waiting that are not `stale` (stale ones are dropped on the
   * way: their values wait no more), or undefined.
   */
  oldest(stale: (q: QueuedRun, book: Book) => boolean): QueuedRun | undefined {
    while (this.queue.length > 0) {
      const q = this.queue.at(0);
      const book = this.books.get(q.client);
      if (book === undefined || book.pending.firstIn(q.first, q.first + q.count) === undefined) {
        this.dropFront();
      } else if (stale(q, book)) {
        this.pendingValues -= book.pending.remove(q.first, q.first + q.count);
        this.dropFront();
      } else return q;
    }
    return undefined;
  }

  /** Calls `fn` with each run that has values waiting, oldest first (and the seqs waiting in it), while it returns true. */
  forEachOldest(fn: (q: QueuedRun, book: Book, waiting: SeqRanges) => boolean): void {
    for (let k = 0; k < this.queue.length; k++) {
      const q = this.queue.at(k);
      const book = this.books.get(q.client);
      if (book === undefined || book.pending.firstIn(q.first, q.first + q.count) === undefined) continue;
      if (!fn(q, book, book.pending)) return;
    }
  }

  /** Bounded memory: clients with nothing waiting or in flight, idle for `idleMs`, are forgotten. */
  forgetIdle(nowMs: number, idleMs: number): void {
    for (const [client, b] of this.books) {
      if (b.pending.size === 0 && b.inflight.size === 0 && nowMs - Math.max(b.heardAtMs, b.decidedAtMs) > idleMs) this.books.delete(client);
    }
  }

  private dropFront(): void {
    this.queuedValues -= this.queue.at(0).count;
    this.queue.dropFirst(1);
  }

  /** Queued runs whose values all stopped waiting are dropped in bulk once they pile up (a standby never takes). */
  private compactIfWorth(): void {
    if (!worthCompacting(this.queuedValues - this.pendingValues, this.queuedValues)) return;
    const keep: QueuedRun[] = [];
    let values = 0;
    for (let k = 0; k < this.queue.length; k++) {
      const q = this.queue.at(k);
      if (this.books.get(q.client)?.pending.firstIn(q.first, q.first + q.count) === undefined) continue;
      keep.push(q);
      values += q.count;
    }
    this.queue.reset(keep);
    this.queuedValues = values;
  }
}
