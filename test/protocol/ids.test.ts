import { describe, expect, test } from "bun:test";
import { FloorIdSet } from "../../src/protocol/ids.ts";

describe("FloorIdSet", () => {
  test("knows every seq below a client's floor without storing it, and stays bounded", () => {
    const s = new FloorIdSet();
    for (let seq = 0; seq < 100_000; seq++) expect(s.add(7, seq, Math.max(0, seq - 10))).toBe(true);
    expect(s.size).toBeLessThanOrEqual(11);
    expect(s.has(7, 5)).toBe(true); // below the floor: known
    expect(s.add(7, 5, 0)).toBe(false); // a duplicate, though no longer stored
    expect(s.add(7, 99_999, 0)).toBe(false);
    expect(s.has(7, 100_000)).toBe(false);
    expect(s.has(8, 0)).toBe(false); // clients are separate
  });
});
