import { describe, expect, test } from "bun:test";
import { HeadQueue, worthCompacting } from "../../src/protocol/head-queue.ts";
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
