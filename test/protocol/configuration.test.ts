import { describe, expect, test } from "bun:test";
import { Batch } from "../../src/protocol/batch.ts";
import { ConfigHistory, RECONFIG_ALPHA, RECONFIG_CLIENT, CONFIG_HISTORY_MAX, isQuorumOf, parseMembers } from "../../src/protocol/configuration.ts";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { acceptorOptions, b, msg, oneA, sent, twoA, val } from "./helpers.ts";

const enc = new TextEncoder();
/** A batch holding one change line (seq = the epoch it replaces), and optionally a client's value. */
const change = (seq: number, line: string, withValue = false): Batch =>
  Batch.ofRuns([
    ...(withValue ? [{ client: 7, first: 0, floor: 0, count: 1, lines: enc.encode("v\n") }] : []),
    { client: RECONFIG_CLIENT, first: seq, floor: seq, count: 1, lines: enc.encode(`${line}\n`) },
  ]);
const value = Batch.ofRuns([{ client: 7, first: 0, floor: 0, count: 1, lines: enc.encode("v\n") }]);

/** Applies `batches[i]` at instance i, for every i (undefined: a batch of one client value). */
function applyAll(h: ConfigHistory, batches: (Batch | undefined)[]): void {
  batches.forEach((b, i) => h.apply(i, b ?? value));
}

describe("ConfigHistory", () => {
  test("epoch 0 is the config file's acceptors, 1 to N, for every instance below the horizon", () => {
    const h = new ConfigHistory(3);
    expect(h.configOf(0)).toEqual({ epoch: 0, members: [1, 2, 3], from: 0 });
    expect(h.configOf(RECONFIG_ALPHA - 1)?.epoch).toBe(0);
    expect(h.configOf(RECONFIG_ALPHA)).toBeUndefined(); // not known: a change may be decided at 0
    expect(h.isQuorum(5, [1, 3])).toBe(true);
    expect(h.isQuorum(5, [1, 4, 5])).toBe(false); // 4 and 5 are no members
    expect(h.isQuorum(RECONFIG_ALPHA, [1, 2, 3])).toBeUndefined();
  });

  test("a change decided at c governs from c + α; instances below keep the old configuration", () => {
    const h = new ConfigHistory(3);
    applyAll(h, [undefined, undefined, change(0, "1,2,4")]);
    expect(h.epoch).toBe(1);
    expect(h.knownTo).toBe(3);
    expect(h.configOf(2 + RECONFIG_ALPHA - 1)?.members).toEqual([1, 2, 3]);
    expect(h.configOf(2 + RECONFIG_ALPHA)?.members).toEqual([1, 2, 4]);
    expect(h.isQuorum(2 + RECONFIG_ALPHA, [1, 3])).toBe(false); // 3 is out
    expect(h.isQuorum(2 + RECONFIG_ALPHA, [2, 4])).toBe(true);
    expect(h.pendingAt(10)?.epoch).toBe(1);
    expect(h.pendingAt(2 + RECONFIG_ALPHA)).toBeUndefined();
    h.invariants();
  });

  test("a change that names another epoch, or comes while one is pending, or is malformed, changes nothing", () => {
    const h = new ConfigHistory(3);
    applyAll(h, [change(1, "1,2,4"), change(0, "4,2"), change(0, ""), change(0, "0,1"), change(0, "1,2,4"), change(1, "2,4,5")]);
    // Only instance 4's change applies: 0 names epoch 1, 1–3 are malformed (unsorted, empty, id 0), 5 comes while 4's is pending.
    expect(h.history.map((c) => [c.epoch, c.members.join(","), c.from])).toEqual([
      [0, "1,2,3", 0],
      [1, "1,2,4", 4 + RECONFIG_ALPHA],
    ]);
    // Once it governs, the next change applies.
    for (let i = 6; i < 4 + RECONFIG_ALPHA; i++) h.apply(i, value);
    h.apply(4 + RECONFIG_ALPHA, change(1, "2,4,5"));
    expect(h.latest).toEqual({ epoch: 2, members: [2, 4, 5], from: 4 + 2 * RECONFIG_ALPHA });
    h.invariants();
  });

  test("a duplicate of a decided change (a resent value decided twice) is ignored", () => {
    const h = new ConfigHistory(3);
    applyAll(h, [change(0, "1,2,4"), change(0, "1,2,4")]);
    expect(h.epoch).toBe(1);
  });

  test("applying out of order is ignored: an instance already covered, or one after a gap", () => {
    const h = new ConfigHistory(3);
    h.apply(1, change(0, "1,2,4")); // instance 0 not applied yet
    expect(h.epoch).toBe(0);
    expect(h.knownTo).toBe(0);
  });

  test("a stamp of the same epoch moves knownTo; other epochs say who is behind", () => {
    const h = new ConfigHistory(3);
    expect(h.onStamp({ epoch: 0, knownTo: 1000 })).toBe("same");
    expect(h.knownTo).toBe(1000);
    expect(h.onStamp({ epoch: 0, knownTo: 1000 - RECONFIG_ALPHA + 1 })).toBe("same"); // within α: it can still propose and deliver
    expect(h.onStamp({ epoch: 0, knownTo: 1000 - RECONFIG_ALPHA })).toBe("behind"); // α behind: it is told (a Config)
    expect(h.knownTo).toBe(1000); // never back
    expect(h.onStamp({ epoch: 1, knownTo: 5000 })).toBe("ahead");
    expect(h.knownTo).toBe(1000); // another epoch's knownTo says nothing of this history
    h.apply(1000, change(0, "2,3,4"));
    expect(h.onStamp({ epoch: 0, knownTo: 5000 })).toBe("behind");
  });

  test("merging a peer's history adopts its later epochs and knownTo; a contradiction is a violation", () => {
    const peer = new ConfigHistory(3);
    applyAll(peer, [change(0, "1,2,4")]);
    for (let i = 1; i < RECONFIG_ALPHA; i++) peer.apply(i, value);
    peer.apply(RECONFIG_ALPHA, change(1, "2,4,5"));
    const h = new ConfigHistory(3);
    expect(h.merge(peer.history, peer.knownTo)).toEqual({ changed: true });
    expect(h.history).toEqual(peer.history);
    expect(h.knownTo).toBe(peer.knownTo);
    expect(h.merge(peer.history, peer.knownTo)).toEqual({ changed: false });
    const other = new ConfigHistory(3);
    other.apply(0, change(0, "1,3,5"));
    expect(other.merge(peer.history, peer.knownTo).violation).toContain("disagree on configuration epoch 1");
  });

  test("a history keeps the last CONFIG_HISTORY_MAX configurations; a peer's that starts later replaces it", () => {
    const h = new ConfigHistory(1);
    let inst = 0;
    for (let e = 0; e < CONFIG_HISTORY_MAX + 3; e++) {
      while (inst < h.latest.from) h.apply(inst, value), inst++;
      h.apply(inst, change(e, e % 2 === 0 ? "1,2" : "1"));
      inst++;
    }
    expect(h.history.length).toBe(CONFIG_HISTORY_MAX);
    expect(h.epoch).toBe(CONFIG_HISTORY_MAX + 3);
    expect(h.configOf(0)).toBeUndefined(); // older than the history kept
    h.invariants();
    const late = new ConfigHistory(1);
    expect(late.merge(h.history, h.knownTo).changed).toBe(true);
    expect(late.history).toEqual(h.history);
  });

  test("members and quorums", () => {
    expect(parseMembers("1,2,4")).toEqual([1, 2, 4]);
    for (const bad of ["", "1,,2", "2,1", "1,1", "0", "256", "1 ,2", "a"]) expect(parseMembers(bad)).toBeUndefined();
    const c = { epoch: 1, members: [1, 2, 4, 5], from: 0 };
    expect(isQuorumOf(c, [1, 2])).toBe(false);
    expect(isQuorumOf(c, [1, 2, 3, 5])).toBe(true);
  });
});

describe("acceptors and changes (issue 22)", () => {
  const history = [
    { epoch: 0, members: [1, 2, 3], from: 0 },
    { epoch: 1, members: [1, 2, 4], from: 300 },
  ];

  // Acceptor 3 was down while the change that removed it was decided: the first datagram it hears
  // says a later epoch; it asks, learns the history, and stops once the change governs every
  // undecided instance (it is needed for nothing any more); before that it goes on.
  test("an acceptor that was down during its removal asks, learns it, and stops once the change governs", () => {
    const a = new Acceptor(acceptorOptions(3));
    const hello = { kind: "msg", msg: twoA(1001, []), stamp: { epoch: 1, knownTo: 280 } } as const;
    const asked = a.step(hello, 0);
    expect(asked.sends.filter((s) => s.msg.t === "config").map((s) => [s.to, (s.msg as { ask: boolean }).ask])).toEqual([["proposers", true]]);
    const told = (decidedBelow: number) => ({ kind: "msg", msg: { t: "config", history, knownTo: 280, decidedBelow, ask: false, group: "proposers" }, stamp: { epoch: 1, knownTo: 280 } }) as const;
    expect(a.step(told(250), 10).fatal).toBeUndefined(); // instances below 300 are still decided by 1, 2, 3
    expect(a.config.epoch).toBe(1);
    // A 2A says everything below 300 is decided: nothing needs acceptor 3 any more.
    const fx = a.step({ kind: "msg", msg: twoA(1001, [], { decidedBelow: 300 }), stamp: { epoch: 1, knownTo: 300 } }, 20);
    expect(fx.fatal?.cause).toBe("removed");
    expect(fx.fatal?.reason).toMatch(/acceptor 3 was removed from the cluster: configuration epoch 1 \(acceptors 1,2,4\) governs from instance 300/);
  });

  test("a new acceptor votes where it is a member, and where it does not know the configuration yet; not where it is known not to be", () => {
    const a = new Acceptor(acceptorOptions(4));
    a.step({ kind: "msg", msg: { t: "config", history, knownTo: 280, decidedBelow: 0, ask: false, group: "proposers" } }, 0);
    a.step(msg(oneA(1001)), 0);
    const voted = (inst: number) => sent(a.step(msg(twoA(1001, [{ inst, cVal: b(val(1, inst)) }])), 1), "proposers", "2b").some((m) => m.insts.includes(inst));
    expect(voted(10)).toBe(false); // epoch 0: acceptors 1, 2, 3
    expect(voted(300)).toBe(true); // epoch 1 has acceptor 4
    expect(voted(600)).toBe(true); // beyond the horizon (280 + α): not known, its vote counts for nobody if it is not a member
  });
});
