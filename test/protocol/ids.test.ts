import { describe, expect, test } from "bun:test";
import { BatchBuilder, Batch, linesOf, linesPrefix, runBytes, scanRuns, skipLines, splitLines } from "../../src/protocol/batch.ts";
import { ClientIds, FloorRanges, SeqRanges } from "../../src/protocol/ids.ts";
import { PendingValues } from "../../src/protocol/pending.ts";
import { varintBytes, writeVarint } from "../../src/protocol/varint.ts";
import { val } from "./helpers.ts";
import { batchOf, runsOf, valuesOf } from "./values.ts";

const enc = new TextEncoder();

describe("SeqRanges", () => {
  test("agrees with a set of seqs under random adds, removes and drops", () => {
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const s = new SeqRanges();
      const m = new Set<number>();
      for (let op = 0; op < 30; op++) {
        const a = rnd(60);
        const b = a + rnd(10);
        const kind = rnd(3);
        if (kind === 0) {
          let n = 0;
          for (let x = a; x < b; x++) if (!m.has(x) && m.add(x)) n++;
          expect(s.add(a, b)).toBe(n);
        } else if (kind === 1) {
          let n = 0;
          for (let x = a; x < b; x++) if (m.delete(x)) n++;
          expect(s.remove(a, b)).toBe(n);
        } else {
          const f = rnd(40);
          for (const x of [...m]) if (x < f) m.delete(x);
          s.dropBelow(f);
        }
        expect(s.size).toBe(m.size);
        for (let x = 0; x < 75; x++) expect(s.has(x)).toBe(m.has(x));
        const flat = s.toArray();
        for (let k = 0; k + 2 < flat.length; k += 2) expect(flat[k + 1]! < flat[k + 2]!).toBe(true); // disjoint, not touching
        const gaps: number[] = [];
        s.forEachGap(10, 50, (x, y) => {
          for (let i = x; i < y; i++) gaps.push(i);
        });
        const inside: number[] = [];
        s.forEachIn(10, 50, (x, y) => {
          for (let i = x; i < y; i++) inside.push(i);
        });
        for (let x = 10; x < 50; x++) expect([gaps.includes(x), inside.includes(x)]).toEqual([!m.has(x), m.has(x)]);
        const c0 = rnd(60);
        const c1 = c0 + rnd(8);
        let covered = true;
        for (let x = c0; x < c1; x++) if (!m.has(x)) covered = false;
        expect(s.covers(c0, c1)).toBe(covered);
      }
    }
  });
});

describe("FloorRanges and ClientIds", () => {
  test("keep only the seqs above the contiguous prefix seen, per client", () => {
    const ids = new ClientIds();
    const c = ids.of(7);
    for (let seq = 0; seq < 100_000; seq += 100) expect(c.add(seq, seq + 100)).toBe(100);
    expect([c.floor, c.above.size]).toEqual([100_000, 0]); // nothing stored above the floor
    expect(c.add(5, 6)).toBe(0);
    const parts: number[][] = [];
    expect(c.add(100_002, 100_005, (s, e) => parts.push([s, e]))).toBe(3); // out of order: stored
    expect(ids.has(7, 100_001)).toBe(false);
    expect(c.add(99_999, 100_010, (s, e) => parts.push([s, e]))).toBe(7);
    expect(parts).toEqual([[100_002, 100_005], [100_000, 100_002], [100_005, 100_010]]);
    expect([c.floor, c.above.size]).toEqual([100_010, 0]);
    expect(ids.has(8, 0)).toBe(false); // clients are separate
  });

  test("a floor it is told (a known fact) covers seqs it never saw", () => {
    const c = new FloorRanges();
    c.add(60, 70);
    c.raiseFloor(50);
    expect([c.has(49), c.has(55), c.has(65)]).toEqual([true, false, true]);
    expect(c.add(10, 12)).toBe(0);
    c.raiseFloor(60);
    expect(c.floor).toBe(70); // the range right above joins the prefix
  });

  test("snapshot and restore keep every known seq", () => {
    const a = new ClientIds();
    a.of(1).add(0, 10);
    a.of(1).add(20, 25);
    a.of(2).raiseFloor(7);
    const b = new ClientIds();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (const [client, seq] of [[1, 9], [1, 10], [1, 22], [1, 25], [2, 6], [2, 7]] as const) expect(b.has(client, seq)).toBe(a.has(client, seq));
  });
});

describe("runs", () => {
  test("a batch of values packs consecutive seqs of a client in one run and unpacks them again", () => {
    const values = [val(1, 0), val(1, 1), { ...val(2, 300, "x".repeat(200)), floor: 250 }, val(1, 5), val(4294967295, Number.MAX_SAFE_INTEGER, "")];
    const batch = batchOf(values);
    expect(batch.runs).toBe(4);
    expect(batch.length).toBe(5);
    expect(valuesOf(batch)).toEqual(values);
    expect(scanRuns(batch.packed)).toEqual({ runs: 4, values: 5 });
  });

  test("runBytes is the exact packed size, for small and large ids", () => {
    for (const v of [val(1, 0), { ...val(0xffff_ffff, 2 ** 40, "x".repeat(300)), floor: 2 ** 39 }, { ...val(77, 200_000, ""), floor: 199_000 }]) {
      const [run] = runsOf([v]);
      expect(runBytes(run!.client, run!.first, run!.floor, run!.count, run!.lines.length)).toBe(Batch.ofRuns([run!]).packed.length);
    }
  });

  test("malformed runs are refused: counts that do not match the lines, a missing last newline, seqs out of range", () => {
    const ok = batchOf([val(1, 0, "a"), val(1, 1, "b")]).packed;
    expect(scanRuns(ok)).toEqual({ runs: 1, values: 2 });
    const bad = (f: (b: Uint8Array) => void) => {
      const copy = ok.slice();
      f(copy);
      return scanRuns(copy);
    };
    expect(bad((x) => (x[3] = 3))).toBeUndefined(); // count 3, two lines
    expect(bad((x) => (x[3] = 0))).toBeUndefined(); // count 0
    expect(bad((x) => (x[x.length - 1] = 0x41))).toBeUndefined(); // the last value has no newline
    expect(scanRuns(ok.subarray(0, ok.length - 1))).toBeUndefined(); // truncated
    expect(scanRuns(new Uint8Array([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 1, 1, 10]))).toBeUndefined(); // seq over 2^53
  });

  test("lines: prefixes within limits, skipping, splitting", () => {
    const lines = linesOf(["aa", "b", "", "cccc"].map((s) => enc.encode(s)));
    expect(linesPrefix(lines, 0, lines.length, 10, 100)).toEqual({ count: 4, end: lines.length });
    expect(linesPrefix(lines, 0, lines.length, 2, 100)).toEqual({ count: 2, end: 5 });
    expect(linesPrefix(lines, 0, lines.length, 10, 6)).toEqual({ count: 3, end: 6 });
    expect(linesPrefix(lines, 0, lines.length, 10, 2)).toEqual({ count: 0, end: 0 });
    expect(skipLines(lines, 0, 3)).toBe(6);
    expect(splitLines(lines).map((l) => new TextDecoder().decode(l))).toEqual(["aa", "b", "", "cccc"]);
  });

  test("a builder copies whole runs and parts of runs", () => {
    const [run] = runsOf([val(3, 10, "x"), val(3, 11, "yy"), val(3, 12, "zzz")]);
    const b = new BatchBuilder(100);
    b.add(3, 11, 10, 2, run!.lines, 2, run!.lines.length);
    expect(valuesOf(b.finish()).map((v) => `${v.seq}:${new TextDecoder().decode(v.data)}`)).toEqual(["11:yy", "12:zzz"]);
  });

  test("varintBytes agrees with writeVarint at every boundary", () => {
    const buf = new Uint8Array(16);
    for (let k = 0; k <= 53; k++) {
      for (const x of [2 ** k - 1, 2 ** k, Math.min(2 ** k + 1, Number.MAX_SAFE_INTEGER)]) expect([x, varintBytes(x)]).toEqual([x, writeVarint(buf, 0, x)]);
    }
  });
});

describe("PendingValues", () => {
  const offer = (p: PendingValues, client: number, first: number, count: number, nowMs = 0, limit = 1e9) => {
    const [run] = runsOf(Array.from({ length: count }, (_, k) => val(client, first + k)));
    const decided: number[] = [];
    p.offer(client, first, 0, count, run!.lines, nowMs, true, limit, (s, e) => decided.push(s, e));
    return decided;
  };
  const take = (p: PendingValues, valuesMax = 100, bytes = 1000): Batch => {
    const b = new BatchBuilder(bytes);
    p.take(b, valuesMax, () => {});
    return b.finish();
  };
  const seqsOf = (b: Batch) => valuesOf(b).map((v) => `${v.client}:${v.seq}`);

  test("a resend waits once; decided parts are said; a batch takes the oldest first and cuts runs", () => {
    const p = new PendingValues();
    offer(p, 1, 0, 5);
    offer(p, 1, 3, 4); // 3, 4 wait already: 5, 6 are new
    offer(p, 2, 0, 2);
    expect(p.size).toBe(9);
    const first = take(p, 6);
    expect(seqsOf(first)).toEqual(["1:0", "1:1", "1:2", "1:3", "1:4", "1:5"]);
    expect([p.size, p.inflight]).toEqual([3, 6]);
    p.decide(1, 0, 6, 1);
    expect(offer(p, 1, 0, 3)).toEqual([0, 3]); // a resend of decided values: they are acked again
    expect(seqsOf(take(p))).toEqual(["1:6", "2:0", "2:1"]);
  });

  test("values of a lost batch wait again; the ones decided meanwhile do not", () => {
    const p = new PendingValues();
    offer(p, 1, 0, 4);
    const batch = take(p);
    p.decide(1, 1, 2, 1);
    p.requeue(batch, 2);
    expect([p.size, p.inflight]).toEqual([3, 0]);
    expect(seqsOf(take(p))).toEqual(["1:0", "1:2", "1:3"]);
  });

  test("waiting values are bounded; the client's floor drops what it knows decided", () => {
    const p = new PendingValues();
    offer(p, 1, 0, 10, 0, 4);
    expect(p.size).toBe(4);
    p.raiseFloor(p.book(1), 2);
    expect(p.size).toBe(2);
    expect(seqsOf(take(p))).toEqual(["1:2", "1:3"]);
  });

  test("runs whose values stopped waiting are dropped in bulk (a standby never takes)", () => {
    const p = new PendingValues();
    for (let s = 0; s < 5000; s++) offer(p, 1, s, 1, s);
    for (let s = 0; s < 5000; s += 2) p.decide(1, s, s + 1, s);
    expect(p.size).toBe(2500);
    const waiting: number[] = [];
    p.forEachOldest((q) => waiting.push(q.first) < 3);
    expect(waiting).toEqual([1, 3, 5]);
    expect(p.oldest(() => false)?.first).toBe(1);
    expect(p.oldest((q) => q.first === 1)?.first).toBe(3); // stale: dropped on the way
    expect(p.size).toBe(2499);
  });
});
