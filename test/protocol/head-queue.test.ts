import { describe, expect, test } from "bun:test";
import { HeadQueue, worthCompacting } from "../../src/protocol/head-queue.ts";
import { ValueQueue } from "../../src/protocol/ids.ts";
import { val } from "./helpers.ts";

/** The backing array (to see compaction and vacant slots). */
const itemsOf = <T>(q: HeadQueue<T>): T[] => (q as unknown as { items: T[] }).items;

describe("HeadQueue", () => {
  test("a queue consumed from its front keeps its order through compactions", () => {
    const q = new HeadQueue<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 250; i++) expect(q.shift()).toBe(expected++);
      expect(q.length).toBe(next - expected);
      expect(q.at(0)).toBe(expected);
      expect(q.last()).toBe(next - 1);
      // The consumed prefix never outgrows the rule: at most COMPACT_MIN, or half of the array.
      const waste = itemsOf(q).length - q.length;
      expect(worthCompacting(waste, itemsOf(q).length)).toBe(false);
    }
    q.dropFirst(q.length + 5);
    expect([q.length, q.shift(), q.last(), itemsOf(q).length]).toEqual([0, undefined, undefined, 0]);
  });

  test("consumed slots hold the vacant value, so they keep nothing alive", () => {
    const vacant = new Uint8Array(0);
    const q = new HeadQueue<Uint8Array>(vacant);
    const big = [new Uint8Array(100), new Uint8Array(100), new Uint8Array(100)];
    for (const b of big) q.push(b);
    expect(q.shift()).toBe(big[0]!);
    q.dropFirst(1);
    expect(itemsOf(q).slice(0, 2)).toEqual([vacant, vacant]);
    expect(q.at(0)).toBe(big[2]!);
  });

  test("lowerBound finds the first item not below x, after the head", () => {
    const q = new HeadQueue<number>();
    for (const x of [1, 3, 5, 7, 9]) q.push(x);
    q.dropFirst(1);
    expect([0, 3, 4, 9, 10].map((x) => q.lowerBound(x, (y) => y))).toEqual([0, 0, 1, 3, 4]);
  });

  test("the compaction rule: over 1024 wasted slots and more than half", () => {
    expect(worthCompacting(1024, 1500)).toBe(false);
    expect(worthCompacting(1025, 2050)).toBe(false);
    expect(worthCompacting(1025, 2049)).toBe(true);
  });
});

describe("ValueQueue", () => {
  test("values removed out of order are skipped, and dropped in bulk when they pile up", () => {
    const q = new ValueQueue();
    for (let s = 0; s < 5000; s++) q.push(val(1, s), s);
    for (let s = 0; s < 5000; s += 2) q.delete(1, s); // a standing-by proposer: never takes
    expect(q.size).toBe(2500);
    const waiting: number[] = [];
    q.forEachOldest((v) => waiting.push(v.seq) < 3);
    expect(waiting).toEqual([1, 3, 5]);
    expect(q.oldest(() => false)).toEqual({ value: val(1, 1), heardAtMs: 1 });
    const taken = q.take((_, n) => n < 2, (v) => v.seq === 3);
    expect(taken.map((v) => v.seq)).toEqual([1, 5]);
    expect(q.oldest(() => false)?.heardAtMs).toBe(7);
    expect(q.has(1, 3)).toBe(false); // stale: dropped on the way
    expect(q.size).toBe(2497);
  });
});
