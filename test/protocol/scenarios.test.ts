/**
 * Regression scenarios found in review, replayed with the pure roles message by message.
 */
import { expect, test } from "bun:test";
import { Client } from "../../src/protocol/client.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { acceptors, clientOptions, feed, ids, learner, msg, proposerOptions, startProposer, step, submitOf, tick, to } from "./helpers.ts";

const popts = (id: number) => proposerOptions({ id, incarnation: 100 + id });

test("a value decided in a lower instance by a stale leader does not hide one acked before it", () => {
  const A = acceptors(3, { catchupDatagramsMax: 64, retainInstances: 10_000 });
  const [L, M] = [new Proposer(popts(1)), new Proposer(popts(2))];
  const l = learner();
  const client = new Client(clientOptions({ outstandingMax: 10, retransmitMs: 500, retransmitMinMs: 50, seqBase: 0 }));
  const submit = (text: string, t: number) => step(client, { kind: "submit", lines: new TextEncoder().encode(`${text}\n`), count: 1 }, t);
  // L leads round 1001 with every acceptor; M then gets round 1002 from a1 and a2 only.
  const lOneA = to(startProposer(L, 0, A), "acceptors");
  feed(L, A.flatMap((a) => feed(a, lOneA, 0, "proposers")), 0, "acceptors");
  const mOneA = to(startProposer(M, 0, [A[0]!, A[1]!]), "acceptors");
  feed(M, [A[0]!, A[1]!].flatMap((a) => feed(a, mOneA, 0, "proposers")), 0, "acceptors");
  expect([L.isLeader, M.isLeader]).toEqual([true, true]);
  // M's 2A for instance 0 is lost; s = 7:0 is decided at instance 1 and acked.
  step(M, msg(submitOf([{ client: 8, seq: 0, floor: 0, data: new Uint8Array([120]) }])), 1);
  const twoA = feed(M, to(submit("s", 1), "proposers"), 2, "acceptors");
  const acks = feed(M, [A[0]!, A[1]!].flatMap((a) => feed(a, twoA, 2, "proposers")), 3, "clients");
  for (const a of acks) step(client, msg(a), 4);
  // v = 7:1 (floor 1) reaches only the stale leader L, which puts it at instance 0; only a3 accepts.
  const lTwoA = feed(L, to(submit("v", 5), "proposers"), 5, "acceptors");
  feed(L, A.flatMap((a) => feed(a, lTwoA, 5, "proposers")), 6, "acceptors");
  // M crashes; L takes over with a2 and a3, re-proposing v at 0 and s at 1.
  const takeoverOneA = to(step(L, tick, 1000), "acceptors");
  const oneB = [A[1]!, A[2]!].flatMap((a) => feed(a, takeoverOneA, 1000, "proposers"));
  const takeoverFx = oneB.map((x) => step(L, msg(x), 1001));
  const takeover = takeoverFx.flatMap((fx) => to(fx, "acceptors"));
  // The learner gets L's 2A (the batches) and then the acceptors' 2Bs.
  const delivered = [...takeoverFx.flatMap((fx) => to(fx, "learners")), ...A.flatMap((a) => feed(a, takeover, 1002, "learners"))]
    .flatMap((x) => ids(step(l, msg(x), 1002).delivered));
  expect(delivered.sort()).toEqual(["7:0", "7:1"]);
});
