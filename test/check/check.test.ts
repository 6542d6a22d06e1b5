import { describe, expect, test } from "bun:test";
import { checkAll, type NamedLines } from "../../src/check/check.ts";

const file = (name: string, lines: string[]): NamedLines => ({ name, lines });
const proposed = [file("values-client-1.txt", ["a1", "a2", "same"]), file("values-client-2.txt", ["b1", "same"])];
const good = ["a1", "b1", "same", "a2", "same"];

function verdicts(learned: NamedLines[]) {
  return checkAll(proposed, learned).map((r) => `${r.property}: ${r.ok ? "OK" : `FAILED ${r.detail}`}`);
}

describe("paxos check", () => {
  test("a correct run passes all three checks, also with a learner that is a prefix (stopped early)", () => {
    const r = checkAll(proposed, [file("learner-1.txt", good), file("learner-2.txt", good)]);
    expect(r.every((x) => x.ok)).toBe(true);
    const prefix = checkAll(proposed, [file("learner-1.txt", good), file("learner-2.txt", good.slice(0, 3))]);
    expect(prefix.map((x) => x.ok)).toEqual([true, true, false]);
  });

  test("reordered: total order fails at the first differing line", () => {
    const v = verdicts([file("learner-1.txt", good), file("learner-2.txt", ["a1", "same", "b1", "a2", "same"])]);
    expect(v[0]).toBe('Total order: FAILED learner-2.txt line 2: "same", but learner-1.txt line 2: "b1"');
    expect(v.slice(1)).toEqual(["Integrity: OK", "Agreement: OK"]);
  });

  test("missing: agreement names the value and where it was proposed", () => {
    const v = verdicts([file("learner-1.txt", good), file("learner-2.txt", ["a1", "b1", "same", "same"])]);
    expect(v[2]).toBe('Agreement: FAILED learner-2.txt: "a2" (values-client-1.txt line 2) was never learned (4 of 5 values learned)');
  });

  test("foreign: integrity fails on a value nobody proposed", () => {
    const v = verdicts([file("learner-1.txt", ["a1", "evil", "b1"])]);
    expect(v[1]).toBe('Integrity: FAILED learner-1.txt line 2: "evil" was never proposed');
  });

  test("duplicated: integrity fails when a value is learned more often than proposed", () => {
    const v = verdicts([file("learner-1.txt", ["a1", "b1", "a1"])]);
    expect(v[1]).toBe('Integrity: FAILED learner-1.txt line 3: "a1" learned 2 times, proposed 1 time(s)');
    const same = verdicts([file("learner-1.txt", ["same", "same", "same"])]);
    expect(same[1]).toBe('Integrity: FAILED learner-1.txt line 3: "same" learned 3 times, proposed 2 time(s)');
  });
});
