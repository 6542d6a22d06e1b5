/**
 * Issue 20's protocol findings (an audit of 0.2.0), each replayed with the pure roles message by
 * message; each test failed before its fix.
 */
import { describe, expect, test } from "bun:test";
import { Proposer } from "../../src/protocol/proposer.ts";
import { acceptors, b, feed, lead, learner, msg, proposerOptions, startProposer, step, submitOf, tick, to, twoA, val } from "./helpers.ts";

describe("issue 20", () => {
  // Item 8. A stray 2A far ahead (a forged or corrupted datagram, instance 5000) used to count as
  // an instance the learner had seen: its Catchups said so (seenTo), and the leader filled the
  // hole up to there with no-ops, 1000 (the bound) per request, 5001 in all.
  test("8: a stray 2A far ahead makes no leader fill holes up to it", () => {
    const acc = acceptors();
    const p = new Proposer(proposerOptions({ instancesAheadMax: 1000 }));
    lead(p, acc, 0);
    const l = learner();
    step(l, msg(twoA(999_001, [{ inst: 5000, cVal: b(val(9, 0)) }], { nonce: 5 })), 1);
    let proposed = 0;
    for (let t = 100; t < 20_000; t += 100) {
      const fx = step(l, tick, t);
      for (const c of to(fx, "proposers")) {
        const twoAs = to(step(p, msg(c), t), "acceptors").filter((x) => x.t === "2a");
        for (const x of twoAs) if (x.t === "2a") proposed += x.proposals.length;
        // The acceptors vote and everyone hears it, as in a live cluster.
        for (const x of twoAs) for (const a of acc) for (const y of to(step(a, msg(x), t), "proposers")) { step(p, msg(y), t); step(l, msg(y), t); }
        for (const x of twoAs) step(l, msg(x), t);
      }
    }
    expect(proposed).toBe(0);
  });

  // Item 6. Instance 0 was decided by acceptors 1 and 2 (x, round of L); standby S saw their 2Bs
  // but missed L's 2A, so it knows 0 decided without its batch. L and acceptor 1 crash for good.
  // A learner that starts now gets accounts from acceptors 2 and 3 that do not show 0 decided
  // (nobody told them), and S answered nothing: it used to wait until new values came.
  test("6: a standby that knows an instance decided but not its batch helps a stuck learner, with the cluster idle", () => {
    const acc = acceptors();
    const leader = new Proposer(proposerOptions({ id: 1, incarnation: 11 }));
    const standby = new Proposer(proposerOptions({ id: 2, incarnation: 12 }));
    lead(leader, acc, 0);
    startProposer(standby, 0, acc); // it sees the leader's promises: it stands by
    const twoA = to(step(leader, msg(submitOf([val(4, 0, "x")])), 1), "acceptors");
    const twoBs = [acc[0]!, acc[1]!].flatMap((a) => feed(a, twoA, 1, "proposers")); // acceptor 3 missed the 2A
    for (const x of twoBs) step(standby, msg(x), 2); // the standby missed the 2A, not the 2Bs
    expect(standby.decidedPrefix).toBe(1);
    // The leader and acceptor 1 crash for good; a new learner starts; nothing else happens.
    const live = [acc[1]!, acc[2]!];
    const l = learner({ id: 2 });
    const got: string[] = [];
    for (let t = 10; t < 10_000 && got.length === 0; t += 10) {
      const fx = step(l, tick, t);
      const answers = [...live.flatMap((a) => feed(a, to(fx, "acceptors"), t, "learners")), ...feed(standby, to(fx, "proposers"), t, "learners")];
      for (const x of answers) for (const d of step(l, msg(x), t).delivered) got.push(new TextDecoder().decode(d.lines).trim());
      step(standby, tick, t);
    }
    expect(got).toEqual(["x"]);
  });

  // Item 7. Duplicate ids were told apart by rounds seen: a restarted proposer alone in its
  // cluster was stopped by two late datagrams of its previous life; two live processes with one
  // id and no traffic both ran on; a lingering old process made the new one stop and then
  // stopped itself. Now Hellos tell: only Hellos of one other process heard over a grace period
  // count, the later-started one stops, and the other one only if the first cannot hear it.
  describe("7: duplicate proposer ids", () => {
    const GRACE = 1000;
    /** Two proposers with id 1 (wall-clock starts a and b) exchanging Hellos every tick while `link(from, to)`. */
    function twins(startA: number, startB: number, link: (from: "a" | "b", to: "a" | "b", t: number) => boolean, untilMs: number) {
      const a = new Proposer(proposerOptions({ id: 1, incarnation: 41, roundFloor: startA * 1000, duplicateGraceMs: GRACE }));
      const b = new Proposer(proposerOptions({ id: 1, incarnation: 42, roundFloor: startB * 1000, duplicateGraceMs: GRACE }));
      const stopped: Record<string, number> = {};
      const alive = { a: true, b: true };
      for (let t = 0; t <= untilMs; t += 50) {
        for (const [name, p, other] of [["a", a, "b"], ["b", b, "a"]] as const) {
          if (!alive[name]) continue;
          const fx = step(p, tick, t);
          for (const h of to(fx, "proposers").filter((x) => x.t === "hello")) {
            if (!alive[other] || !link(name, other, t)) continue;
            const got = (other === "a" ? a : b).step(msg(h), t);
            if (got.fatal !== undefined) {
              alive[other] = false;
              stopped[other] = t;
            }
          }
        }
      }
      return { stopped, a, b };
    }

    test("two live processes with one id and no values: the one started later stops, after a grace period, and only it", () => {
      const { stopped } = twins(1_000_000, 1_005_000, () => true, 10 * GRACE);
      expect(Object.keys(stopped)).toEqual(["b"]);
      expect(stopped.b!).toBeGreaterThanOrEqual(GRACE);
      expect(stopped.b!).toBeLessThan(2 * GRACE);
    });

    test("started at the same time (by their clocks): exactly one stops", () => {
      const { stopped } = twins(1_000_000, 1_000_000, () => true, 10 * GRACE);
      expect(Object.keys(stopped).length).toBe(1);
    });

    test("the one that should stop cannot hear the other: the other stops instead, and only it", () => {
      const { stopped } = twins(1_000_000, 1_005_000, (from) => from === "b", 10 * GRACE); // only b's Hellos get through
      expect(Object.keys(stopped)).toEqual(["a"]);
      expect(stopped.a!).toBeGreaterThanOrEqual(3 * GRACE);
    });

    test("a restarted proposer alone is not stopped by late Hellos of its previous life", () => {
      const p = new Proposer(proposerOptions({ id: 1, incarnation: 43, roundFloor: 2_000_000 * 1000, duplicateGraceMs: GRACE }));
      startProposer(p, 0);
      const old = (t: number) => msg({ t: "hello", id: 1, nonce: 40, leading: true, startedMs: 1_000_000 });
      // Late copies of the old incarnation's last Hellos, in bursts, never over a grace period of its own.
      for (const t of [10, 20, 30, 600, 900]) expect(step(p, old(t), t).fatal).toBeUndefined();
      for (const t of [5000, 5300, 5900]) expect(step(p, old(t), t).fatal).toBeUndefined();
      expect(p.state).not.toBe("stopped");
    });
  });

  // Item 13. A leader killed in an idle cluster was never replaced: a standby took over only for
  // work (values waiting, a hole), and with the clients done there was none.
  test("13: a standby takes over from a leader that is gone, in an idle cluster; not from one that says Hello", () => {
    const acc = acceptors();
    const leader = new Proposer(proposerOptions({ id: 1, incarnation: 51 }));
    const standby = new Proposer(proposerOptions({ id: 2, incarnation: 52, probeWaitMs: undefined }));
    lead(leader, acc, 0);
    // A new proposer waits for a leader's Hello before its first Phase 1: it hears one, it stands by.
    step(standby, msg({ t: "hello", id: 1, nonce: 51, leading: true, startedMs: 0 }), 0);
    startProposer(standby, 0, acc);
    expect(standby.state).toBe("standby");
    const run = (from: number, until: number, leaderAlive: boolean): number | undefined => {
      for (let t = from; t <= until; t += 10) {
        if (leaderAlive) for (const h of to(step(leader, tick, t), "proposers")) step(standby, msg(h), t);
        const oneA = to(step(standby, tick, t), "acceptors").filter((x) => x.t === "1a");
        if (oneA.length > 0) {
          feed(standby, acc.flatMap((a) => feed(a, oneA, t, "proposers")), t, "acceptors");
          if (standby.isLeader) return t;
        }
      }
      return undefined;
    };
    expect(run(10, 20_000, true)).toBeUndefined(); // an idle leader that says Hello keeps leading
    const tookOver = run(20_010, 40_000, false); // it is killed
    expect(tookOver).toBeDefined();
    expect(tookOver! - 20_000).toBeLessThan(5000);
  });
});
