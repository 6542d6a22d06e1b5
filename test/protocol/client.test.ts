import { describe, expect, test } from "bun:test";
import { Client } from "../../src/protocol/client.ts";
import type { Effects } from "../../src/protocol/messages.ts";
import { sent } from "./helpers.ts";

const client = (outstandingMax = 2) =>
  new Client({ id: 7, outstandingMax, datagramBytesMax: 1400, retransmitMs: 100, retransmitMinMs: 100, seqBase: 10 });
const bytes = (s: string) => new TextEncoder().encode(s);
const submitted = (fx: Effects) => sent(fx, "proposers", "submit").flatMap((m) => m.values.map((v) => v.seq));

describe("client", () => {
  test("numbers values from seqBase and keeps a bounded window", () => {
    const c = client(2);
    const seqs: number[] = [];
    for (const s of ["a", "b", "c"]) seqs.push(...submitted(c.submit([bytes(s)], 0).fx));
    expect(seqs).toEqual([10, 11]);
    expect(c.undecided).toBe(3);
    const fx = c.step({ kind: "msg", msg: { t: "ack", ids: [7, 10, 8, 11] } }, 5);
    expect(fx.acked).toEqual([10]); // 8:11 is another client's
    expect(submitted(fx)).toEqual([12]);
  });

  test("gathering: the acks of a burst open one Submit, at the end of the burst", () => {
    const c = new Client({ id: 7, outstandingMax: 2, datagramBytesMax: 1400, retransmitMs: 100, retransmitMinMs: 100, seqBase: 0, gather: true });
    c.submit(["a", "b", "c", "d"].map(bytes), 0);
    const first = c.step({ kind: "msg", msg: { t: "ack", ids: [7, 0] } }, 5);
    const second = c.step({ kind: "msg", msg: { t: "ack", ids: [7, 1] } }, 5);
    expect([first.acked, second.acked]).toEqual([[0], [1]]);
    expect([...submitted(first), ...submitted(second)]).toEqual([]);
    const end = c.flush(5);
    expect(sent(end, "proposers", "submit").map((m) => m.values.map((v) => v.seq))).toEqual([[2, 3]]);
    expect(c.flush(6).sends).toEqual([]);
  });

  test("the resend timeout follows the observed latency, within its bounds", () => {
    const c = new Client({ id: 7, outstandingMax: 10, datagramBytesMax: 1400, retransmitMs: 500, retransmitMinMs: 20, seqBase: 0 });
    expect(c.retransmitTimeoutMs).toBe(500);
    for (let i = 0; i < 20; i++) {
      c.submit([bytes(`v${i}`)], i * 100);
      c.step({ kind: "msg", msg: { t: "ack", ids: [7, i] } }, i * 100 + 4);
    }
    expect(c.retransmitTimeoutMs).toBeGreaterThanOrEqual(20);
    expect(c.retransmitTimeoutMs).toBeLessThan(30); // ~4 ms latency, clamped at the minimum
    c.submit([bytes("slow")], 5000);
    expect(submitted(c.step({ kind: "tick" }, 5010))).toEqual([]);
    expect(submitted(c.step({ kind: "tick" }, 5030))).toEqual([20]);
  });

  test("resends undecided values until acked", () => {
    const c = client(5);
    c.submit([bytes("a")], 0);
    expect(c.step({ kind: "tick" }, 50).sends).toEqual([]);
    expect(submitted(c.step({ kind: "tick" }, 100))).toEqual([10]);
    c.step({ kind: "msg", msg: { t: "ack", ids: [7, 10] } }, 150);
    expect(c.step({ kind: "tick" }, 300).sends).toEqual([]);
    expect(c.undecided).toBe(0);
  });
});
