import { HeadQueue, worthCompacting } from "./head-queue.ts";
import type { Value } from "./messages.ts";

/** A set of value ids (client, seq). */
export class IdSet {
  private readonly byClient = new Map<number, Set<number>>();
  private count = 0;

  has(client: number, seq: number): boolean {
    return this.byClient.get(client)?.has(seq) ?? false;
  }

  /** Adds the id; false when it was already there. */
  add(client: number, seq: number): boolean {
    let seqs = this.byClient.get(client);
    if (seqs === undefined) {
      seqs = new Set();
      this.byClient.set(client, seqs);
    }
    if (seqs.has(seq)) return false;
    seqs.add(seq);
    this.count++;
    return true;
  }

  delete(client: number, seq: number): boolean {
    const seqs = this.byClient.get(client);
    if (seqs === undefined || !seqs.delete(seq)) return false;
    this.count--;
    if (seqs.size === 0) this.byClient.delete(client);
    return true;
  }

  clear(): void {
    this.byClient.clear();
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

/** What a consumed slot of a ValueQueue holds (so that it keeps no datagram alive). */
const VACANT: Value = { client: 0, seq: 0, floor: 0, data: new Uint8Array(0) };

/**
 * Client values waiting to be proposed, in arrival order, each id once, with the time each
 * arrived. Removal is lazy: a removed value stays in the queue until the front passes over it, so
 * every operation is O(1) amortized and needs no string keys.
 */
export class ValueQueue {
  /** Two queues in lockstep (a value and when it arrived): no object per value. */
  private readonly values = new HeadQueue<Value>(VACANT);
  private readonly heardAtMs = new HeadQueue<number>();
  /** Removed values still in `values`: dropped in bulk when they pile up. */
  private dead = 0;
  private readonly ids = new IdSet();

  get size(): number {
    return this.ids.size;
  }

  has(client: number, seq: number): boolean {
    return this.ids.has(client, seq);
  }

  /** Appends the value unless its id is queued already. */
  push(v: Value, nowMs: number): boolean {
    if (!this.ids.add(v.client, v.seq)) return false;
    this.values.push(v);
    this.heardAtMs.push(nowMs);
    return true;
  }

  delete(client: number, seq: number): void {
    if (!this.ids.delete(client, seq)) return;
    // A standing-by proposer never takes, so removed values would otherwise stay forever.
    if (worthCompacting(++this.dead, this.values.length)) this.dropRemoved();
  }

  /**
   * Removes and returns values from the front while `fits` accepts them; values that became
   * `stale` meanwhile are dropped on the way.
   */
  take(fits: (v: Value, taken: number) => boolean, stale: (v: Value) => boolean): Value[] {
    const out: Value[] = [];
    for (let v = this.front(stale); v !== undefined && fits(v, out.length); v = this.front(stale)) {
      this.dropFront();
      this.ids.delete(v.client, v.seq);
      out.push(v);
    }
    return out;
  }

  /**
   * The oldest value still waiting (dropping removed and `stale` ones from the front), and when
   * it arrived; undefined when none waits.
   */
  oldest(stale: (v: Value) => boolean): { value: Value; heardAtMs: number } | undefined {
    const value = this.front(stale);
    return value === undefined ? undefined : { value, heardAtMs: this.heardAtMs.at(0) };
  }

  /** Calls `fn` for the waiting values from the oldest, while it returns true. */
  forEachOldest(fn: (v: Value, heardAtMs: number) => boolean): void {
    for (let k = 0; k < this.values.length; k++) {
      const v = this.values.at(k);
      if (this.ids.has(v.client, v.seq) && !fn(v, this.heardAtMs.at(k))) return;
    }
  }

  private front(stale: (v: Value) => boolean): Value | undefined {
    while (this.values.length > 0) {
      const v = this.values.at(0);
      if (!this.ids.has(v.client, v.seq)) {
        this.dropFront(); // removed earlier
        if (this.dead > 0) this.dead--;
      } else if (stale(v)) {
        this.dropFront();
        this.ids.delete(v.client, v.seq);
      } else return v;
    }
    return undefined;
  }

  private dropFront(): void {
    this.values.dropFirst(1);
    this.heardAtMs.dropFirst(1);
  }

  /** Keeps only the values still queued (the removed ones are `dead`). */
  private dropRemoved(): void {
    const values: Value[] = [];
    const heard: number[] = [];
    for (let k = 0; k < this.values.length; k++) {
      const v = this.values.at(k);
      if (!this.ids.has(v.client, v.seq)) continue;
      values.push(v);
      heard.push(this.heardAtMs.at(k));
    }
    this.values.reset(values);
    this.heardAtMs.reset(heard);
    this.dead = 0;
  }
}

/** Per client: [client, floor, seqs seen above the floor]. */
export type IdsSnapshot = [number, number, number[]][];

interface ClientIds {
  /** Every seq below is known (decided, or delivered): from the floors values carry. */
  floor: number;
  readonly seen: Set<number>;
  /** `seen` in insertion order, to forget what falls below the floor in O(1) amortized. */
  readonly order: HeadQueue<number>;
}

/**
 * Ids known per client, in bounded memory: a floor below which every seq is known, and the seqs
 * seen at or above it. The floor rises as the seqs right above it arrive (clients number their
 * values 0, 1, 2, …), or when told (`raiseFloor`, for facts such as a client's acknowledged
 * prefix). Memory follows the clients' windows, not the number of values ever seen.
 */
export class FloorIdSet {
  private readonly byClient = new Map<number, ClientIds>();
  private count = 0;

  has(client: number, seq: number): boolean {
    const c = this.byClient.get(client);
    return c !== undefined && (seq < c.floor || c.seen.has(seq));
  }

  /** Records the id; false when it was known already. */
  add(client: number, seq: number): boolean {
    const c = this.client(client);
    if (seq < c.floor || c.seen.has(seq)) return false;
    c.seen.add(seq);
    c.order.push(seq);
    this.count++;
    let floor = c.floor;
    while (c.seen.has(floor)) floor++;
    this.raise(c, floor);
    return true;
  }

  /** Raises a client's floor: every seq below `floor` counts as known. */
  raiseFloor(client: number, floor: number): void {
    this.raise(this.client(client), floor);
  }

  /** Ids stored (at or above the floors). */
  get size(): number {
    return this.count;
  }

  /** Everything known, per client: its floor and the seqs seen above it (to persist). */
  snapshot(): IdsSnapshot {
    return [...this.byClient].map(([client, c]) => [client, c.floor, [...c.seen]]);
  }

  /** Adds what a snapshot knew. */
  restore(snapshot: IdsSnapshot): void {
    for (const [client, floor, seen] of snapshot) {
      this.raiseFloor(client, floor);
      for (const seq of seen) this.add(client, seq);
    }
  }

  private client(client: number): ClientIds {
    let c = this.byClient.get(client);
    if (c === undefined) {
      c = { floor: 0, seen: new Set(), order: new HeadQueue<number>() };
      this.byClient.set(client, c);
    }
    return c;
  }

  private raise(c: ClientIds, floor: number): void {
    if (floor <= c.floor) return;
    c.floor = floor;
    let k = 0;
    for (; k < c.order.length && c.order.at(k) < floor; k++) if (c.seen.delete(c.order.at(k))) this.count--;
    c.order.dropFirst(k);
  }
}
