/** VoteTally and highestVote: deciding from votes of one round, and nothing from a broken round. */
import { describe, expect, test } from "bun:test";
import { InvariantError } from "../../src/protocol/assert.ts";
import { DECIDED_VALUE_UNKNOWN, VoteTally, fixedQuorum, highestVote, majority } from "../../src/protocol/tally.ts";
import { ConfigHistory, RECONFIG_ALPHA, RECONFIG_CLIENT } from "../../src/protocol/configuration.ts";
import { Batch } from "../../src/protocol/batch.ts";
import { b, val } from "./helpers.ts";

const x = b(val(1, 0, "x"));
const y = b(val(2, 0, "y"));
/** A tally of 3 acceptors, checked after every call as the driver checks a role after every step. */
function tally3(): { t: VoteTally; violations: string[]; add: (acc: number, inst: number, vRnd: number, owner?: number, vVal?: typeof x) => unknown } {
  const t = new VoteTally(fixedQuorum(3));
  const violations: string[] = [];
  const add = (acc: number, inst: number, vRnd: number, owner = 0, vVal?: typeof x) => {
    const r = t.add(acc, inst, vRnd, owner, vVal, violations);
    t.invariants();
    return r;
  };
  return { t, violations, add };
}

describe("VoteTally", () => {
  test("a majority of one round with the round's batch decides, once", () => {
    const { t, add } = tally3();
    expect(t.propose(0, 1001, 7, x, [])).toBeUndefined(); // the 2A alone decides nothing
    expect(add(1, 0, 1001, 7)).toBeUndefined();
    expect(add(1, 0, 1001, 7)).toBeUndefined(); // the same acceptor again counts once
    expect(add(3, 0, 1001, 7)).toBe(x);
    expect(t.lowestOpen()).toBe(Infinity); // decided: no longer tallied
  });

  test("votes before their batch: decided with the value unknown once, then the batch when the 2A comes", () => {
    const { t, add } = tally3();
    expect(add(1, 4, 1001, 7)).toBeUndefined();
    expect(add(2, 4, 1001, 7)).toBe(DECIDED_VALUE_UNKNOWN);
    expect(add(3, 4, 1001, 7)).toBeUndefined(); // said once
    expect(t.lowestOpen()).toBe(4);
    expect(t.propose(4, 1001, 7, x, [])).toBe(x);
    t.invariants();
  });

  test("a vote that carries its batch (a 1B's, an account's) brings the batch itself", () => {
    const { add } = tally3();
    expect(add(1, 0, 1001, 0, x)).toBeUndefined();
    expect(add(2, 0, 1001, 0)).toBe(x);
  });

  test("votes of different rounds are never combined", () => {
    const { t, add } = tally3();
    t.propose(0, 1001, 7, x, []);
    t.propose(0, 2002, 8, y, []);
    expect(add(1, 0, 1001, 7)).toBeUndefined();
    expect(add(2, 0, 2002, 8)).toBeUndefined();
    expect(add(3, 0, 2002, 8)).toBe(y);
  });

  test("two batches in one round: reported, and the instance never decides, in that round or another", () => {
    const { t, violations, add } = tally3();
    t.propose(0, 1001, 7, x, violations);
    t.propose(0, 1001, 7, y, violations);
    expect(violations).toEqual(["two different batches in round 1001 for instance 0; not deciding on that round"]);
    expect(t.conflicted(0)).toBe(true);
    for (const acc of [1, 2, 3]) expect(add(acc, 0, 1001, 7)).toBeUndefined();
    t.propose(0, 2002, 8, x, violations);
    for (const acc of [1, 2, 3]) expect(add(acc, 0, 2002, 8)).toBeUndefined();
    expect(t.conflicted(1)).toBe(false);
  });

  test("two incarnations in one round: reported, never decides", () => {
    const { t, violations, add } = tally3();
    add(1, 0, 1001, 7, x);
    add(2, 0, 1001, 9, x);
    expect(violations).toEqual(["two proposer incarnations in round 1001 for instance 0; not deciding on that round"]);
    expect(t.conflicted(0)).toBe(true);
    expect(add(3, 0, 1001, 7)).toBeUndefined();
  });

  test("forget and forgetBelow drop instances decided some other way", () => {
    const { t, add } = tally3();
    for (const inst of [3, 5, 9]) add(1, inst, 1001, 7);
    expect(t.lowestOpen()).toBe(3);
    t.forget(3);
    expect(t.lowestOpen()).toBe(5);
    t.forgetBelow(9);
    expect(t.lowestOpen()).toBe(9);
    // The votes dropped count no more: instance 5 starts from nothing.
    t.propose(5, 1001, 7, x, []);
    expect(add(2, 5, 1001, 7)).toBeUndefined();
  });

  test("invariants: a vote from no acceptor id breaks them (callers admit acceptors first)", () => {
    const { t } = tally3();
    t.add(0, 0, 1001, 7, undefined, []);
    expect(() => t.invariants()).toThrow(new InvariantError("a vote comes from an acceptor id"));
  });

  test("votes of acceptors outside the configuration do not count", () => {
    const { add } = tally3();
    expect(add(4, 0, 1001, 7, x)).toBeUndefined();
    expect(add(5, 0, 1001, 7)).toBeUndefined();
    expect(add(1, 0, 1001, 7)).toBeUndefined();
    expect(add(2, 0, 1001, 7)).toBe(x);
  });

  test("invariants: an instance a round decided must not stay tallied", () => {
    const { t } = tally3();
    t.add(1, 0, 1001, 7, x, []);
    // Planted: a second voter slipped in without `add` (which would have decided and dropped it).
    const rounds = (t as unknown as { open: Map<number, Map<number, { voters: Set<number> }>> }).open;
    rounds.get(0)!.get(1001)!.voters.add(2);
    expect(() => t.invariants()).toThrow(new InvariantError("an instance a clean round decided is no longer tallied"));
  });

  test("an instance whose configuration is not known waits; recheck decides it once it is, by that configuration", () => {
    const config = new ConfigHistory(3);
    const t = new VoteTally(config);
    const inst = RECONFIG_ALPHA + 5; // beyond the horizon: a change decided at 0..5 may govern it
    t.propose(inst, 1001, 7, x, []);
    expect(t.add(1, inst, 1001, 7, undefined, [])).toBeUndefined();
    expect(t.add(3, inst, 1001, 7, undefined, [])).toBeUndefined();
    expect(t.add(4, inst, 1001, 7, undefined, [])).toBeUndefined();
    t.invariants();
    // Instance 0 decides a change to 1,2,4 (governing from α); 1..5 nothing.
    const change = Batch.ofRuns([{ client: RECONFIG_CLIENT, first: 0, floor: 0, count: 1, lines: new TextEncoder().encode("1,2,4\n") }]);
    config.apply(0, change);
    expect(t.recheck(RECONFIG_ALPHA, RECONFIG_ALPHA + 1)).toEqual([]); // nothing tallied there
    for (let i = 1; i <= 5; i++) config.apply(i, Batch.EMPTY);
    // In 1,2,4 the votes of 1 and 4 are a majority (3 is out): decided.
    expect(t.recheck(RECONFIG_ALPHA + 1, config.horizon)).toEqual([[inst, x, 1001]]);
    t.invariants();
  });

  test("recheck says a quorum without its batch decided once, for every such round", () => {
    const t = new VoteTally(fixedQuorum(3));
    for (const acc of [1, 2]) t.add(acc, 0, 1001, 7, undefined, []);
    expect(t.recheck(0, 1)).toEqual([]); // add already said it
    t.invariants();
  });
});

describe("highestVote", () => {
  test("the vote of the highest round, null when none voted", () => {
    expect(highestVote([null, null], [])).toBeNull();
    const best = highestVote([{ inst: 0, vRnd: 1001, vVal: x }, null, { inst: 0, vRnd: 2002, vVal: y }, { inst: 0, vRnd: 2002, vVal: y }], []);
    expect(best).toEqual({ inst: 0, vRnd: 2002, vVal: y });
  });

  test("two batches in the highest round: reported, and nothing", () => {
    const violations: string[] = [];
    expect(highestVote([{ inst: 3, vRnd: 2002, vVal: x }, { inst: 3, vRnd: 2002, vVal: y }, { inst: 3, vRnd: 1001, vVal: x }], violations)).toBeNull();
    expect(violations).toEqual(["two different batches voted for instance 3 in round 2002; not deciding on it"]);
  });

  test("a conflict in a lower round is outvoted by a higher one", () => {
    const violations: string[] = [];
    expect(highestVote([{ inst: 3, vRnd: 1001, vVal: x }, { inst: 3, vRnd: 1001, vVal: y }, { inst: 3, vRnd: 3003, vVal: y }], violations)?.vVal).toBe(y);
    expect(violations).toEqual([]);
  });
});

test("majority", () => {
  expect([1, 2, 3, 4, 5, 7].map(majority)).toEqual([1, 2, 2, 3, 3, 4]);
});
