import { describe, expect, test } from "bun:test";
import type { Effects } from "../../src/protocol/messages.ts";
import { Proposer, nextRound, type ProposerOptions } from "../../src/protocol/proposer.ts";
import { acceptors, b, ids, learner as newLearner, msg, NONCE, oneA, proposerOptions, sent, startProposer, tick, twoAOf, twoB, val, submitOf } from "./helpers.ts";

const options = proposerOptions;

/** A proposer that ran Phase 1 (round 1001) and got empty promises from acceptors 1 and 2. */
function leader(over: Partial<ProposerOptions> = {}): Proposer {
  const p = new Proposer(options(over));
  startProposer(p);
  for (const acc of [1, 2]) p.step(msg({ t: "1b", acc, ident: acc, rnd: 1001, nonce: NONCE, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
  expect(p.isLeader).toBe(true);
  return p;
}

const twoA = (fx: Effects) => sent(fx, "acceptors", "2a");

/**
 * A proposer that started while another one (round 2002) leads: it saw that leader's votes during
 * its start-up probe, so it stands by, and never led (no backoff yet).
 */
function standby(over: Partial<ProposerOptions> = {}): Proposer {
  const p = new Proposer(options(over));
  p.step(tick, 0);
  p.step(msg(twoB(1, [], 0)), 0);
  for (const acc of [1, 2]) p.step(msg({ t: "nack", acc, ident: acc, rnd: 2002, cRnd: 0, nonce: NONCE }), 0);
  expect(sent(p.step(tick, 0), "acceptors", "1a")).toEqual([]);
  expect(p.state).toBe("standby");
  return p;
}

describe("proposer", () => {
  test("rounds are unique per proposer and increase", () => {
    expect(nextRound(0, 1)).toBe(1001);
    expect(nextRound(1001, 2)).toBe(2002);
    expect(nextRound(2002, 1)).toBe(3001);
    expect(nextRound(3001, 1) % 1000).toBe(1);
  });

  test("runs Phase 1 for all instances on start, before any client value", () => {
    const fx = startProposer(new Proposer(options()));
    expect(sent(fx, "acceptors", "1a")).toEqual([oneA(1001)]);
  });

  test("first asks a majority of acceptors for their promises, and starts above them", () => {
    const p = new Proposer(options());
    expect(sent(p.step(tick, 0), "acceptors", "1a")).toEqual([oneA(0)]);
    p.step(msg({ t: "nack", acc: 1, ident: 1, rnd: 7_005_002, cRnd: 0, nonce: NONCE }), 1);
    expect(sent(p.step(tick, 2), "acceptors", "1a")).toEqual([]); // one answer is not a majority
    expect(sent(p.step(tick, 60), "acceptors", "1a")).toEqual([oneA(0)]); // asked again
    p.step(msg({ t: "nack", acc: 3, ident: 3, rnd: 0, cRnd: 0, nonce: NONCE }), 61);
    expect(sent(p.step(tick, 62), "acceptors", "1a")[0]!.cRnd).toBe(7_006_001);
  });

  // A fresh cluster (no promise anywhere) has no leader to wait for: proposer 1 starts Phase 1 as
  // soon as a majority answered, the others wait probeWaitMs (and hear its Hellos meanwhile); in a
  // cluster someone led (a promise above 0), proposer 1 waits too.
  test("in a cluster nobody led, proposer 1 starts Phase 1 at once; the others, and everyone elsewhere, wait probeWaitMs", () => {
    const firstOneA = (id: number, promise: number): number => {
      const p = new Proposer(options({ id, probeWaitMs: 500 }));
      p.step(tick, 0);
      for (const acc of [1, 2]) p.step(msg({ t: "nack", acc, ident: acc, rnd: promise, cRnd: 0, nonce: NONCE }), 10);
      for (let t = 10; t <= 1000; t += 10) if (sent(p.step(tick, t), "acceptors", "1a").some((m) => m.cRnd > 0)) return t;
      return -1;
    };
    expect(firstOneA(1, 0)).toBe(10);
    expect(firstOneA(2, 0)).toBe(500);
    expect(firstOneA(1, 3002)).toBe(500);
  });

  // Issue 10, item 1: a delayed copy of an answer given to another incarnation (this process's
  // previous one, say) must not complete the start-up probe.
  test("counts only answers to its own query in the start-up probe", () => {
    const p = new Proposer(options());
    p.step(tick, 0);
    for (const acc of [2, 3]) p.step(msg({ t: "nack", acc, ident: acc, rnd: 5_000_002, cRnd: 0, nonce: NONCE + 1 }), 1); // stale
    p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 5_000_002, nonce: NONCE + 1, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 1);
    expect(sent(p.step(tick, 2), "acceptors", "1a")).toEqual([]); // still probing
    for (const acc of [2, 3]) p.step(msg({ t: "nack", acc, ident: acc, rnd: 6_000_002, cRnd: 0, nonce: NONCE }), 3);
    expect(sent(p.step(tick, 4), "acceptors", "1a")[0]!.cRnd).toBe(6_001_001);
  });

  test("re-proposes the highest-vRnd value over its own, and fills holes with no-ops", () => {
    const p = new Proposer(options());
    startProposer(p);
    p.step(msg(submitOf([val(9, 0, "mine")])), 0);
    const older = { inst: 2, vRnd: 501, vVal: b(val(5, 0, "older")) };
    const newer = { inst: 2, vRnd: 702, vVal: b(val(7, 0, "newer")) };
    p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: NONCE, from: 0, to: 3, done: true, votes: [older], decidedBelow: 0 }), 0);
    const fx = p.step(msg({ t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: NONCE, from: 0, to: 3, done: true, votes: [newer], decidedBelow: 0 }), 0);
    const proposals = twoA(fx).flatMap((m) => m.proposals);
    expect(proposals.map((q) => [q.inst, ids(q.cVal)])).toEqual([
      [0, []],
      [1, []],
      [2, ["7:0"]],
      [3, ["9:0"]],
    ]);
    expect(twoA(fx).every((m) => m.cRnd === 1001)).toBe(true);
  });

  test("waits for every piece of a 1B before counting the promise", () => {
    const p = new Proposer(options());
    startProposer(p);
    const fx = p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: NONCE, from: 0, to: 5, done: false, votes: [], decidedBelow: 0 }), 0);
    expect(sent(fx, "acceptors", "1a")).toEqual([oneA(1001, { from: 5, acc: 1 })]);
    p.step(msg({ t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: NONCE, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    expect(p.isLeader).toBe(false);
    p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: NONCE, from: 5, to: 9, done: true, votes: [], decidedBelow: 0 }), 0);
    expect(p.isLeader).toBe(true);
  });

  test("batches values while the pipeline is full (self-clocking)", () => {
    const p = leader({ pipelineWindow: 1 });
    const first = p.step(msg(submitOf([val(1, 0)])), 1);
    expect(twoA(first).flatMap((m) => m.proposals.map((q) => ids(q.cVal)))).toEqual([["1:0"]]);
    const queued = p.step(msg(submitOf([val(1, 1), val(1, 2), val(2, 0)])), 2);
    expect(twoA(queued)).toEqual([]); // window full
    const vote = { inst: 0, vRnd: 1001, vVal: b(val(1, 0)) };
    p.step(msg(twoB(1, [vote], 0)), 3);
    const fx = p.step(msg(twoB(3, [vote], 0)), 3);
    expect(sent(fx, "clients", "ack")).toEqual([{ t: "ack", ranges: [1, 0, 1] }]);
    expect(twoA(fx).flatMap((m) => m.proposals.map((q) => [q.inst, ids(q.cVal)]))).toEqual([[1, ["1:1", "1:2", "2:0"]]]);
  });

  test("refuses a value no batch can hold (a client with another batch.bytesMax), and proposes the rest", () => {
    const p = leader({ batchBytesMax: 300 });
    const fx = p.step(msg(submitOf([val(1, 0, "x".repeat(300)), val(1, 1)])), 1);
    expect(fx.violations).toEqual([expect.stringMatching(/^1 value\(s\) larger than a batch \(batch.bytesMax 300\) refused/)]);
    expect(twoA(fx).flatMap((m) => m.proposals.map((q) => ids(q.cVal)))).toEqual([["1:1"]]);
  });

  test("respects the batch value and byte limits", () => {
    const p = leader({ batchValuesMax: 2, batchBytesMax: 300, pipelineWindow: 10 });
    const values = [val(1, 0), val(1, 1), val(1, 2, "x".repeat(200)), val(1, 3, "y".repeat(200))];
    const fx = p.step(msg(submitOf(values)), 1);
    expect(twoA(fx).flatMap((m) => m.proposals.map((q) => ids(q.cVal)))).toEqual([["1:0", "1:1"], ["1:2"], ["1:3"]]);
  });

  test("acks a retransmitted value that is already decided instead of proposing it again", () => {
    const p = leader();
    p.step(msg(submitOf([val(1, 0)])), 1);
    const vote = { inst: 0, vRnd: 1001, vVal: b(val(1, 0)) };
    p.step(msg(twoB(1, [vote], 0)), 2);
    p.step(msg(twoB(2, [vote], 0)), 2);
    const fx = p.step(msg(submitOf([val(1, 0)])), 3);
    expect(twoA(fx)).toEqual([]);
    expect(sent(fx, "clients", "ack")).toEqual([{ t: "ack", ranges: [1, 0, 1] }]);
  });

  test("stands by on a higher round, keeps the values, and takes over after the timeout", () => {
    const p = leader();
    p.step(msg(submitOf([val(1, 0)])), 1);
    p.step(msg({ t: "nack", acc: 1, ident: 1, rnd: 2002, cRnd: 0, nonce: NONCE }), 2);
    expect(p.isLeader).toBe(false);
    expect(p.pendingCount).toBe(1);
    // takeoverMs × (1 + random) = 150 ms, doubled: it was preempted before deciding anything
    expect(sent(p.step(tick, 290), "acceptors", "1a")).toEqual([]);
    expect(sent(p.step(tick, 302), "acceptors", "1a")).toEqual([oneA(3001)]);
  });

  test("a standing-by proposer does not take over while its waiting values keep being decided", () => {
    const p = standby();
    for (let t = 10; t <= 2000; t += 10) {
      p.step(msg(submitOf([val(1, t)])), t);
      const vote = { inst: t / 10 - 1, vRnd: 2002, vVal: b(val(1, t - 10)) };
      const leaderNonce = 88; // proposer 2's
      p.step(msg(twoAOf([vote], leaderNonce)), t);
      p.step(msg(twoB(1, [vote], 0, leaderNonce)), t);
      const fx = p.step(msg(twoB(2, [vote], 0, leaderNonce)), t);
      expect(sent(fx, "acceptors", "1a")).toEqual([]);
      expect(sent(p.step(tick, t), "acceptors", "1a")).toEqual([]);
      expect(sent(p.step(tick, t), "proposers", "submit")).toEqual([]);
    }
  });

  test("a standing-by proposer learns which values another round decided from its 2A, even one that comes after the 2Bs", () => {
    const p = standby();
    p.step(msg(submitOf([val(1, 0), val(1, 1)])), 10);
    expect(p.pendingCount).toBe(2);
    const vote = { inst: 0, vRnd: 2002, vVal: b(val(1, 0)) };
    const stale = { inst: 0, vRnd: 1002, vVal: b(val(1, 1)) }; // an earlier round's proposal for the same instance
    p.step(msg(twoB(1, [vote], 0, 88)), 11);
    p.step(msg(twoB(2, [vote], 0, 88)), 11); // decided, value not known yet
    expect(p.pendingCount).toBe(2);
    p.step(msg(twoAOf([stale], 87)), 12); // not the deciding round: nothing learned
    expect(p.pendingCount).toBe(2);
    p.step(msg(twoAOf([vote], 88)), 12);
    expect(p.pendingCount).toBe(1);
    const fx = p.step(msg({ t: "catchup", from: 0, to: 1, decidedBelow: 0, seenTo: 1 }), 13);
    expect(sent(fx, "learners", "decision").flatMap((d) => d.decided.map((x) => [x.inst, ids(x.cVal)]))).toEqual([[0, ["1:0"]]]);
  });

  test("gathering: the Submits of a burst go in one batch, and what the burst decided is acked in one Ack", () => {
    const p = leader({ gather: true });
    const steps = [p.step(msg(submitOf([val(1, 0)])), 1), p.step(msg(submitOf([val(2, 0)])), 1)];
    expect(steps.flatMap(twoA)).toEqual([]);
    const end = p.flush(1);
    expect(twoA(end).flatMap((m) => m.proposals.map((q) => [q.inst, ids(q.cVal)]))).toEqual([[0, ["1:0", "2:0"]]]);
    p.step(msg(submitOf([val(3, 0)])), 2);
    p.flush(2); // instance 1
    const votes = [0, 1].flatMap((inst) => [1, 2].map((acc) => p.step(msg(twoB(acc, [{ inst, vRnd: 1001 }], 0)), 3)));
    expect(votes.flatMap((fx) => sent(fx, "clients", "ack"))).toEqual([]);
    expect(sent(p.flush(3), "clients", "ack")).toEqual([{ t: "ack", ranges: [1, 0, 1, 2, 0, 1, 3, 0, 1] }]);
  });

  test("resends unanswered 2A after the retransmission timeout", () => {
    const p = leader();
    p.step(msg(submitOf([val(1, 0)])), 0);
    expect(twoA(p.step(tick, 20))).toEqual([]);
    expect(twoA(p.step(tick, 60)).flatMap((m) => m.proposals.map((q) => q.inst))).toEqual([0]);
  });

  test("does not combine 2B votes of different rounds into a decision", () => {
    const p = leader();
    p.step(msg(submitOf([val(1, 0)])), 0);
    p.step(msg(twoB(1, [{ inst: 0, vRnd: 1001, vVal: b(val(1, 0)) }], 0)), 1);
    const fx = p.step(msg(twoB(2, [{ inst: 0, vRnd: 901, vVal: b(val(1, 0)) }], 0)), 1);
    expect(sent(fx, "clients", "ack")).toEqual([]);
  });

  test("answers a Catchup with the instances it saw decided", () => {
    const p = leader();
    const vote = { inst: 0, vRnd: 1001, vVal: b(val(1, 0)) };
    p.step(msg(submitOf([val(1, 0)])), 0);
    p.step(msg(twoB(1, [vote], 0)), 0);
    p.step(msg(twoB(2, [vote], 0)), 0);
    const fx = p.step(msg({ t: "catchup", from: 0, to: 10, decidedBelow: 0, seenTo: 0 }), 0);
    expect(sent(fx, "learners", "decision").flatMap((d) => d.decided.map((x) => [x.inst, ids(x.cVal)]))).toEqual([[0, ["1:0"]]]);
  });
});

describe("proposer restart", () => {
  /**
   * Proposer 2 leads in its first round; its 2A for X reaches acceptor 1 only, and learner 1 hears
   * that vote. It restarts with empty memory, gets promises from acceptors 2 and 3 (which never
   * saw X) and proposes Y for the same instance. Returns what learner 1 then delivers.
   */
  async function afterRestart(roundFloorOnRestart: number): Promise<string[]> {
    const acc = acceptors(3, { catchupDatagramsMax: 4 });
    const learner = newLearner();
    const first = new Proposer(options({ id: 2 }));
    const [oneA] = sent(startProposer(first, 0, acc), "acceptors", "1a");
    for (const a of acc) for (const oneB of sent(a.step(msg(oneA!), 0), "proposers", "1b")) first.step(msg(oneB), 0);
    const [twoAX] = twoA(first.step(msg(submitOf([val(1, 0, "X")])), 1));
    const [twoBX] = sent(acc[0]!.step(msg(twoAX!), 1), "learners", "2b");
    learner.step(msg(twoAX!), 1); // the learners get the 2A too
    learner.step(msg(twoBX!), 1);
    const restarted = new Proposer(options({ id: 2, roundFloor: roundFloorOnRestart }));
    const [oneA2] = sent(startProposer(restarted, 5, acc.slice(1)), "acceptors", "1a");
    for (const a of acc.slice(1)) for (const oneB of sent(a.step(msg(oneA2!), 5), "proposers", "1b")) restarted.step(msg(oneB), 5);
    const [twoAY] = twoA(restarted.step(msg(submitOf([val(1, 1, "Y")])), 6));
    const delivered: string[] = ids(learner.step(msg(twoAY!), 6).delivered);
    for (const a of acc.slice(1)) {
      for (const twoB of sent(a.step(msg(twoAY!), 6), "learners", "2b")) delivered.push(...ids(learner.step(msg(twoB), 6).delivered));
    }
    return delivered;
  }

  // Before the start-up probe and the clock floor, this restart reused round 1002 and learner 1
  // counted a vote for X with one for Y: it delivered X, which was never decided.
  test("a restarted proposer never reuses a round, even when its clock is behind (the probe finds it)", async () => {
    expect(await afterRestart(0)).toEqual(["1:1"]); // Y, decided by acceptors 2 and 3
  });

  test("…and when its clock is ahead", async () => {
    expect(await afterRestart(5 * 1000)).toEqual(["1:1"]);
  });
});

describe("proposer Phase 1 in pieces", () => {
  test("asks each acceptor alone for its next piece, once per piece", () => {
    const p = new Proposer(options());
    startProposer(p);
    const piece = (acc: number, from: number, to: number) => msg({ t: "1b", acc, ident: acc, rnd: 1001, nonce: NONCE, from, to, done: false, votes: [], decidedBelow: 0 });
    expect(sent(p.step(piece(2, 0, 4), 0), "acceptors", "1a")).toEqual([oneA(1001, { from: 4, acc: 2 })]);
    expect(sent(p.step(piece(2, 0, 4), 0), "acceptors", "1a")).toEqual([]); // a duplicate
    expect(sent(p.step(piece(3, 0, 2), 0), "acceptors", "1a")).toEqual([oneA(1001, { from: 2, acc: 3 })]);
  });

  test("after a takeover, proposes the backlog through the pipeline window", () => {
    const p = new Proposer(options({ pipelineWindow: 2 }));
    startProposer(p);
    const votes = [0, 1, 2, 3, 4].map((inst) => ({ inst, vRnd: 501, vVal: b(val(9, inst)) }));
    p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: NONCE, from: 0, to: 5, done: true, votes, decidedBelow: 0 }), 0);
    const fx = p.step(msg({ t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: NONCE, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    expect(twoA(fx).flatMap((m) => m.proposals.map((q) => q.inst))).toEqual([0, 1]);
    const vote = (inst: number) => ({ inst, vRnd: 1001, vVal: b(val(9, inst)) });
    p.step(msg(twoB(1, [vote(0)], 0)), 1);
    const next = p.step(msg(twoB(2, [vote(0)], 0)), 1);
    expect(twoA(next).flatMap((m) => m.proposals.map((q) => q.inst))).toEqual([2]);
  });

  test("never proposes below what an acceptor trimmed (all decided)", () => {
    const p = new Proposer(options());
    startProposer(p);
    p.step(msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: NONCE, from: 0, to: 0, done: true, votes: [], decidedBelow: 40 }), 0);
    p.step(msg({ t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: NONCE, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    const fx = p.step(msg(submitOf([val(1, 0)])), 1);
    expect(twoA(fx).flatMap((m) => m.proposals.map((q) => q.inst))).toEqual([40]);
  });
});

describe("proposer holes", () => {
  test("a standing-by proposer with no values still takes over to fill a hole below a decided instance", () => {
    const p = new Proposer(options({ id: 3 }));
    const y = { inst: 1, vRnd: 1001, vVal: b(val(5, 0)) };
    p.step(msg(twoB(1, [y], 0)), 0); // someone else leads
    p.step(msg(twoB(2, [y], 0)), 0); // instance 1 decided, 0 unknown
    for (const acc of [1, 2]) p.step(msg({ t: "nack", acc, ident: acc, rnd: 1001, cRnd: 0, nonce: NONCE }), 0); // the start-up probe's answers
    expect(sent(p.step(tick, 1), "acceptors", "1a")).toEqual([]); // started, standing by
    expect(p.pendingCount).toBe(0);
    expect(sent(p.step(tick, 100), "acceptors", "1a")).toEqual([]);
    expect(sent(p.step(tick, 152), "acceptors", "1a")).toHaveLength(1); // takeoverMs × 1.5 after start
  });
});

describe("thrifty 2Bs", () => {
  /** The acceptor ids a 2A names as reporters ([] : all). */
  const reporters = (fx: Effects): number[][] => twoA(fx).map((m) => [...m.report]);

  test("a leader names a majority of the acceptors heard lately, lowest first; every acceptor in retransmissions", () => {
    const p = leader({ thriftyReports: true, retransmitMs: 50, pipelineWindow: 100 });
    // Leading at 0: acceptors 1 and 2 were heard (their 1Bs).
    expect(reporters(p.step(msg(submitOf([val(1, 0)])), 1))).toEqual([[1, 2]]);
    // Retransmissions ask all: any majority's votes will do.
    expect(reporters(p.step(tick, 60))).toEqual([[]]);
    // Every acceptor's 2Bs reach the proposers: 1 silent since 0, 2 and 3 heard at 400.
    for (const acc of [2, 3]) p.step(msg(twoB(acc, [{ inst: 0, vRnd: 1001 }])), 400);
    expect(reporters(p.step(msg(submitOf([val(1, 1)])), 450))).toEqual([[1, 2]]);
    expect(reporters(p.step(msg(submitOf([val(1, 2)])), 501))).toEqual([[2, 3]]); // 1 not heard for 500 ms
  });

  test("fewer than a majority heard lately: every acceptor reports", () => {
    const p = leader({ thriftyReports: true, retransmitMs: 50, pipelineWindow: 100 });
    p.step(msg(submitOf([val(1, 0)])), 1);
    expect(reporters(p.step(msg(submitOf([val(1, 1)])), 2000))).toEqual([[]]);
    expect(reporters(p.step(msg(submitOf([val(1, 2)])), 2001))).toEqual([[]]);
  });

  test("without thrifty 2Bs, every 2A asks every acceptor", () => {
    const p = leader({ pipelineWindow: 100 });
    expect([1, 2, 3].flatMap((k) => reporters(p.step(msg(submitOf([val(1, k)])), k)))).toEqual([[], [], []]);
  });
});
