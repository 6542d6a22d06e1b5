/**
 * An array consumed from its front: removing the first items only moves a head index, and the
 * consumed prefix is dropped in bulk when `worthCompacting` says so, so every operation is O(1)
 * amortized (Array.prototype.shift and slice are O(n) per call). Every queue of src/protocol
 * that is consumed from its front is one of these (a client's unsent values, a proposer's
 * waiting values, the seqs a learner or proposer saw per client, an acceptor's instances).
 */
const COMPACT_MIN = 1024;

/**
 * The one compaction rule: `waste` unused slots of an array of `total` are dropped (by copying
 * the rest) once they are over COMPACT_MIN and more than half of it, so that each copy is paid
 * for by as many removals before it.
 */
export function worthCompacting(waste: number, total: number): boolean {
  return waste > COMPACT_MIN && waste * 2 > total;
}

export class HeadQueue<T> {
  private items: T[] = [];
  private head = 0;

  /**
   * `vacant` is written into each consumed slot, so that a consumed item is not kept alive until
   * the next compaction (give one for items that hold memory; numbers need none).
   */
  constructor(private readonly vacant?: T) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** The i-th item from the front. */
  at(i: number): T {
    return this.items[this.head + i]!;
  }

  last(): T | undefined {
    return this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
  }

  push(x: T): void {
    this.items.push(x);
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.dropFirst(1);
    return x;
  }

  /** Removes the first `n` items. */
  dropFirst(n: number): void {
    const head = Math.min(this.items.length, this.head + n);
    if (this.vacant !== undefined) for (let k = this.head; k < head; k++) this.items[k] = this.vacant;
    this.head = head;
    if (this.head === this.items.length) this.clear();
    else if (worthCompacting(this.head, this.items.length)) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Replaces the contents. */
  reset(items: T[]): void {
    this.items = items;
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** The index of the first item not below `x`, for a queue sorted by `key` (binary search). */
  lowerBound(x: number, key: (item: T) => number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(this.items[mid]!) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }
}
