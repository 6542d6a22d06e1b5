import { expect, test } from "bun:test";
import type { Message } from "../../src/protocol/messages.ts";
import { RecentInstances } from "../../src/runtime/recent.ts";

const batch = (n: number) => ({ values: Array.from({ length: n }, (_, i) => ({ client: 1, seq: i, data: new Uint8Array(1) })) }) as never;
const twoB = (acc: number, vRnd: number, insts: number[]) => ({ t: "2b", acc, ident: 1, vRnd, nonce: 1, insts, decidedBelow: 0 }) as unknown as Message;
const twoA = (cRnd: number, inst: number, n: number) => ({ t: "2a", cRnd, nonce: 1, proposals: [{ inst, cVal: batch(n) }], decidedBelow: 0 }) as unknown as Message;

test("per instance: the highest round, its voters, the batch size, delivered or caught up", () => {
  const r = new RecentInstances(3, 4);
  r.observe(twoA(1001, 0, 5));
  r.observe(twoB(1, 1001, [0]));
  r.observe(twoB(2, 1001, [0]));
  r.observe(twoB(2, 1001, [0])); // a duplicate counts once
  r.delivered(0, 5);
  r.observe(twoB(3, 1001, [1]));
  r.observe(twoB(1, 2002, [1])); // a higher round starts its voters over
  r.delivered(2, 7); // caught up: no live votes seen
  expect(r.snapshot()).toEqual([
    { inst: 0, round: 1001, values: 5, voters: [1, 2], delivered: true, caughtUp: false },
    { inst: 1, round: 2002, values: -1, voters: [1], delivered: false, caughtUp: false },
    { inst: 2, round: 0, values: 7, voters: [], delivered: true, caughtUp: true },
  ]);
});

test("a bounded window of the latest instances: older ones are dropped and not taken back", () => {
  const r = new RecentInstances(3, 4);
  r.observe(twoB(1, 1001, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  r.observe(twoB(2, 1001, [3])); // older than the window now
  expect(r.snapshot().map((i) => i.inst)).toEqual([6, 7, 8, 9]);
  expect(r.snapshot().every((i) => i.voters.length === 1)).toBe(true);
});
