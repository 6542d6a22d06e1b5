/**
 * Authenticated cluster (compiled binary) under forgery: senders without the key flood
 * well-formed 1A/2A/2B/Decision/Submit messages with high rounds and foreign values.
 */
import { NO_NOTIFY, REPORT_ALL } from "../../src/protocol/notify.ts";
import { describe, expect, test } from "bun:test";
import { NONCE, twoB } from "../protocol/helpers.ts";
import { authenticator } from "../../src/net/auth.ts";
import { encode } from "../../src/net/codec.ts";
import { Batch } from "../../src/protocol/batch.ts";
import type { Group, Message } from "../../src/protocol/messages.ts";
import { clusterTests, exitOf, sorted, values } from "./harness.ts";

const newCluster = clusterTests();

const KEY = "cluster-secret-key-0123456789";

function forgeries(round: number): { to: Group; msg: Message }[] {
  const foreign = (i: number) => Batch.ofRuns([{ client: 999, first: i, floor: 0, count: 1, lines: new TextEncoder().encode(`FORGED-${i}\n`) }]);
  const out: { to: Group; msg: Message }[] = [];
  for (let inst = 0; inst < 40; inst++) {
    out.push({ to: "acceptors", msg: { t: "1a", cRnd: round, nonce: NONCE, from: 0, decidedBelow: 0, acc: 0 } });
    const twoA: Message = { t: "2a", cRnd: round, nonce: NONCE, proposals: [{ inst, cVal: foreign(inst) }], decidedBelow: 0, notify: NO_NOTIFY, report: REPORT_ALL };
    out.push({ to: "acceptors", msg: twoA }, { to: "learners", msg: twoA });
    for (const acc of [1, 2, 3]) {
      const vote = twoB(acc, [{ inst, vRnd: round }]);
      out.push({ to: "learners", msg: vote }, { to: "proposers", msg: vote });
    }
    out.push({ to: "learners", msg: { t: "decision", decided: [{ inst, cVal: foreign(inst) }], decidedBelow: 0 } });
    out.push({ to: "proposers", msg: { t: "submit", runs: foreign(inst), via: 0 } });
    out.push({ to: "clients", msg: { t: "ack", ranges: [1, inst, 1] } });
  }
  return out;
}

describe("authentication (compiled binary)", () => {
  test("forgers with a wrong key and with no key change nothing: all learned, nothing foreign, same order", async () => {
    const c = newCluster({ config: { auth: { key: KEY } } });
    const a = values("auth", 600);
    c.startMany("acceptor", 3);
    c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2, ["--count", "600"]);
    const client = c.client(1, a, ["--outstanding", "3"]);
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    socket.setMulticastInterface("127.0.0.1");
    socket.setMulticastTTL(1);
    const wrongKey = authenticator(new TextEncoder().encode("not-the-cluster-key-at-all"), c.cluster);
    let sent = 0;
    for (let round = 1; client.alive || sent < 10_000; round++) {
      for (const { to, msg } of forgeries(2 ** 40 + round)) {
        const raw = encode(msg, { cluster: c.cluster, acceptors: 3 });
        socket.send(sent % 2 === 0 ? raw : wrongKey.seal(raw), c.ports[to], c.address);
        sent++;
      }
      await Bun.sleep(2);
    }
    socket.close();
    expect(await exitOf(client, 30_000)).toBe(0);
    for (const l of learners) expect(await exitOf(l, 15_000)).toBe(0);
    expect(learners[0]!.lines().some((l) => l.includes("FORGED"))).toBe(false);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
  });
});

describe("authentication control (compiled binary)", () => {
  test("without a key, the same forgeries do get delivered: the flood is a real attack", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    c.start("proposer", 1);
    const learner = c.start("learner", 1);
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    socket.setMulticastInterface("127.0.0.1");
    socket.setMulticastTTL(1);
    const deadline = Date.now() + 5000;
    for (let round = 1; Date.now() < deadline && !learner.stdout.includes("FORGED"); round++) {
      for (const { to, msg } of forgeries(2 ** 40 + round)) socket.send(encode(msg, { cluster: c.cluster, acceptors: 3 }), c.ports[to], c.address);
      await Bun.sleep(5);
    }
    socket.close();
    expect(learner.stdout).toContain("FORGED");
  });
});
