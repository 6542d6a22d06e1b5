import { describe, expect, test } from "bun:test";
import { linesOf } from "../../src/protocol/batch.ts";
import { Client, type ClientOptions } from "../../src/protocol/client.ts";
import type { Effects, Input } from "../../src/protocol/messages.ts";
import { NotifyWriter } from "../../src/protocol/notify.ts";
import { clientOptions, msg, sent, step } from "./helpers.ts";
import { valuesOf } from "./values.ts";

const client = (over: Partial<ClientOptions> = {}) => new Client(clientOptions(over));
const enc = new TextEncoder();
const submit = (c: Client, values: string[], nowMs: number): Effects =>
  step(c, { kind: "submit", lines: linesOf(values.map((v) => enc.encode(v))), count: values.length }, nowMs);
/** The seqs of the Submits sent, one list per Submit. */
const submits = (fx: Effects): number[][] => sent(fx, "proposers", "submit").map((m) => valuesOf(m.runs).map((v) => v.seq));
const seqs = (fx: Effects): number[] => submits(fx).flat();
const ack = (...ranges: number[]): Input => msg({ t: "ack", ranges });
/** What acks said, as seqs. */
const acked = (fx: Effects): number[] => fx.acked.flatMap((a) => Array.from({ length: a.count }, (_, k) => a.first + k));

/** A 2B of acceptor `acc` (identity `ident`) for instances `insts` of round `vRnd` that passes on where runs were placed. */
function twoB(acc: number, insts: number[], placed: [inst: number, client: number, first: number, count: number][], vRnd = 5001, nonce = 9, ident = acc): Input {
  const w = new NotifyWriter(256);
  for (const [inst, client, first, count] of placed) w.add(inst, client, first, count);
  return msg({ t: "2b", acc, ident, vRnd, nonce, insts, decidedBelow: 0, notify: w.finish() });
}

describe("client", () => {
  test("numbers values from seqBase, sends them as runs, and keeps a bounded window", () => {
    const c = client({ outstandingMax: 2 });
    expect(submits(submit(c, ["a", "b", "c"], 0))).toEqual([[10, 11]]); // one run of two values
    expect(c.undecided).toBe(3);
    const fx = step(c, ack(7, 10, 1, 8, 11, 1), 5);
    expect(acked(fx)).toEqual([10]); // 8:11 is another client's
    expect(seqs(fx)).toEqual([12]);
    expect(c.undecided).toBe(2);
  });

  test("a run carries the client's acknowledged prefix (its floor)", () => {
    const c = client({ outstandingMax: 3 });
    submit(c, ["a", "b", "c", "d"], 0);
    const fx = step(c, ack(7, 10, 1), 5);
    const [run] = sent(fx, "proposers", "submit")[0]!.runs.runList();
    expect([run!.first, run!.floor]).toEqual([13, 11]);
  });

  test("a run is cut where a batch would be full", () => {
    const c = client({ outstandingMax: 1000, batchBytesMax: 200 });
    const values = Array.from({ length: 20 }, (_, i) => `value-${i}`.padEnd(30, "."));
    const fx = submit(c, values, 0);
    const runs = submits(fx);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.flat()).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
    for (const m of sent(fx, "proposers", "submit")) expect(m.runs.wireBytes).toBeLessThanOrEqual(200);
  });

  test("gathering: the acks of a burst open one Submit, at the end of the burst", () => {
    const c = client({ seqBase: 0, gather: true });
    submit(c, ["a", "b", "c", "d"], 0);
    const first = step(c, ack(7, 0, 1), 5);
    const second = step(c, ack(7, 1, 1), 5);
    expect([acked(first), acked(second)]).toEqual([[0], [1]]);
    expect([...seqs(first), ...seqs(second)]).toEqual([]);
    expect(submits(c.flush(5))).toEqual([[2, 3]]);
    expect(c.flush(6).sends).toEqual([]);
  });

  test("an ack of part of a run acks that part; the rest is resent alone", () => {
    const c = client({ outstandingMax: 4 });
    submit(c, ["a", "b", "c", "d"], 0);
    expect(acked(step(c, ack(7, 11, 2), 5))).toEqual([11, 12]);
    expect(c.undecided).toBe(2);
    expect(submits(step(c, { kind: "tick" }, 100))).toEqual([[10], [13]]);
    expect(acked(step(c, ack(7, 10, 4), 120))).toEqual([10, 13]); // 11 and 12 are acked already
    expect(c.undecided).toBe(0);
  });

  test("the resend timeout follows the observed latency, within its bounds", () => {
    const c = client({ outstandingMax: 10, retransmitMs: 500, retransmitMinMs: 20, seqBase: 0 });
    expect(c.retransmitTimeoutMs).toBe(500);
    for (let i = 0; i < 20; i++) {
      submit(c, [`v${i}`], i * 100);
      step(c, ack(7, i, 1), i * 100 + 4);
    }
    expect(c.retransmitTimeoutMs).toBeGreaterThanOrEqual(20);
    expect(c.retransmitTimeoutMs).toBeLessThan(30); // ~4 ms latency, clamped at the minimum
    submit(c, ["slow"], 5000);
    expect(seqs(step(c, { kind: "tick" }, 5010))).toEqual([]);
    expect(seqs(step(c, { kind: "tick" }, 5030))).toEqual([20]);
  });

  test("resends undecided values until acked", () => {
    const c = client({ outstandingMax: 5 });
    submit(c, ["a"], 0);
    expect(step(c, { kind: "tick" }, 50).sends).toEqual([]);
    expect(seqs(step(c, { kind: "tick" }, 100))).toEqual([10]);
    step(c, ack(7, 10, 1), 150);
    expect(step(c, { kind: "tick" }, 300).sends).toEqual([]);
    expect(c.undecided).toBe(0);
  });
});

describe("client: decided from a majority of 2Bs (three message delays)", () => {
  test("a run placed in an instance is decided by a majority of one round's votes for it", () => {
    const c = client({ outstandingMax: 4 });
    submit(c, ["a", "b"], 0);
    expect(acked(step(c, twoB(1, [40], [[40, 7, 10, 2]]), 1))).toEqual([]);
    expect(acked(step(c, twoB(1, [40], [[40, 7, 10, 2]]), 1))).toEqual([]); // the same acceptor again
    expect(acked(step(c, twoB(2, [40], [[40, 7, 10, 2]]), 2))).toEqual([10, 11]);
    expect(c.undecided).toBe(0);
    expect(acked(step(c, twoB(3, [40], [[40, 7, 10, 2]]), 3))).toEqual([]);
  });

  test("votes of different rounds, for instances not voted, or of another client do not count", () => {
    const c = client({ outstandingMax: 4 });
    submit(c, ["a"], 0);
    expect(acked(step(c, twoB(1, [40], [[40, 7, 10, 1]], 5001), 1))).toEqual([]);
    expect(acked(step(c, twoB(2, [40], [[40, 7, 10, 1]], 6001), 1))).toEqual([]); // another round
    expect(acked(step(c, twoB(2, [41], [[40, 7, 10, 1]], 5001), 1))).toEqual([]); // voted for 41, not 40
    expect(acked(step(c, twoB(3, [40], [[40, 8, 10, 1]], 5001), 1))).toEqual([]); // client 8's run
    expect(acked(step(c, twoB(3, [40], [[40, 7, 10, 1]], 5001), 1))).toEqual([10]);
  });

  test("a second process under a known acceptor id is ignored and said", () => {
    const c = client({ outstandingMax: 4 });
    submit(c, ["a"], 0);
    step(c, twoB(1, [40], [[40, 7, 10, 1]]), 1);
    const fx = step(c, twoB(1, [41], [[41, 7, 10, 1]], 5001, 9, 99), 1); // acceptor 1 again, another process (identity 99)
    expect(fx.alerts.map((a) => a.cause)).toEqual(["acceptor-identity"]);
    expect(acked(step(c, twoB(2, [41], [[41, 7, 10, 1]]), 1))).toEqual([]); // 41 has one vote only
    expect(acked(step(c, twoB(2, [40], [[40, 7, 10, 1]]), 1))).toEqual([10]);
  });
});
