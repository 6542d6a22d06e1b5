/**
 * Multi-host test over real network interfaces (needs root, iproute2 and nftables; skipped, and
 * said so, otherwise). Each role process runs on its own "host": a network namespace with a veth
 * to a bridge that lives in one more namespace of its own, so nothing links to any outside
 * interface and the root namespace is never touched. Multicast crosses the bridge. Faults are
 * nftables rules inside the host namespaces: 10% random loss, then a partition of one acceptor
 * host and of the leading proposer's host, then healing. Every namespace is deleted afterwards,
 * even on failure (deleting a namespace deletes its veths and the bridge).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RoleName } from "../../src/runtime/role-names.ts";
import { clusterTests, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();
const isRoot = process.getuid?.() === 0;
const has = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
const canRun = isRoot && has("ip") && has("nft") && Bun.spawnSync(["ip", "netns", "list"]).exitCode === 0;
const why = !isRoot ? "not root" : !has("ip") ? "no iproute2 (ip)" : !has("nft") ? "no nftables (nft)" : "ip netns unavailable";

const tag = `px${process.pid % 10000}`;
const SWITCH = `${tag}sw`;
const hosts: string[] = [];

function sh(...args: string[]): string {
  const r = Bun.spawnSync(args, { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** Host i: namespace `${tag}h${i}`, address 10.77.0.i/24 on eth0, a veth to the bridge. */
function addHost(i: number): { ns: string; addr: string } {
  const ns = `${tag}h${i}`;
  const addr = `10.77.0.${i}`;
  sh("ip", "netns", "add", ns);
  hosts.push(ns);
  sh("ip", "-n", SWITCH, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
  sh("ip", "-n", SWITCH, "link", "set", `p${i}`, "master", "br0", "up");
  sh("ip", "-n", ns, "link", "set", "lo", "up");
  sh("ip", "-n", ns, "addr", "add", `${addr}/24`, "dev", "eth0");
  sh("ip", "-n", ns, "link", "set", "eth0", "up", "multicast", "on");
  sh("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0");
  return { ns, addr };
}

function nft(ns: string, rule: string): void {
  sh("ip", "netns", "exec", ns, "nft", rule);
}

/** Deletes the namespaces (their veths and the bridge with them); the processes were stopped after the test (clusterTests). */
function cleanup(): void {
  for (const ns of [...hosts, SWITCH]) Bun.spawnSync(["ip", "netns", "del", ns]);
  hosts.length = 0;
}

describe.skipIf(!canRun)(`multi-host over network namespaces${canRun ? "" : ` (skipped: ${why})`}`, () => {
  beforeAll(() => {
    cleanup();
    sh("ip", "netns", "add", SWITCH);
    sh("ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0");
    sh("ip", "-n", SWITCH, "link", "set", "br0", "up");
  });
  afterAll(cleanup);

  test("loss, then a partition of an acceptor and of the leader, then healing: all learned, same order", async () => {
    const c = newCluster(); // for its groups and cluster id; its processes run in the hosts' namespaces
    const base = JSON.parse(await Bun.file(c.configPath).text());
    let next = 1;
    const start = (role: RoleName, id: number, args: string[] = [], stdin?: string) => {
      const { ns, addr } = addHost(next++);
      const cfg = join(c.dir, `${role}-${id}.json`);
      writeFileSync(cfg, JSON.stringify({ ...base, network: { ...base.network, interface: addr } }));
      const p = c.local.start({
        role,
        id,
        args,
        config: cfg,
        prefix: ["ip", "netns", "exec", ns],
        stdin: stdin === undefined ? "ignore" : { text: stdin },
        stdout: "pipe",
        stderr: "pipe",
      });
      return { ns, proc: p, lines: () => p.lines(), stderr: () => p.stderr };
    };
    const a = values("net", 1500);
    const acceptors = [1, 2, 3].map((i) => start("acceptor", i));
    const proposers = [1, 2].map((i) => start("proposer", i));
    const learners = [1, 2].map((i) => start("learner", i, ["--count", "1500"]));
    await c.waitUp([...acceptors, ...proposers, ...learners].map((h) => h.proc));
    const client = start("client", 1, ["--outstanding", "5"], `${a.join("\n")}\n`);
    const ports = Object.values(base.network.groups as Record<string, { port: number }>).map((g) => g.port).join(", ");
    // Phase 1: 10% random loss of incoming multicast on every host.
    for (const ns of hosts) {
      nft(ns, "add table inet px");
      nft(ns, "add chain inet px in { type filter hook input priority 0 ; }");
      nft(ns, `add rule inet px in udp dport { ${ports} } numgen random mod 100 < 10 drop`);
    }
    await waitFor(() => learners[0]!.lines().length >= 400, 30_000, "400 values learned under loss");
    // Phase 2: cut one acceptor host and the leader's host off entirely.
    const leading = await c.leader();
    const leader = proposers.find((p) => p.proc === leading)!;
    const cutRound = leading.status()!.proposer!.round;
    for (const ns of [acceptors[0]!.ns, leader.ns]) {
      nft(ns, "add chain inet px out { type filter hook output priority 0 ; }");
      nft(ns, "add rule inet px in udp dport { " + ports + " } drop");
      nft(ns, "add rule inet px out udp dport { " + ports + " } drop");
    }
    const atCut = learners[0]!.lines().length;
    try {
      await waitFor(() => learners[0]!.lines().length >= atCut + 300, 30_000, "300 more values learned during the partition");
    } catch (e) {
      for (const p of proposers) console.error("PROPOSER", p.stderr().slice(-3000));
      console.error("LEARNER", learners[0]!.lines().length, atCut, learners[0]!.stderr().slice(-2000));
      throw e;
    }
    // Phase 3: heal everything.
    for (const ns of hosts) nft(ns, "delete table inet px");
    await waitFor(() => learners.every((l) => l.proc.exitCode !== null), 60_000, "learners done");
    for (const l of learners) expect(l.proc.exitCode).toBe(0);
    expect(await client.proc.done).toBe(0);
    // The partition of the leader's host made the other proposer take over.
    expect(proposers.filter((p) => p !== leader).some((p) => (p.proc.status()?.proposer?.round ?? 0) > cutRound)).toBe(true);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
  }, 180_000);
});
