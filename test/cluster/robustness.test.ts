/**
 * The compiled binary against bad input: garbage datagrams into every group while a cluster
 * decides values, bad command lines and configs, over-long values.
 */
import { describe, expect, test } from "bun:test";
import { Encoder } from "cbor-x/encode";
import { encode } from "../../src/net/codec.ts";
import type { Group, Message } from "../../src/protocol/messages.ts";
import { Prng } from "../../src/prng.ts";
import { SAMPLES } from "../net/samples.ts";
import { BINARY, clusterTests, exitOf, sorted, values } from "./harness.ts";

const newCluster = clusterTests();

const GROUPS: Group[] = ["clients", "proposers", "acceptors", "learners"];
/** A message type each group never accepts. */
const FOREIGN_TYPE: Record<Group, Message["t"]> = { clients: "2b", proposers: "2a", acceptors: "2b", learners: "1a" };

/**
 * Datagrams that a correct process must drop: random bytes, truncated or extended messages,
 * another cluster's messages, messages for another role, and impossible field values.
 * (Well-formed forgeries are out of scope without authentication: the model is crash-stop.)
 */
function badDatagram(rng: Prng, clusterId: number, group: Group): Uint8Array {
  const cbor = new Encoder({ useRecords: false } as never);
  const sample = rng.pick(SAMPLES);
  const kind = rng.int(0, 5);
  if (kind === 0) return Uint8Array.from({ length: rng.int(0, 1500) }, () => rng.int(0, 255));
  if (kind === 1) {
    const bytes = encode(sample, { cluster: clusterId, acceptors: 3 });
    return bytes.subarray(0, rng.int(0, bytes.length - 1));
  }
  if (kind === 2) {
    const bytes = encode(sample, { cluster: clusterId, acceptors: 3 });
    const out = new Uint8Array(bytes.length + rng.int(1, 20));
    out.set(bytes);
    return out;
  }
  if (kind === 3) return encode(sample, { cluster: clusterId + 1, acceptors: 3 });
  if (kind === 4) return encode(SAMPLES.find((m) => m.t === FOREIGN_TYPE[group])!, { cluster: clusterId, acceptors: 3 });
  const impossible = [[1, clusterId, 2, -1, 0], [1, clusterId, 6, 1, [2 ** 60, 1, new Uint8Array()]], [1, clusterId, 4, 1, 1.5], [1, clusterId, "2b"], [1, clusterId, 0, { a: 1 }]];
  return cbor.encode(rng.pick(impossible));
}

describe("robustness (compiled binary)", () => {
  test("10,000 bad datagrams into all four groups while the cluster decides: all survive, all learned", async () => {
    const c = newCluster();
    const a = values("f", 1000);
    const servers = [...c.startMany("acceptor", 3), ...c.startMany("proposer", 2)];
    const learners = c.startMany("learner", 2, ["--count", "1000"]);
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    socket.setMulticastInterface("127.0.0.1");
    socket.setMulticastTTL(1);
    const rng = new Prng(99);
    let sent = 0;
    const flood = async (until: () => boolean) => {
      while (!until()) {
        const group = GROUPS[sent++ % 4]!;
        socket.send(badDatagram(rng, c.cluster, group), c.ports[group], c.address);
        if (sent % 50 === 0) await Bun.sleep(1);
      }
    };
    await flood(() => sent >= 2000);
    const client = c.client(1, a, ["--outstanding", "2"]);
    // Garbage keeps coming for as long as the client runs, and 10,000 datagrams at least.
    await flood(() => sent >= 10_000 && !client.alive);
    socket.close();
    expect(await exitOf(client, 30_000)).toBe(0);
    for (const l of learners) expect(await exitOf(l, 10_000)).toBe(0);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
    for (const s of servers) expect(s.alive).toBe(true);
  });

  test("a value over the maximum size is rejected by line number; the others are decided", async () => {
    const c = newCluster();
    c.startMany("acceptor", 3);
    c.start("proposer", 1);
    const learner = c.start("learner", 1, ["--count", "2"]);
    const client = c.client(1, ["small", "x".repeat(5000), "also small"]);
    expect(await exitOf(client, 20_000)).toBe(1);
    expect(client.stderr).toMatch(/line 2: value of 5000 bytes is over the maximum/);
    expect(await exitOf(learner, 10_000)).toBe(0);
    expect(learner.lines()).toEqual(["small", "also small"]);
  });

  test("--version and --help work without node_modules in reach", async () => {
    const run = (args: string[]) => Bun.spawnSync([BINARY, ...args], { cwd: "/" });
    const version = run(["--version"]);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.toString().trim()).toMatch(/^paxos \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown), built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
    const help = run(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout.toString()).toContain("--role");
    const config = run(["config"]);
    expect(config.exitCode).toBe(0);
    expect(config.stdout.toString()).toContain("acceptors: 3");
  });

  test("bad command lines and configs exit 2 with one line per problem, starting nothing", async () => {
    const dir = newCluster().dir;
    await Bun.write(`${dir}/bad.yaml`, "network:\n  ttl: 0\n  bogus: 1\nacceptors: two\n");
    const run = (args: string[]) => Bun.spawnSync([BINARY, ...args], { cwd: dir });
    const bad = run(["--role", "acceptor", "--id", "1", "--config", "bad.yaml"]);
    expect(bad.exitCode).toBe(2);
    const err = bad.stderr.toString();
    expect(err).toContain("bad.yaml: network.ttl: expected an integer from 1 to 255, found 0");
    expect(err).toContain("bad.yaml: network.bogus: unknown key");
    expect(err).toContain('bad.yaml: acceptors: expected an integer from 1 to 255, found "two"');
    for (const args of [["--role", "leader", "--id", "1"], ["--role", "learner"], ["--role", "client", "--id", "1", "--loss", "2"], ["--frobnicate"], ["nonsense"]]) {
      const r = run(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.toString()).toMatch(/^paxos: /);
    }
  });
});
