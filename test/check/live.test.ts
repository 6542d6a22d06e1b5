import { expect, test } from "bun:test";
import { checkAll, type NamedLines } from "../../src/check/check.ts";
import { LiveCheck } from "../../src/check/live.ts";
import { Prng } from "../../src/prng.ts";

/** Feeds the outputs in random chunks, interleaved, and compares the verdicts with check.ts's on the whole files. */
function live(proposed: NamedLines[], learned: NamedLines[], seed: number): LiveCheck {
  const rng = new Prng(seed);
  const c = new LiveCheck();
  for (const p of proposed) c.propose(p.lines);
  const at = learned.map(() => 0);
  while (at.some((a, i) => a < learned[i]!.lines.length)) {
    const i = Math.floor(rng.next() * learned.length);
    const n = 1 + Math.floor(rng.next() * 5);
    c.learn(learned[i]!.name, learned[i]!.lines.slice(at[i], at[i]! + n));
    at[i] = Math.min(learned[i]!.lines.length, at[i]! + n);
  }
  for (const l of learned) c.learn(l.name, []);
  return c;
}

const proposed = [
  { name: "values-client-1.txt", lines: ["a1", "a2", "a3", "a4"] },
  { name: "values-client-2.txt", lines: ["b1", "b2", "b3"] },
];

test("agrees with check.ts on good, reordered, duplicated, unproposed and partial outputs", () => {
  const order = ["a1", "b1", "a2", "b2", "a3", "b3", "a4"];
  const cases: NamedLines[][] = [
    [{ name: "learner-1.txt", lines: order }, { name: "learner-2.txt", lines: order }],
    [{ name: "learner-1.txt", lines: order }, { name: "learner-2.txt", lines: order.slice(0, 4) }],
    [{ name: "learner-1.txt", lines: order }, { name: "learner-2.txt", lines: ["a1", "b1", "b2", "a2"] }],
    [{ name: "learner-1.txt", lines: [...order, "a1"] }, { name: "learner-2.txt", lines: order }],
    [{ name: "learner-1.txt", lines: ["a1", "zz"] }],
  ];
  for (const learned of cases) {
    for (const seed of [1, 2, 3]) {
      const want = checkAll(proposed, learned);
      const got = live(proposed, learned, seed).results();
      expect(got.map((r) => r.ok)).toEqual(want.map((r, i) => (i === 2 ? true : r.ok))); // agreement is never "failed" live
      expect(got[2]!.state).toBe(want[2]!.ok ? "ok" : "pending");
      for (const i of [0, 1]) if (!want[i]!.ok) expect(got[i]!.state).toBe("failed");
    }
  }
});

test("a failure stays, and names the first offending line", () => {
  const c = new LiveCheck();
  c.propose(["x", "y"]);
  c.learn("learner-1.txt", ["x", "y"]);
  c.learn("learner-2.txt", ["y"]);
  expect(c.results()[0]).toMatchObject({ state: "failed", detail: 'learner-2.txt line 1: "y", but learner-1.txt line 1: "x"' });
  c.learn("learner-2.txt", ["x"]);
  expect(c.results()[0]!.state).toBe("failed");
});

test("a restarted learner is compared again from its first line", () => {
  const c = new LiveCheck();
  c.propose(["x", "y"]);
  c.learn("learner-1.txt", ["x", "y"]);
  c.learn("learner-2.txt", ["x"]);
  c.restart("learner-2.txt");
  c.learn("learner-2.txt", ["x", "y"]);
  expect(c.results().map((r) => r.state)).toEqual(["ok", "ok", "ok"]);
});
