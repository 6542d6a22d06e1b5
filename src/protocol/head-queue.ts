/**
 * An array consumed from its front: removing the first items only moves a head index, and the
 * consumed prefix is dropped in bulk once it is both over COMPACT_MIN and half the array, so
 * every operation is O(1) amortized (Array.prototype.shift and slice are O(n) per call).
 */
const COMPACT_MIN = 1024;

export class HeadQueue<T> {
  private items: T[] = [];
  private head = 0;

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

  /** Removes the first `n` items. */
  dropFirst(n: number): void {
    this.head = Math.min(this.items.length, this.head + n);
    if (this.head === this.items.length) this.clear();
    else if (this.head > COMPACT_MIN && this.head * 2 > this.items.length) {
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
