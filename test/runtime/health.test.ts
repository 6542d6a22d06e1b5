import { ConfigHistory } from "../../src/protocol/configuration.ts";
import { describe, expect, test } from "bun:test";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { encode, NO_STAMP } from "../../src/net/codec.ts";
import { Effects, type Role } from "../../src/protocol/messages.ts";
import { Health } from "../../src/runtime/health.ts";
import { createLogger } from "../../src/runtime/log.ts";
import { Node } from "../../src/runtime/node.ts";

/** Runs `health` for `seconds`, noting refused datagrams as `refuse` says, checking it every second; returns what it said, with when. */
function run(health: Health, seconds: number, refuse: (nowMs: number) => [string, string][]): { atS: number; text: string }[] {
  const said: { atS: number; text: string }[] = [];
  for (let ms = 0; ms <= seconds * 1000; ms += 100) {
    for (const [reason, from] of refuse(ms)) health.noteRefused(reason, from, ms);
    if (ms % 1000 === 0) {
      const text = health.check(ms);
      if (text !== undefined) said.push({ atS: ms / 1000, text });
    }
  }
  return said;
}

// Issue 20: a mismatched config was logged every second.
describe("refused datagrams", () => {
  test("while nothing waits, each peer is named at most once a minute", () => {
    const health = new Health("learner", 3, () => ({ waiting: 0, unit: "instances" }), 0);
    const said = run(health, 130, (ms) => [["config", "127.0.0.1:40001"], ...(ms >= 20_000 ? [["cluster", "127.0.0.1:40002"] as [string, string]] : [])]);
    const about = (peer: string) => said.filter((s) => s.text.includes(peer)).map((s) => s.atS);
    expect(about("127.0.0.1:40001")).toEqual([0, 60, 120]);
    expect(about("127.0.0.1:40002")).toEqual([20, 80]);
    expect(said.find((s) => s.atS === 0)!.text).toBe(
      "datagrams from a process configured with another acceptor count (this one has acceptors: 3), from 127.0.0.1:40001: every process needs the same `acceptors`",
    );
    expect(said.find((s) => s.atS === 20)!.text).toBe(
      "datagrams of another cluster id, from 127.0.0.1:40002: another cluster shares these groups, or the configs differ (`cluster`)",
    );
  });

  test("many peers make one line per reason, naming a few", () => {
    const health = new Health("acceptor", 3, () => ({ waiting: 0, unit: "" }), 0);
    const said = run(health, 2, () => Array.from({ length: 8 }, (_, k) => ["cluster", `10.0.0.${k + 1}:7000`] as [string, string]));
    expect(said.map((s) => s.text)).toEqual([
      "datagrams of another cluster id, from 10.0.0.1:7000, 10.0.0.2:7000, 10.0.0.3:7000 and 5 more: another cluster shares these groups, or the configs differ (`cluster`)",
    ]);
  });

  // Issue 20: a client with the wrong acceptor count said only "no answer from any proposer".
  test("a client whose proposers answer in another configuration says which setting differs", () => {
    const health = new Health("client", 5, () => ({ waiting: 10, unit: "values" }), 0);
    const said = run(health, 6, (ms) => (ms % 500 === 0 ? [["config", "127.0.0.1:6001"]] : []));
    expect(said.map((s) => s.text)).toEqual([
      "datagrams from a process configured with another acceptor count (this one has acceptors: 5), from 127.0.0.1:6001: every process needs the same `acceptors`",
      "no value decided for 5 s (10 values waiting): no proposer answers in this configuration; datagrams from a process configured with another acceptor count (this one has acceptors: 5), from 127.0.0.1:6001: every process needs the same `acceptors`",
    ]);
  });
});

describe("a proposer answers what it refuses for its configuration", () => {
  const config = DEFAULT_CONFIG;
  const quiet = createLogger("proposer-1", false);
  const role = { step: () => new Effects(), stamp: () => NO_STAMP, config: new ConfigHistory(3) } as unknown as Role;
  /** A datagram of a process configured with 5 acceptors (the node has 3). */
  const foreign = encode({ t: "ack", ranges: [] }, { cluster: config.cluster, acceptors: 5 });

  test("once per sender while it goes on, with a bound on senders; other groups do not answer", () => {
    const proposer = new Node({ config, group: "proposers", role, log: quiet, loss: 0, seed: 1 });
    for (let k = 0; k < 3; k++) proposer.onDatagram(foreign, "127.0.0.1:40001");
    expect(proposer.stats.sent).toBe(1);
    for (let k = 0; k < 400; k++) proposer.onDatagram(foreign, `10.0.${k >> 8}.${k & 255}:5000`);
    expect(proposer.stats.sent).toBe(256);
    expect(proposer.stats.dropped.config).toBe(403);
    const learner = new Node({ config, group: "learners", role, log: quiet, loss: 0, seed: 1 });
    learner.onDatagram(foreign, "127.0.0.1:40001");
    expect(learner.stats.sent).toBe(0);
  });
});
