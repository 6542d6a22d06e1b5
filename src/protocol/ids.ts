/**
 * Value ids in bulk. A value's id is (client, seq); clients number their values 0, 1, 2, … and
 * send them in runs of consecutive seqs, so every set of ids here is, per client, a few ranges of
 * seqs, not one entry per value.
 */

/** A set of seqs: sorted, disjoint, non-adjacent ranges [start, end), in one flat array. */
export class SeqRanges {
  /** start0, end0, start1, end1, … */
  private r: number[] = [];
  private count = 0;

  /** Seqs in the set. */
  get size(): number {
    return this.count;
  }

  /** Number of ranges. */
  get ranges(): number {
    return this.r.length / 2;
  }

  /** The lowest seq, or undefined when empty. */
  get lowest(): number | undefined {
    return this.r[0];
  }

  /** The end of the lowest range, or undefined when empty. */
  get lowestEnd(): number | undefined {
    return this.r[1];
  }

  /** The index (even) of the first range whose end is above `seq`. */
  private find(seq: number): number {
    const r = this.r;
    // Most calls are about the newest seqs: try the last range first.
    const n = r.length;
    if (n === 0 || r[n - 1]! <= seq) return n;
    let lo = 0;
    let hi = n / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[2 * mid + 1]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return 2 * lo;
  }

  has(seq: number): boolean {
    const k = this.find(seq);
    return k < this.r.length && this.r[k]! <= seq;
  }

  /** Whether every seq of [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    if (start >= end) return true;
    const k = this.find(start);
    return k < this.r.length && this.r[k]! <= start && this.r[k + 1]! >= end;
  }

  /** Adds [start, end); returns how many seqs were not in the set. */
  add(start: number, end: number): number {
    if (start >= end) return 0;
    const r = this.r;
    const n = r.length;
    // The common case: at or after the end of the last range.
    if (n === 0 || r[n - 1]! < start) {
      r.push(start, end);
      this.count += end - start;
      return end - start;
    }
    if (r[n - 1]! === start) {
      r[n - 1] = end;
      this.count += end - start;
      return end - start;
    }
    // First range ending at or after `start` (touching ranges merge), last starting at or before `end`.
    const i = this.find(start - 1); // touching ranges merge
    let j = i;
    let covered = 0;
    let s = start;
    let e = end;
    while (j < n && r[j]! <= end) {
      covered += Math.min(r[j + 1]!, end) - Math.max(r[j]!, start);
      s = Math.min(s, r[j]!);
      e = Math.max(e, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, s, e);
    const added = end - start - covered;
    this.count += added;
    return added;
  }

  /** Removes [start, end); returns how many seqs were in the set. */
  remove(start: number, end: number): number {
    if (start >= end || this.r.length === 0) return 0;
    const r = this.r;
    const i = this.find(start);
    let removed = 0;
    const keep: number[] = [];
    let j = i;
    while (j < r.length && r[j]! < end) {
      const s = r[j]!;
      const e = r[j + 1]!;
      removed += Math.min(e, end) - Math.max(s, start);
      if (s < start) keep.push(s, start);
      if (e > end) keep.push(end, e);
      j += 2;
    }
    if (j === i) return 0;
    r.splice(i, j - i, ...keep);
    this.count -= removed;
    return removed;
  }

  /** Calls `fn` for each part of [start, end) in the set, in order. */
  forEachIn(start: number, end: number, fn: (s: number, e: number) => void): void {
    const r = this.r;
    for (let k = this.find(start); k < r.length && r[k]! < end; k += 2) fn(Math.max(r[k]!, start), Math.min(r[k + 1]!, end));
  }

  /** The first part of [start, end) in the set, or undefined. */
  firstIn(start: number, end: number): [number, number] | undefined {
    const r = this.r;
    const k = this.find(start);
    return k < r.length && r[k]! < end ? [Math.max(r[k]!, start), Math.min(r[k + 1]!, end)] : undefined;
  }

  /** Calls `fn` for each part of [start, end) not in the set, in order. */
  forEachGap(start: number, end: number, fn: (s: number, e: number) => void): void {
    const r = this.r;
    let at = start;
    for (let k = this.find(start); k < r.length && r[k]! < end; k += 2) {
      if (r[k]! > at) fn(at, r[k]!);
      at = r[k + 1]!;
    }
    if (at < end) fn(at, end);
  }

  /** Drops every seq below `seq`. */
  dropBelow(seq: number): void {
    const r = this.r;
    let k = 0;
    while (k < r.length && r[k + 1]! <= seq) {
      this.count -= r[k + 1]! - r[k]!;
      k += 2;
    }
    if (k > 0) r.splice(0, k);
    if (r.length > 0 && r[0]! < seq) {
      this.count -= seq - r[0]!;
      r[0] = seq;
    }
  }

  clear(): void {
    this.r = [];
    this.count = 0;
  }

  /** The ranges, flat (start, end, …). */
  toArray(): number[] {
    return this.r.slice();
  }
}

/**
 * The seqs of one client known so far: every seq below `floor`, and the ranges above it. The
 * floor rises over the ranges right above it (clients number their values 0, 1, 2, …) or when
 * told (`raiseFloor`), so memory follows the client's window, not the values ever seen.
 */
export class FloorRanges {
  floor = 0;
  readonly above = new SeqRanges();

  has(seq: number): boolean {
    return seq < this.floor || this.above.has(seq);
  }

  /** Whether every seq of [start, end) is known. */
  covers(start: number, end: number): boolean {
    return end <= this.floor || this.above.covers(Math.max(start, this.floor), end);
  }

  /** Adds [start, end); `fn` (if given) gets each part that was not known, in order. Returns how many were new. */
  add(start: number, end: number, fn?: (s: number, e: number) => void): number {
    const s = Math.max(start, this.floor);
    if (s >= end) return 0;
    if (s === this.floor && this.above.size === 0) {
      // The common case: the run right after the floor.
      fn?.(s, end);
      this.floor = end;
      return end - s;
    }
    if (fn !== undefined) this.above.forEachGap(s, end, fn);
    const added = this.above.add(s, end);
    this.mergeFloor();
    return added;
  }

  /** Every seq below `floor` counts as known. */
  raiseFloor(floor: number): void {
    if (floor <= this.floor) return;
    this.floor = floor;
    this.above.dropBelow(floor);
    this.mergeFloor();
  }

  /** Calls `fn` for each part of [start, end) known, in order. */
  forEachKnown(start: number, end: number, fn: (s: number, e: number) => void): void {
    if (start < this.floor) fn(start, Math.min(end, this.floor));
    if (end > this.floor) this.above.forEachIn(Math.max(start, this.floor), end, fn);
  }

  /** Calls `fn` for each part of [start, end) not known. */
  forEachUnknown(start: number, end: number, fn: (s: number, e: number) => void): void {
    const s = Math.max(start, this.floor);
    if (s < end) this.above.forEachGap(s, end, fn);
  }

  private mergeFloor(): void {
    const low = this.above.lowest;
    if (low === undefined || low > this.floor) return;
    // The first range starts at the floor: it joins the prefix.
    this.floor = this.above.lowestEnd!;
    this.above.dropBelow(this.floor);
  }
}

/** Per client: [client, floor, ranges above the floor (flat start, end, …)]. */
export type IdsSnapshot = [number, number, number[]][];

/** FloorRanges per client. */
export class ClientIds {
  private readonly byClient = new Map<number, FloorRanges>();

  get clients(): number {
    return this.byClient.size;
  }

  of(client: number): FloorRanges {
    let c = this.byClient.get(client);
    if (c === undefined) {
      c = new FloorRanges();
      this.byClient.set(client, c);
    }
    return c;
  }

  peek(client: number): FloorRanges | undefined {
    return this.byClient.get(client);
  }

  has(client: number, seq: number): boolean {
    return this.byClient.get(client)?.has(seq) ?? false;
  }

  forget(client: number): void {
    this.byClient.delete(client);
  }

  snapshot(): IdsSnapshot {
    return [...this.byClient].map(([client, c]) => [client, c.floor, c.above.toArray()]);
  }

  restore(snapshot: IdsSnapshot): void {
    for (const [client, floor, ranges] of snapshot) {
      const c = this.of(client);
      c.raiseFloor(floor);
      for (let k = 0; k + 1 < ranges.length; k += 2) c.add(ranges[k]!, ranges[k + 1]!);
    }
  }
}
