/**
 * Regression scenarios found in review, replayed with the pure roles message by message.
 */
import { expect, test } from "bun:test";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Client } from "../../src/protocol/client.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Effects, Group, Message, Role } from "../../src/protocol/messages.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { ids, proposerOptions, startProposer, submitOf } from "./helpers.ts";

const popts = (id: number) => proposerOptions({ id, incarnation: 100 + id });
const m = (x: Message) => ({ kind: "msg" as const, msg: x });
const tick = { kind: "tick" as const };
const to = (fx: Effects, g: Group) => fx.sends.filter((s) => s.to === g).map((s) => s.msg);
const feed = (role: Role, msgs: Message[], t: number) => msgs.map((x) => role.step(m(x), t));

test("a value decided in a lower instance by a stale leader does not hide one acked before it", () => {
  const A = [1, 2, 3].map((id) => new Acceptor({ id, ident: id, datagramBytesMax: 1400, catchupDatagramsMax: 64, retainInstances: 10_000 }));
  const [L, M] = [new Proposer(popts(1)), new Proposer(popts(2))];
  const learner = new Learner({ id: 1, acceptors: 3, catchupMs: 50, idleProbeMaxMs: 400 });
  const client = new Client({ id: 7, acceptors: 3, outstandingMax: 10, batchBytesMax: 1296, retransmitMs: 500, retransmitMinMs: 50, seqBase: 0 });
  const submit = (text: string, t: number) => client.step({ kind: "submit", lines: new TextEncoder().encode(`${text}\n`), count: 1 }, t);
  // L leads round 1001 with every acceptor; M then gets round 1002 from a1 and a2 only.
  const lOneA = to(startProposer(L, 0, A), "acceptors");
  feed(L, A.flatMap((a) => feed(a, lOneA, 0)).flatMap((fx) => to(fx, "proposers")), 0);
  const mOneA = to(startProposer(M, 0, [A[0]!, A[1]!]), "acceptors");
  feed(M, [A[0]!, A[1]!].flatMap((a) => feed(a, mOneA, 0)).flatMap((fx) => to(fx, "proposers")), 0);
  expect([L.isLeader, M.isLeader]).toEqual([true, true]);
  // M's 2A for instance 0 is lost; s = 7:0 is decided at instance 1 and acked.
  M.step(m(submitOf([{ client: 8, seq: 0, floor: 0, data: new Uint8Array([120]) }])), 1);
  const twoA = feed(M, to(submit("s", 1), "proposers"), 2).flatMap((fx) => to(fx, "acceptors"));
  const acks = [A[0]!, A[1]!].flatMap((a) => feed(a, twoA, 2)).flatMap((fx) => to(fx, "proposers")).flatMap((x) => to(M.step(m(x), 3), "clients"));
  for (const a of acks) client.step(m(a), 4);
  // v = 7:1 (floor 1) reaches only the stale leader L, which puts it at instance 0; only a3 accepts.
  const lTwoA = feed(L, to(submit("v", 5), "proposers"), 5).flatMap((fx) => to(fx, "acceptors"));
  const answers = A.flatMap((a) => feed(a, lTwoA, 5)).flatMap((fx) => to(fx, "proposers"));
  feed(L, answers, 6);
  // M crashes; L takes over with a2 and a3, re-proposing v at 0 and s at 1.
  const takeoverOneA = to(L.step(tick, 1000), "acceptors");
  const oneB = [A[1]!, A[2]!].flatMap((a) => feed(a, takeoverOneA, 1000)).flatMap((fx) => to(fx, "proposers"));
  const takeoverFx = feed(L, oneB, 1001);
  const takeover = takeoverFx.flatMap((fx) => to(fx, "acceptors"));
  // The learner gets L's 2A (the batches) and then the acceptors' 2Bs.
  const delivered = [...takeoverFx.flatMap((fx) => to(fx, "learners")), ...A.flatMap((a) => feed(a, takeover, 1002)).flatMap((fx) => to(fx, "learners"))]
    .flatMap((x) => ids(learner.step(m(x), 1002).delivered));
  expect(delivered.sort()).toEqual(["7:0", "7:1"]);
});
