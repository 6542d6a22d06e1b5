import { describe, expect, test } from "bun:test";
import type { Archive } from "../../src/protocol/archive.ts";
import type { Learner, LearnerOptions } from "../../src/protocol/learner.ts";
import type { Input } from "../../src/protocol/messages.ts";
import type { Value } from "./values.ts";
import { MemoryArchive } from "../sim/archive.ts";
import { b, ids, learner, msg, sent, step, tick, twoA, twoAOf, twoB, val } from "./helpers.ts";

/** What a learner hears when acceptor `acc` votes in round `vRnd` for `values` at `inst`: the round's 2A, then the 2B. */
function vote2B(acc: number, inst: number, vRnd: number, values: Value[]): Input[] {
  const vote = { inst, vRnd, vVal: b(...values) };
  return [msg(twoAOf([vote])), msg(twoB(acc, [vote]))];
}

/** Steps a learner through several inputs; returns the effects of the last. */
const stepAll = (l: Learner, inputs: Input[], t: number) => inputs.map((i) => step(l, i, t)).reduce((all, fx) => {
  for (const d of fx.delivered) all.deliver(d);
  return all;
});

describe("learner", () => {
  test("decides from a majority of 2B of one round, never from one", () => {
    const l = learner();
    expect(stepAll(l, vote2B(1, 0, 1001, [val(1, 0)]), 0).delivered).toEqual([]);
    expect(stepAll(l, vote2B(1, 0, 1001, [val(1, 0)]), 0).delivered).toEqual([]); // duplicate
    expect(ids(stepAll(l, vote2B(3, 0, 1001, [val(1, 0)]), 0).delivered)).toEqual(["1:0"]);
  });

  test("does not combine votes of different rounds", () => {
    const l = learner();
    stepAll(l, vote2B(1, 0, 1001, [val(1, 0)]), 0);
    expect(stepAll(l, vote2B(2, 0, 2002, [val(2, 0)]), 0).delivered).toEqual([]);
    expect(ids(stepAll(l, vote2B(3, 0, 2002, [val(2, 0)]), 0).delivered)).toEqual(["2:0"]);
  });

  test("delivers in instance order without gaps", () => {
    const l = learner();
    for (const acc of [1, 2]) expect(stepAll(l, vote2B(acc, 1, 1001, [val(1, 1)]), 0).delivered).toEqual([]);
    stepAll(l, vote2B(1, 0, 1001, [val(1, 0)]), 0);
    expect(ids(stepAll(l, vote2B(2, 0, 1001, [val(1, 0)]), 0).delivered)).toEqual(["1:0", "1:1"]);
    expect(l.nextInstance).toBe(2);
  });

  test("delivers each id once even when decided in two instances; equal contents are distinct values", () => {
    const l = learner();
    const delivered: string[] = [];
    const batches: Value[][] = [[val(1, 0, "same")], [val(1, 0, "same"), val(2, 0, "same")], []];
    batches.forEach((batch, inst) => {
      for (const acc of [1, 2]) delivered.push(...ids(stepAll(l, vote2B(acc, inst, 1001, batch), 0).delivered));
    });
    expect(delivered).toEqual(["1:0", "2:0"]);
  });

  test("accepts a Decision relayed by a proposer", () => {
    const l = learner();
    const fx = step(l, msg({ t: "decision", decided: [{ inst: 0, cVal: b(val(4, 2)) }], decidedBelow: 1 }), 0);
    expect(ids(fx.delivered)).toEqual(["4:2"]);
  });

  test("asks for a gap once it has lasted catchupMs", () => {
    const l = learner();
    for (const acc of [1, 2]) stepAll(l, vote2B(acc, 3, 1001, [val(1, 3)]), 100);
    expect(sent(step(l, tick, 120), "acceptors", "catchup")).toEqual([]);
    const fx = step(l, tick, 150);
    expect(sent(fx, "acceptors", "catchup")[0]).toMatchObject({ from: 0, to: 3 }); // only the hole
    expect(sent(fx, "proposers", "catchup")).toHaveLength(1);
  });

  test("probes when idle, backing off", () => {
    const l = learner();
    const probes: number[] = [];
    for (let t = 0; t <= 2000; t += 10) if (sent(step(l, tick, t), "acceptors", "catchup").length > 0) probes.push(t);
    expect(probes.slice(0, 4)).toEqual([50, 150, 350, 750]);
    expect(probes[probes.length - 1]! - probes[probes.length - 2]!).toBe(400);
  });
});

describe("learner and trimming", () => {
  test("gives up, saying why, once a majority of acceptors trimmed past its next instance", () => {
    const l = learner();
    expect(step(l, msg({ t: "trimmed", acc: 1, ident: 1, below: 50 }), 0).fatal).toBeUndefined();
    expect(step(l, msg({ t: "trimmed", acc: 2, ident: 2, below: 60 }), 0).fatal?.reason).toMatch(/instance 0 is needed but a majority of acceptors dropped every instance below 50/);
  });

  test("does not give up when what was trimmed is already behind it", () => {
    const l = learner();
    for (const acc of [1, 2]) stepAll(l, vote2B(acc, 0, 1001, [val(1, 0)]), 0);
    for (const acc of [1, 2, 3]) expect(step(l, msg({ t: "trimmed", acc, ident: acc, below: 1 }), 0).fatal).toBeUndefined();
  });
});

describe("learner recovery of decided instances", () => {
  test("takes the highest-vRnd vote of a majority's accounts for an instance known decided", () => {
    const l = learner();
    const account = (acc: number, votes: { inst: number; vRnd: number; vVal: ReturnType<typeof b> }[]) =>
      msg({ t: "votes", acc, ident: acc, from: 0, to: 1, decidedBelow: 1, votes });
    // Votes spread over rounds: no round has a majority, so 2B counting alone never decides.
    expect(step(l, account(1, [{ inst: 0, vRnd: 1001, vVal: b(val(1, 0, "old")) }]), 0).delivered).toEqual([]);
    const fx = step(l, account(3, [{ inst: 0, vRnd: 3003, vVal: b(val(2, 0, "new")) }]), 0);
    expect(ids(fx.delivered)).toEqual(["2:0"]);
  });

  test("a majority of value-less votes without the round's 2A is completed by an account carrying the batch", () => {
    const l = learner();
    for (const acc of [1, 2]) expect(step(l, msg(twoB(acc, [{ inst: 0, vRnd: 1001 }])), 0).delivered).toEqual([]); // the 2A was lost
    const fx = step(l, msg({ t: "votes", acc: 2, ident: 2, from: 0, to: 1, decidedBelow: 0, votes: [{ inst: 0, vRnd: 1001, vVal: b(val(6, 0)) }] }), 0);
    expect(ids(fx.delivered)).toEqual(["6:0"]);
  });

  test("a 2A whose round has another owner than its votes decides nothing, and is reported", () => {
    const l = learner();
    for (const acc of [1, 2]) step(l, msg(twoB(acc, [{ inst: 0, vRnd: 1001 }], 0, 5)), 0);
    const fx = step(l, msg(twoA(1001, [{ inst: 0, cVal: b(val(6, 0)) }], { nonce: 6 })), 0);
    expect(fx.delivered).toEqual([]);
    expect(fx.violations[0]).toMatch(/two proposer incarnations in round 1001 for instance 0/);
  });

  test("never does so for an instance not known decided", () => {
    const l = learner();
    const account = (acc: number, vRnd: number) => msg({ t: "votes", acc, ident: acc, from: 0, to: 1, decidedBelow: 0, votes: [{ inst: 0, vRnd, vVal: b(val(acc, 0)) }] });
    step(l, account(1, 1001), 0);
    expect(step(l, account(3, 3003), 0).delivered).toEqual([]);
  });
});

describe("learner archives", () => {
  const archived = (store: Archive, over: Partial<LearnerOptions> = {}) => learner({ archives: true, archive: { store, datagramBytesMax: 1400, datagramsMax: 4 }, ...over });
  const decision = (decided: { inst: number; cVal: ReturnType<typeof b> }[], decidedBelow: number) => msg({ t: "decision", decided, decidedBelow });

  test("keeps every instance it delivers, in order, and answers a Catchup from it with its decided prefix", () => {
    const store = new MemoryArchive();
    const l = archived(store);
    step(l, decision([{ inst: 1, cVal: b(val(1, 1)) }], 0), 0);
    expect(store.size).toBe(0); // decided, not delivered: instance 0 is missing
    step(l, decision([{ inst: 0, cVal: b(val(1, 0)) }, { inst: 2, cVal: b(val(1, 2)) }], 5), 0);
    expect(store.read(0, 10, 1e6).map((p) => ids(p.cVal))).toEqual([["1:0"], ["1:1"], ["1:2"]]);
    const fx = step(l, msg({ t: "catchup", from: 1, to: 100, decidedBelow: 0, seenTo: 0 }), 1);
    expect(sent(fx, "learners", "decision").map((d) => [d.decided.map((p) => p.inst), d.decidedBelow])).toEqual([[[1, 2], 5]]);
    expect(sent(step(l, msg({ t: "catchup", from: 3, to: 100, decidedBelow: 0, seenTo: 0 }), 1), "learners", "decision")).toEqual([]); // has none of those
  });

  test("a late learner gets everything from another learner's archive", () => {
    const store = new MemoryArchive();
    const a = archived(store);
    step(a, decision([0, 1, 2].map((inst) => ({ inst, cVal: b(val(1, inst)) })), 3), 0);
    const late = archived(new MemoryArchive(), { id: 2 });
    const [ask] = sent(step(late, tick, 100), "learners", "catchup"); // its idle probe asks the learners too
    const answers = sent(step(a, msg(ask!), 100), "learners", "decision");
    const delivered = answers.flatMap((d) => ids(step(late, msg(d), 101).delivered));
    expect(delivered).toEqual(["1:0", "1:1", "1:2"]);
  });

  test("a damaged archive stops the learner, saying so, rather than serve garbage", () => {
    const damaged: Archive = { append: () => {}, read: () => ({ damage: "learner-1.archive: instance 0 holds a malformed batch" }) };
    const fx = step(archived(damaged), msg({ t: "catchup", from: 0, to: 10, decidedBelow: 0, seenTo: 0 }), 0);
    expect(fx.fatal).toEqual({ cause: "storage", reason: expect.stringContaining("the learner archive is damaged: learner-1.archive: instance 0 holds a malformed batch") });
    expect(fx.sends).toEqual([]);
  });

  test("without an archive, a Catchup from another learner is not answered", () => {
    expect(step(learner(), msg({ t: "catchup", from: 0, to: 10, decidedBelow: 0, seenTo: 0 }), 0).sends).toEqual([]);
  });
});
