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

/**
 * Client values waiting to be proposed, in arrival order, each id once. Removal is lazy: a
 * removed value stays in the queue until `take` passes over it, so every operation is O(1)
 * amortized and needs no string keys.
 */
export class ValueQueue {
  private queue: Value[] = [];
  private head = 0;
  private readonly ids = new IdSet();

  get size(): number {
    return this.ids.size;
  }

  has(v: Value): boolean {
    return this.ids.has(v.client, v.seq);
  }

  /** Appends the value unless its id is queued already. */
  push(v: Value): boolean {
    if (!this.ids.add(v.client, v.seq)) return false;
    this.queue.push(v);
    return true;
  }

  delete(v: Value): void {
    this.ids.delete(v.client, v.seq);
  }

  /** Removes and returns values from the front while `fits` accepts them. */
  take(fits: (v: Value, taken: number) => boolean): Value[] {
    const out: Value[] = [];
    while (this.head < this.queue.length) {
      const v = this.queue[this.head]!;
      if (!this.ids.has(v.client, v.seq)) {
        this.head++; // removed earlier
        continue;
      }
      if (!fits(v, out.length)) break;
      this.head++;
      this.ids.delete(v.client, v.seq);
      out.push(v);
    }
    this.compact();
    return out;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
