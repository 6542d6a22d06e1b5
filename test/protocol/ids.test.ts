import { describe, expect, test } from "bun:test";
import { FloorIdSet } from "../../src/protocol/ids.ts";

describe("FloorIdSet", () => {
  test("keeps only the seqs above the contiguous prefix it has seen, per client", () => {
    const s = new FloorIdSet();
    for (let seq = 0; seq < 100_000; seq++) expect(s.add(7, seq)).toBe(true);
    expect(s.size).toBe(0); // all of 0..99999 below the floor: none stored
    expect(s.add(7, 5)).toBe(false);
    expect(s.add(7, 100_002)).toBe(true); // out of order: stored
    expect(s.has(7, 100_001)).toBe(false);
    expect(s.add(7, 100_001)).toBe(true);
    expect(s.add(7, 100_000)).toBe(true);
    expect(s.size).toBe(0);
    expect(s.has(8, 0)).toBe(false); // clients are separate
  });

  test("a floor it is told (a known fact) covers seqs it never saw", () => {
    const s = new FloorIdSet();
    s.raiseFloor(3, 50);
    expect(s.has(3, 49)).toBe(true);
    expect(s.add(3, 10)).toBe(false);
    expect(s.add(3, 50)).toBe(true);
  });
});

import { Batch, packValues, scanPacked, valueWireBytes } from "../../src/protocol/batch.ts";
import { varintBytes, writeVarint } from "../../src/protocol/varint.ts";
import { val } from "./helpers.ts";

describe("Batch.forEachId", () => {
  test("reads the same ids and floors from values and from packed bytes", () => {
    const values = [val(1, 0), { ...val(2, 300, "x".repeat(200)), floor: 250 }, val(4294967295, Number.MAX_SAFE_INTEGER, "")];
    const packed = packValues(values);
    const fromPacked: number[][] = [];
    Batch.fromPacked(packed, scanPacked(packed)!).forEachId((c, s, f) => fromPacked.push([c, s, f]));
    const fromValues: number[][] = [];
    Batch.of(values).forEachId((c, s, f) => fromValues.push([c, s, f]));
    expect(fromPacked).toEqual(values.map((v) => [v.client, v.seq, v.floor]));
    expect(fromValues).toEqual(fromPacked);
  });
});

describe("packed sizes", () => {
  test("valueWireBytes is the exact packed size, for small and large ids", () => {
    const values = [val(1, 0), { ...val(0xffff_ffff, 2 ** 40, "x".repeat(300)), floor: 2 ** 39 }, { ...val(77, 200_000, ""), floor: 199_000 }];
    for (const v of values) expect(valueWireBytes(v)).toBe(packValues([v]).length);
    expect(values.reduce((n, v) => n + valueWireBytes(v), 0)).toBe(packValues(values).length);
  });

  test("varintBytes agrees with writeVarint at every boundary", () => {
    const buf = new Uint8Array(16);
    for (let k = 0; k <= 53; k++) {
      for (const x of [2 ** k - 1, 2 ** k, Math.min(2 ** k + 1, Number.MAX_SAFE_INTEGER)]) expect([x, varintBytes(x)]).toEqual([x, writeVarint(buf, 0, x)]);
    }
  });
});
