/**
 * Issue 10's audit findings, each replayed with the pure roles message by message. Every test
 * here failed before its fix (each fix can be switched off by a simulator mutant, which makes its
 * test fail again: see test/sim/mutants.ts).
 */
import { describe, expect, test } from "bun:test";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import type { Learner } from "../../src/protocol/learner.ts";
import type { Effects, Message, PersistRecord, Role } from "../../src/protocol/messages.ts";
import { ROUND_STRIDE } from "../../src/protocol/id-limits.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { acceptorOptions, acceptors, b, feed, ids, lead, learner, msg, oneA, proposerOptions, sent, startProposer, step, submitOf, tick, to, twoA, twoAOf, twoB, val } from "./helpers.ts";

const delivered = (l: Learner, msgs: Message[], t: number) => msgs.flatMap((x) => ids(step(l, msg(x), t).delivered));

describe("issue 10 regressions", () => {
  // Item 1. Q's clock is far ahead; P0 takes over from Q in R0 = nextRound(RQ); its 2A for x reaches
  // acceptor 1 only (learner 1 hears that vote); P0 crashes. The restarted P's probe first gets
  // late copies of acceptors 2 and 3's answers to Q, which said RQ: it used to start in R0 again,
  // propose y at instance 0 in R0, and learner 1 combined x and y votes of R0 and delivered x.
  test("1: a restarted proposer never proposes in its earlier incarnation's round, whatever its clock and late answers say", () => {
    const acc = acceptors();
    const [l1, l2] = [learner(), learner()];
    const q = new Proposer(proposerOptions({ id: 2, incarnation: 1, roundFloor: 1_000_000 * ROUND_STRIDE }));
    const qOneA = to(startProposer(q, 0, acc), "acceptors");
    const qAnswers = acc.map((a) => feed(a, qOneA, 0, "proposers"));
    const lateCopies = [qAnswers[1]!, qAnswers[2]!].flat(); // acceptors 2 and 3's 1B to Q
    feed(q, qAnswers.flat(), 0, "acceptors");
    expect(q.isLeader).toBe(true);
    const p0 = new Proposer(proposerOptions({ id: 1, incarnation: 2 }));
    lead(p0, acc, 10); // takes over in R0
    const r0 = p0.round;
    expect(r0).toBeGreaterThan(q.round);
    const [twoAx] = to(step(p0, msg(submitOf([val(7, 0, "x")])), 11), "acceptors");
    expect(delivered(l1, [twoAx!, ...feed(acc[0]!, [twoAx!], 11, "learners")], 11)).toEqual([]);
    // P0 crashes; P restarts with the same id and a clock still behind Q's.
    const p = new Proposer(proposerOptions({ id: 1, incarnation: 3 }));
    const [probe] = to(step(p, tick, 20), "acceptors");
    feed(p, lateCopies, 21, "acceptors"); // the late copies come first
    const early = to(step(p, tick, 21), "acceptors"); // they used to complete the probe
    feed(p, [acc[1]!, acc[2]!].flatMap((a) => feed(a, [probe!], 21, "proposers")), 21, "acceptors");
    const oneA = [...early, ...to(step(p, tick, 22), "acceptors")];
    expect(oneA[0]).toMatchObject({ t: "1a" });
    expect((oneA[0] as { cRnd: number }).cRnd).toBeGreaterThan(r0);
    feed(p, [acc[1]!, acc[2]!].flatMap((a) => feed(a, oneA, 22, "proposers")), 22, "acceptors"); // acceptor 1's answer is lost
    expect(p.isLeader).toBe(true);
    const twoAy = to(step(p, msg(submitOf([val(7, 1, "y")])), 23), "acceptors");
    const votes = [acc[1]!, acc[2]!].map((a) => feed(a, twoAy, 23, "learners"));
    const got1 = delivered(l1, [...twoAy, ...votes[0]!], 23);
    const got2 = delivered(l2, [...twoAy, ...votes.flat()], 23);
    expect(got2).toEqual(["7:1"]);
    expect(got1).toEqual([]); // one vote of the new round is not a majority; x and y are never combined
    expect(delivered(l1, votes[1]!, 24)).toEqual(["7:1"]);
  });

  // Item 2. Two processes started with one proposer id and the same clock race in one round.
  // Acceptors used to promise (and accept) that round from both, and overwrote votes within it.
  test("2: two proposers with one id: only one of them gets a round, and one value per round", () => {
    const acc = acceptors();
    const [l1, l2] = [learner(), learner()];
    const [pa, pb] = [new Proposer(proposerOptions({ id: 1, incarnation: 11 })), new Proposer(proposerOptions({ id: 1, incarnation: 12 }))];
    const [aOneA, bOneA] = [to(startProposer(pa, 0, acc), "acceptors"), to(startProposer(pb, 0, acc), "acceptors")];
    expect(aOneA[0]).toMatchObject({ t: "1a", cRnd: (bOneA[0] as { cRnd: number }).cRnd }); // the same round
    // Acceptor 1 hears A first, acceptor 2 hears B first, acceptor 3 hears A first.
    const answers = [
      [...feed(acc[0]!, aOneA, 1, "proposers"), ...feed(acc[0]!, bOneA, 1, "proposers")],
      [...feed(acc[1]!, bOneA, 1, "proposers"), ...feed(acc[1]!, aOneA, 1, "proposers")],
      [...feed(acc[2]!, aOneA, 1, "proposers"), ...feed(acc[2]!, bOneA, 1, "proposers")],
    ].flat();
    feed(pa, answers, 2, "acceptors");
    feed(pb, answers, 2, "acceptors");
    expect([pa.isLeader, pb.isLeader]).toEqual([true, false]);
    const twoA = [
      ...to(step(pa, msg(submitOf([val(1, 0, "a")])), 3), "acceptors"),
      ...to(step(pb, msg(submitOf([val(2, 0, "b")])), 3), "acceptors"),
    ];
    expect(to(step(pb, tick, 3), "acceptors").filter((x) => x.t === "2a")).toEqual([]); // B proposes nothing
    const twoB = acc.map((a) => feed(a, twoA, 4, "learners"));
    const learned1 = delivered(l1, [...twoA, ...twoB[0]!, ...twoB[2]!], 5);
    expect(learned1).toEqual(["1:0"]);
    // Learner 2 hears acceptors 2 and 3 first: acceptor 2 voted nothing (its round is B's), so it
    // waits; before, it had a vote for B's value in the same round and delivered it.
    expect(twoB[1]).toEqual([]);
    expect(delivered(l2, [...twoA, ...twoB[1]!, ...twoB[2]!], 5)).toEqual([]);
    expect(delivered(l2, twoB[0]!, 6)).toEqual(learned1);
  });

  test("2: a learner that sees two values proposed in one round refuses to decide on it and reports it", () => {
    const l = learner();
    const proposal = (text: string) => msg(twoAOf([{ inst: 0, vRnd: 1001, vVal: b(val(1, 0, text)) }]));
    const vote = (acc: number) => msg(twoB(acc, [{ inst: 0, vRnd: 1001 }], 0));
    step(l, proposal("x"), 0);
    step(l, vote(1), 0);
    const fx = step(l, proposal("y"), 0);
    expect(fx.violations).toHaveLength(1);
    expect(fx.violations[0]).toMatch(/two different batches in round 1001 for instance 0/);
    expect(fx.delivered).toEqual([]);
    expect([step(l, vote(2), 0), step(l, vote(3), 0)].flatMap((f) => f.delivered)).toEqual([]); // a majority, but in a broken round
  });

  // Item 2's later findings (a proposer stopped by late datagrams of its previous life, two live
  // ones with sparse traffic both running on): superseded by Hello-based detection, see
  // test/protocol/issue20.test.ts (item 7).

  // Item 3. After a whole-cluster restart acceptors report a decided prefix far below their votes;
  // a new leader capped what it re-proposed at that prefix + INSTANCES_AHEAD_MAX and proposed new
  // values above, over a chosen one.
  test("3: a new leader re-proposes every vote its promises report, however far above the decided prefix", () => {
    const p = new Proposer(proposerOptions());
    startProposer(p, 0);
    const far = 10 + 1_000_001;
    const chosen = { inst: far, vRnd: 501, vVal: b(val(5, 0, "chosen")) };
    step(p, msg({ t: "1b", acc: 1, ident: 1, rnd: 1001, nonce: p.opts.incarnation, from: 0, to: far + 1, done: true, votes: [chosen], decidedBelow: 10 }), 0);
    step(p, msg({ t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: p.opts.incarnation, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    expect(p.isLeader).toBe(true);
    step(p, msg(submitOf([val(9, 0, "new")])), 1);
    // Everything below `far` gets decided meanwhile (acceptors report it, and, in their stamp, that
    // they know every configuration change below it: issue 22).
    const fx = step(p, { kind: "msg", msg: twoB(2, [], far), stamp: { epoch: 0, knownTo: far } }, 2);
    const proposals = sent(fx, "acceptors", "2a").flatMap((x) => x.proposals.map((q) => [q.inst, ids(q.cVal)]));
    expect(proposals).toEqual([
      [far, ["5:0"]],
      [far + 1, ["9:0"]],
    ]);
  });

  // Item 4. A durable acceptor restarted in an idle cluster lost the decided prefix it was told
  // (it was not persisted); a learner that needs an instance whose votes are spread over rounds
  // could then never recover it from the acceptors' accounts.
  test("4: an acceptor keeps the decided prefix across a restart, and relearns it from learners", () => {
    const a = acceptors(1)[0]!;
    const fx = step(a, msg(twoA(1001, [{ inst: 7, cVal: b(val(1, 7)) }], { nonce: 5, decidedBelow: 7 })), 0);
    expect(fx.persist).toContainEqual({ kind: "decided", below: 7 });
    const restarted = acceptors(1)[0]!;
    restarted.restore([...a.snapshot()]);
    expect(restarted.decidedPrefix).toBe(7);
    const old = acceptors(1)[0]!; // a log written before this record existed: no prefix
    old.restore([{ kind: "promise", rnd: 1001, owner: 0 }]);
    const votes = sent(step(old, msg({ t: "catchup", from: 0, to: 8, decidedBelow: 7, seenTo: 8 }), 0), "learners", "votes");
    expect(votes[0]!.decidedBelow).toBe(7);
    expect(old.decidedPrefix).toBe(7);
  });

  // Items 4 and 5. Instance 0 was decided (x, by acceptors 1 and 2) and learner 1 delivered it;
  // then the deciding leader and acceptor 1 crashed. Acceptor 2 restarted from a log without the
  // decided prefix; the surviving proposer missed the Submit and the 2Bs. A late learner asks:
  // the votes it gets are of no majority, nothing proves the instance decided, and no proposer
  // had any work: it used to wait forever.
  test("4, 5: a learner stuck on an instance nobody can recover from votes makes a proposer run Phase 1 for it", () => {
    const acc = acceptors();
    const l1 = learner();
    const leader = new Proposer(proposerOptions({ id: 1, incarnation: 31 }));
    lead(leader, acc, 0);
    const twoA = to(step(leader, msg(submitOf([val(4, 0, "x")])), 1), "acceptors");
    expect(delivered(l1, [...twoA, ...[acc[0]!, acc[1]!].flatMap((a) => feed(a, twoA, 1, "learners"))], 1)).toEqual(["4:0"]);
    // The leader and acceptor 1 crash; acceptor 2 restarts from its log, written without the prefix.
    const a2 = new Acceptor(acc[1]!.opts);
    a2.restore([...acc[1]!.snapshot()].filter((r: PersistRecord) => r.kind !== "decided"));
    const live = [a2, acc[2]!];
    const standby = new Proposer(proposerOptions({ id: 2, incarnation: 32 }));
    const [probe] = to(step(standby, tick, 100), "acceptors");
    step(standby, msg(twoB(2, [], 0)), 100); // saw someone lead once
    feed(standby, live.flatMap((a) => feed(a, [probe!], 100, "proposers")), 100, "acceptors");
    expect(to(step(standby, tick, 101), "acceptors")).toEqual([]);
    expect(standby.state).toBe("standby");
    // A late learner: its catch-up gets acceptor 2's vote and acceptor 3's empty account.
    const l2 = learner();
    let t = 200;
    let got: string[] = [];
    for (; t < 3000 && got.length === 0; t += 10) {
      const fx = step(l2, tick, t);
      const answers = live.flatMap((a) => feed(a, to(fx, "acceptors"), t, "learners"));
      got.push(...delivered(l2, answers, t));
      const oneA = feed(standby, to(fx, "proposers"), t, "acceptors").concat(to(step(standby, tick, t), "acceptors"));
      const oneB = live.flatMap((a) => feed(a, oneA, t, "proposers"));
      const twoA2 = feed(standby, oneB, t, "acceptors");
      const proposed = twoA2.filter((x) => x.t === "2a"); // the learners get them too
      got.push(...delivered(l2, [...proposed, ...live.flatMap((a) => feed(a, twoA2, t, "learners"))], t));
    }
    expect(got).toEqual(["4:0"]);
    expect(standby.counters.phase1Runs).toBe(1);
  });

  // Item 6. A client whose datagrams reach only a standing-by proposer: every decision of other
  // clients' values pushed the takeover back, and nobody forwarded its values.
  test("6: a standing-by proposer forwards the values of a client nobody decides, then takes over", () => {
    const p = new Proposer(proposerOptions({ id: 2, incarnation: 41 }));
    step(p, tick, 0);
    step(p, msg(twoB(1, [], 0)), 0);
    for (const acc of [1, 2]) step(p, msg({ t: "nack", acc, ident: acc, rnd: 1001, cRnd: 0, nonce: 41 }), 0);
    step(p, tick, 0);
    expect(p.state).toBe("standby");
    let forwardedAt = -1;
    let tookOverAt = -1;
    for (let t = 1; t <= 2000 && tookOverAt < 0; t++) {
      if (t % 100 === 1) step(p, msg(submitOf([val(1, 0, "starving")])), t); // the client resends
      if (t % 20 === 0) {
        const vote = { inst: t / 20 - 1, vRnd: 1001, vVal: b(val(3, t, "served")) }; // others' values decided
        step(p, msg(twoB(1, [vote], 0)), t);
        step(p, msg(twoB(2, [vote], 0)), t);
      }
      const fx = step(p, tick, t);
      if (forwardedAt < 0 && sent(fx, "proposers", "submit").some((s) => ids(s.runs).includes("1:0"))) forwardedAt = t;
      if (sent(fx, "acceptors", "1a").length > 0) tookOverAt = t;
    }
    expect(forwardedAt).toBeGreaterThanOrEqual(100); // takeoverMs after it arrived
    expect(forwardedAt).toBeLessThan(150);
    expect(tookOverAt).toBeGreaterThan(forwardedAt); // the leader did not decide it either
    expect(tookOverAt).toBeLessThan(forwardedAt + 250);
  });

  // Item 7. A waiting value known decided only through its client's floor stayed waiting, so a
  // standing-by proposer took over from a healthy idle leader, and proposed an empty batch.
  test("7: a value known decided through its client's floor is no reason to take over", () => {
    const p = new Proposer(proposerOptions({ id: 2, incarnation: 51 }));
    step(p, tick, 0);
    step(p, msg(twoB(1, [], 0)), 0);
    for (const acc of [1, 2]) step(p, msg({ t: "nack", acc, ident: acc, rnd: 1001, cRnd: 0, nonce: 51 }), 0);
    step(p, tick, 0);
    step(p, msg(submitOf([val(1, 0)])), 1); // its decision is missed
    step(p, msg(submitOf([{ ...val(1, 1), floor: 1 }])), 50); // seq 0 was acked, says the client
    const vote = { inst: 1, vRnd: 1001, vVal: b({ ...val(1, 1), floor: 1 }) };
    step(p, msg(twoAOf([vote])), 60); // the leader's 2A, then the acceptors' 2Bs
    for (const acc of [1, 2]) step(p, msg(twoB(acc, [vote], 1)), 60);
    for (let t = 61; t < 3000; t += 10) {
      if (t % 250 === 11) step(p, msg({ t: "hello", id: 1, nonce: 7, leading: true, startedMs: 0 }), t); // the leader is there
      expect(to(step(p, tick, t), "acceptors")).toEqual([]);
    }
  });

  test("7: a leader whose waiting values all turned out decided proposes no empty batch", () => {
    // Window of one: the second value waits, and is then known decided through a floor.
    const q = new Proposer(proposerOptions({ id: 1, incarnation: 62, pipelineWindow: 1 }));
    startProposer(q, 0);
    for (const acc of [1, 2]) step(q, msg({ t: "1b", acc, ident: acc, rnd: 1001, nonce: 62, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    expect(q.isLeader).toBe(true);
    step(q, msg(submitOf([val(8, 0), val(1, 0)])), 1);
    step(q, msg(submitOf([{ ...val(1, 1), floor: 1 }])), 2); // 1:0 decided elsewhere
    const vote = { inst: 0, vRnd: 1001 };
    step(q, msg(twoB(1, [vote], 0, 62)), 3);
    const fx = step(q, msg(twoB(2, [vote], 0, 62)), 3);
    expect(sent(fx, "acceptors", "2a").flatMap((x) => x.proposals.map((pr) => ids(pr.cVal)))).toEqual([["1:1"]]);
  });

  // Item 8 (growing backoff) is exercised with loss in the simulator (test/sim/sim.test.ts).
  test("8: each takeover that made no progress doubles the wait before the next; a new higher round defers it", () => {
    const p = new Proposer(proposerOptions({ id: 1, incarnation: 71 }));
    startProposer(p, 0);
    step(p, msg(submitOf([val(1, 0)])), 0);
    const waits: number[] = [];
    let t = 0;
    for (let k = 0; k < 4; k++) {
      const preemptAt = t + 1;
      step(p, msg({ t: "nack", acc: 1, ident: 1, rnd: p.round + 1001, cRnd: 0, nonce: 71 }), preemptAt); // a higher round: preempted
      for (t = preemptAt; t < preemptAt + 10_000; t++) {
        if ((t - preemptAt) % 400 === 0) step(p, msg(submitOf([val(1, 0)])), t); // the client still asks
        if (to(step(p, tick, t), "acceptors").length > 0) break;
      }
      waits.push(t - preemptAt);
    }
    expect(waits).toEqual([300, 600, 1200, 2400]); // takeoverMs × 1.5 × 2^k
    const q = new Proposer(proposerOptions({ id: 2, incarnation: 72 }));
    step(q, tick, 0);
    step(q, msg(twoB(1, [], 0)), 0);
    for (const acc of [1, 2]) step(q, msg({ t: "nack", acc, ident: acc, rnd: 1001, cRnd: 0, nonce: 72 }), 0);
    step(q, tick, 0);
    step(q, msg(submitOf([val(1, 0)])), 0);
    step(q, msg({ t: "1b", acc: 1, ident: 1, rnd: 3003, nonce: 99, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 100); // someone starts Phase 1
    for (t = 101; t < 10_000 && to(step(q, tick, t), "acceptors").length === 0; t++);
    expect(t).toBe(250); // 100 + 150: deferred from when the new round appeared
  });
});

/**
 * Issue 11's operator mistakes, at the protocol level: a second process answering under an
 * acceptor's id (a copied unit, or an in-memory acceptor restarted with its id) used to count as
 * that acceptor, and two learners could deliver different values.
 */
describe("issue 11: acceptor identities", () => {
  test("a proposer ignores a second process answering as a known acceptor, says so, and refuses it", () => {
    const p = new Proposer(proposerOptions({ incarnation: 81 }));
    startProposer(p, 0);
    const oneB = (acc: number, ident: number) =>
      msg({ t: "1b", acc, ident, rnd: 1001, nonce: 81, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 });
    step(p, oneB(1, 1), 0);
    const fx = step(p, oneB(1, 99), 0); // acceptor 1 again, another process
    expect(p.isLeader).toBe(false); // two answers, but one acceptor
    expect(fx.alerts[0]).toMatchObject({ cause: "acceptor-identity", reason: expect.stringMatching(/a second process answering as acceptor 1/) });
    expect(sent(fx, "acceptors", "refuse")).toEqual([{ t: "refuse", acc: 1, ident: 99 }]);
    step(p, oneB(2, 2), 0);
    expect(p.isLeader).toBe(true);
  });

  test("a learner does not count a second process's votes for a known acceptor", () => {
    const l = learner();
    const vote = (acc: number, ident: number) => msg({ ...twoB(acc, [{ inst: 0, vRnd: 1001 }], 0), ident } as Message);
    step(l, msg(twoAOf([{ inst: 0, vRnd: 1001, vVal: b(val(1, 0)) }])), 0);
    step(l, vote(2, 2), 0);
    const fx = step(l, vote(2, 99), 0);
    expect(fx.delivered).toEqual([]);
    expect(fx.alerts).toHaveLength(1);
    expect(ids(step(l, vote(3, 3), 0).delivered)).toEqual(["1:0"]);
  });

  // Issue 22: acceptor 4 may be a member of a configuration this learner does not know yet, so it
  // is not refused; its vote counts only in instances whose configuration has it.
  test("an acceptor outside the instance's configuration does not count toward its majority", () => {
    const l = learner();
    step(l, msg(twoAOf([{ inst: 0, vRnd: 1001, vVal: b(val(1, 0)) }])), 0);
    const vote = (acc: number) => msg(twoB(acc, [{ inst: 0, vRnd: 1001, vVal: b(val(1, 0)) }], 0));
    step(l, vote(1), 0);
    expect(step(l, vote(4), 0).delivered).toEqual([]);
    expect(step(l, vote(5), 0).delivered).toEqual([]);
    expect(ids(step(l, vote(2), 0).delivered)).toEqual(["1:0"]);
  });

  test("an acceptor told it is not the process the cluster knows stops (exit code 5)", () => {
    const a = new Acceptor(acceptorOptions(2, { ident: 99 }));
    expect(step(a, msg({ t: "refuse", acc: 2, ident: 5 }), 0).fatal).toBeUndefined(); // another process
    expect(step(a, msg({ t: "refuse", acc: 2, ident: 99 }), 0).fatal).toMatchObject({ cause: "acceptor-identity", reason: expect.stringMatching(/another process as acceptor 2/) });
  });
});

/** Found in an independent review of issue 10's change. */
describe("review findings", () => {
  test("catch-up accounts with two batches in one round decide nothing, and say so", () => {
    const l = learner();
    const account = (acc: number, text: string) =>
      msg({ t: "votes", acc, ident: acc, from: 0, to: 1, decidedBelow: 1, votes: [{ inst: 0, vRnd: 3003, vVal: b(val(1, 0, text)) }] });
    step(l, account(1, "x"), 0);
    const fx = step(l, account(2, "y"), 0);
    expect(fx.delivered).toEqual([]);
    expect(fx.violations.join()).toMatch(/two different batches voted for instance 0 in round 3003/);
  });

  test("Phase 1 promises with two batches in one round: that instance is reported and not proposed", () => {
    const p = new Proposer(proposerOptions({ incarnation: 91 }));
    startProposer(p, 0);
    const oneB = (acc: number, text: string) =>
      msg({ t: "1b", acc, ident: acc, rnd: 1001, nonce: 91, from: 0, to: 2, done: true, votes: [{ inst: 0, vRnd: 501, vVal: b(val(5, 0, text)) }], decidedBelow: 0 });
    const first = step(p, oneB(1, "x"), 0);
    const fx = step(p, oneB(2, "y"), 0);
    expect(p.isLeader).toBe(true);
    expect([...first.violations, ...fx.violations].join()).toMatch(/two different batches voted for instance 0 in round 501; not proposing there/);
    expect(sent(fx, "acceptors", "2a").flatMap((x) => x.proposals.map((q) => q.inst))).not.toContain(0);
  });

  test("a late answer to its own start-up query does not make a proposer give up its round", () => {
    const p = new Proposer(proposerOptions({ incarnation: 92 }));
    const [oneA] = to(startProposer(p, 0), "acceptors") as { cRnd: number }[];
    // Acceptor 3 promised the round to this proposer, then got a late copy of its query.
    step(p, msg({ t: "nack", acc: 3, ident: 3, rnd: oneA!.cRnd, cRnd: 0, nonce: 92 }), 1);
    const resent = to(step(p, tick, 60), "acceptors");
    expect(resent).toContainEqual(expect.objectContaining({ t: "1a", cRnd: oneA!.cRnd }));
    expect(p.state).toBe("phase1");
  });

  // Simulator seed 7119337. Two processes started as proposer 1 race in one round R: acceptor 1
  // binds R to the twin, acceptors 2 and 3 promise it to A, which leads. The twin stops (duplicate
  // id) and acceptor 3 crashes for good: acceptors 1 and 2 are a majority, but acceptor 1 refuses
  // every 2A of R. The leader ignored those Nacks and resent its 2A in R forever.
  test("a leader whose round an acceptor bound to another incarnation gives it up once no majority votes in it", () => {
    const acc = acceptors();
    const l = learner();
    const [pa, pb] = [new Proposer(proposerOptions({ id: 1, incarnation: 95 })), new Proposer(proposerOptions({ id: 1, incarnation: 96 }))];
    const [aOneA, bOneA] = [to(startProposer(pa, 0, acc), "acceptors"), to(startProposer(pb, 0, acc), "acceptors")];
    const r = pa.round;
    expect(pb.round).toBe(r);
    feed(pb, feed(acc[0]!, bOneA, 1, "proposers"), 1, "acceptors"); // acceptor 1 hears the twin first
    feed(pa, [acc[1]!, acc[2]!].flatMap((a) => feed(a, aOneA, 1, "proposers")), 1, "acceptors");
    expect(pa.isLeader).toBe(true);
    feed(pa, feed(acc[0]!, aOneA, 1, "proposers"), 1, "acceptors"); // acceptor 1: R is bound to the twin
    let live: Acceptor[] = acc;
    const got: string[] = [];
    /** Delivers everything sent, and everything sent in answer, to the live roles (the twin is gone). */
    const run = (fx: Effects, t: number): void => {
      const queue = [...fx.sends];
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        const targets: Role[] = s.to === "acceptors" ? live : s.to === "proposers" ? [pa] : s.to === "learners" ? [l] : [];
        for (const role of targets) {
          const out = step(role, msg(s.msg), t);
          if (role === l) got.push(...ids(out.delivered));
          queue.push(...out.sends);
        }
      }
    };
    const submit = (seq: number, t: number) => run(step(pa, msg(submitOf([val(5, seq)])), t), t);
    submit(0, 2); // acceptors 2 and 3 vote: a majority without acceptor 1, in R
    expect(got).toEqual(["5:0"]);
    live = [acc[0]!, acc[1]!]; // acceptor 3 crashes for good
    submit(1, 3);
    for (let t = 4; t < 3000 && got.length < 2; t++) {
      if (t % 200 === 0) submit(1, t); // the client resends
      run(step(pa, tick, t), t);
    }
    expect(got).toEqual(["5:0", "5:1"]);
    expect(pa.round).toBeGreaterThan(r);
  });

  test("a forward of values already decided is answered: the standing-by proposer does not take over", () => {
    const p = new Proposer(proposerOptions({ id: 2, incarnation: 93 }));
    step(p, tick, 0);
    step(p, msg(twoB(1, [], 0)), 0);
    for (const acc of [1, 2]) step(p, msg({ t: "nack", acc, ident: acc, rnd: 1001, cRnd: 0, nonce: 93 }), 0);
    step(p, tick, 0);
    const leader = new Proposer(proposerOptions({ id: 1, incarnation: 94 }));
    startProposer(leader, 0);
    for (const acc of [1, 2]) step(leader, msg({ t: "1b", acc, ident: acc, rnd: 1001, nonce: 94, from: 0, to: 0, done: true, votes: [], decidedBelow: 0 }), 0);
    step(leader, msg(submitOf([val(1, 0)])), 1);
    for (const acc of [1, 2]) step(leader, msg(twoB(acc, [{ inst: 0, vRnd: 1001 }], 0, 94)), 1); // decided; p missed it
    step(p, msg(submitOf([val(1, 0)])), 1);
    for (let t = 2; t < 3000; t += 10) {
      for (const hello of sent(step(leader, tick, t), "proposers", "hello")) step(p, msg(hello), t);
      const fx = step(p, tick, t);
      for (const fwd of sent(fx, "proposers", "submit")) {
        step(p, msg(fwd), t); // its own forward, by loopback
        for (const ack of sent(step(leader, msg(fwd), t), "proposers", "ack")) step(p, msg(ack), t);
      }
      expect(to(fx, "acceptors")).toEqual([]);
    }
  });
});
