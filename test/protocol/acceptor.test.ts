import { REPORT_ALL, reportList } from "../../src/protocol/notify.ts";
import { describe, expect, test } from "bun:test";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { acceptorOptions, b, msg, NONCE, oneA, sent, step, twoA, val } from "./helpers.ts";

const acceptor = (datagramBytesMax = 1400) => new Acceptor(acceptorOptions(2, { datagramBytesMax, catchupDatagramsMax: 4 }));

describe("acceptor", () => {
  test("promises a higher round and reports its votes from the asked instance up", () => {
    const a = acceptor();
    step(a, msg(twoA(1001, [{ inst: 0, cVal: b(val(1, 0)) }, { inst: 3, cVal: b(val(1, 1)) }])), 0);
    const fx = step(a, msg(oneA(2002, { from: 1 })), 0);
    const [oneB] = sent(fx, "proposers", "1b");
    expect(oneB).toMatchObject({ acc: 2, rnd: 2002, from: 1, done: true });
    expect(oneB!.votes.map((v) => [v.inst, v.vRnd])).toEqual([[3, 1001]]);
    expect(a.promised).toBe(2002);
  });

  test("refuses a 1A below its promise with a Nack carrying the promise", () => {
    const a = acceptor();
    step(a, msg(oneA(2002)), 0);
    const fx = step(a, msg(oneA(1001)), 0);
    expect(sent(fx, "proposers", "1b")).toEqual([]);
    expect(sent(fx, "proposers", "nack")).toEqual([{ t: "nack", acc: 2, ident: 2, rnd: 2002, cRnd: 1001, nonce: NONCE }]);
    expect(a.promised).toBe(2002);
  });

  test("never accepts a 2A below its promise", () => {
    const a = acceptor();
    step(a, msg(oneA(2002)), 0);
    const fx = step(a, msg(twoA(1001, [{ inst: 0, cVal: b(val(1, 0)) }])), 0);
    expect(a.voteOf(0)).toBeUndefined();
    expect(sent(fx, "learners", "2b")).toEqual([]);
    expect(sent(fx, "proposers", "nack")[0]!.rnd).toBe(2002);
  });

  test("accepts at its promised round and sends the 2B to learners and proposers", () => {
    const a = acceptor();
    step(a, msg(oneA(2002)), 0);
    const fx = step(a, msg(twoA(2002, [{ inst: 5, cVal: b(val(1, 0)) }])), 0);
    expect(a.voteOf(5)?.vRnd).toBe(2002);
    for (const group of ["learners", "proposers"] as const) {
      expect(sent(fx, group, "2b")[0]).toMatchObject({ acc: 2, vRnd: 2002, nonce: NONCE, insts: [5] });
    }
  });

  test("a 2A of a higher round, without 1A, raises the promise", () => {
    const a = acceptor();
    step(a, msg(oneA(1001)), 0);
    step(a, msg(twoA(3003, [{ inst: 0, cVal: b() }])), 0);
    expect(a.promised).toBe(3003);
    const fx = step(a, msg(oneA(2002)), 0);
    expect(sent(fx, "proposers", "nack")[0]!.rnd).toBe(3003);
  });

  test("splits a long history over several 1B, each within the datagram size", () => {
    const a = acceptor(400);
    // (Its batches were once arrays of values, which the acceptor could not size: one 1B held all.)
    const big = (i: number) => b(val(1, i, "x".repeat(100)));
    for (let i = 0; i < 10; i++) step(a, msg(twoA(1001, [{ inst: i, cVal: big(i) }])), 0);
    let from = 0;
    const seen: number[] = [];
    let pieces = 0;
    for (let k = 0; k < 20; k++) {
      const [oneB] = sent(step(a, msg(oneA(2002, { from })), 0), "proposers", "1b");
      pieces++;
      expect(oneB!.from).toBe(from);
      expect(oneB!.votes.reduce((bytes, v) => bytes + v.vVal.wireBytes, 0)).toBeLessThan(400);
      seen.push(...oneB!.votes.map((v) => v.inst));
      if (oneB!.done) break;
      from = oneB!.to;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(pieces).toBeGreaterThan(3); // about 110 bytes a vote: three in a 400-byte 1B
  });

  test("answers a Catchup with its account of the range (votes, and the decided prefix it knows)", () => {
    const a = acceptor();
    for (const inst of [0, 1, 2, 7]) step(a, msg(twoA(1001, [{ inst, cVal: b(val(1, inst)) }])), 0);
    const fx = step(a, msg({ t: "catchup", from: 1, to: 3, decidedBelow: 0, seenTo: 0 }), 0);
    const [account] = sent(fx, "learners", "votes");
    expect(account).toMatchObject({ acc: 2, from: 1, to: 3, decidedBelow: 0 });
    expect(account!.votes.map((v) => v.inst)).toEqual([1, 2]);
  });
});

describe("thrifty 2Bs", () => {
  test("an acceptor the 2A does not name as a reporter votes (and persists) and tells only the proposers; a retransmission naming all gets its 2B to the learners", () => {
    for (const gather of [false, true]) {
      const a = new Acceptor(acceptorOptions(1, { catchupDatagramsMax: 4, gather }));
      const twoAReported = (report: Uint8Array) => msg(twoA(1001, [{ inst: 0, cVal: b(val(1, 0)) }], { report }));
      const fx = step(a, twoAReported(reportList([2, 3])), 0);
      const flushed = a.flush(0);
      expect(a.voteOf(0)?.vRnd).toBe(1001);
      expect(fx.persist.map((r) => r.kind)).toContain("vote");
      const sends = [...fx.sends, ...flushed.sends];
      expect(sends.map((s) => [s.to, s.msg.t])).toEqual([["proposers", "2b"]]);
      const again = step(a, twoAReported(REPORT_ALL), 1);
      expect([...sent(again, "learners", "2b"), ...sent(a.flush(1), "learners", "2b")].flatMap((m) => m.insts)).toEqual([0]);
      const named = step(a, twoAReported(reportList([1, 3])), 2);
      expect([...sent(named, "learners", "2b"), ...sent(a.flush(2), "learners", "2b")].flatMap((m) => m.insts)).toEqual([0]);
    }
  });
});

describe("acceptor trimming", () => {
  test("drops votes below the reported decided prefix minus the retention, and says so", () => {
    const a = new Acceptor(acceptorOptions(2, { catchupDatagramsMax: 4, retainInstances: 3 }));
    for (let inst = 0; inst < 10; inst++) step(a, msg(twoA(1001, [{ inst, cVal: b(val(1, inst)) }])), 0);
    const fx = step(a, msg(twoA(1001, [{ inst: 10, cVal: b(val(1, 10)) }], { decidedBelow: 8 })), 0);
    expect(fx.persist).toContainEqual({ kind: "trim", below: 5 });
    expect(a.voteOf(4)).toBeUndefined();
    expect(a.voteOf(5)?.vRnd).toBe(1001);
    const [oneB] = sent(step(a, msg(oneA(2002, { decidedBelow: 8 })), 0), "proposers", "1b");
    expect(oneB!.decidedBelow).toBe(8); // trimmed below 5, and told 8 is the decided prefix
    expect(oneB!.votes.map((v) => v.inst)).toEqual([8, 9, 10]);
    const catchup = step(a, msg({ t: "catchup", from: 2, to: 7, decidedBelow: 0, seenTo: 0 }), 0);
    expect(sent(catchup, "learners", "trimmed")).toEqual([{ t: "trimmed", acc: 2, ident: 2, below: 5 }]);
    expect(sent(catchup, "learners", "votes").flatMap((m) => m.votes.map((v) => v.inst))).toEqual([5, 6]);
  });
});
