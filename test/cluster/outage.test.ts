/**
 * A short network outage must not kill anything. The whole cluster runs in a network namespace
 * of its own (lo only, so nothing leaves it); the test takes its link down for 3 s (sends fail
 * with ENETUNREACH), then drops every outgoing datagram with an nftables rule for 2 s (EPERM), and
 * checks that every process carried on and every value was learned once, in one order. Needs
 * root, iproute2 and nftables (`.ci/run` installs them); skipped, and said so, otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { clusterTests, exitOf, sleep, sorted, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();
const isRoot = process.getuid?.() === 0;
const has = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
const canRun = isRoot && has("ip") && has("nft") && Bun.spawnSync(["ip", "netns", "list"]).exitCode === 0;
const why = !isRoot ? "not root" : !has("ip") ? "no iproute2 (ip)" : !has("nft") ? "no nftables (nft)" : "ip netns unavailable";
const NS = `pxout${process.pid % 10000}`;

function sh(...args: string[]): void {
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

/** The namespace's only link up again, with its multicast route (the kernel drops it with the link). */
function linkUp(): void {
  sh("ip", "-n", NS, "link", "set", "lo", "up");
  sh("ip", "-n", NS, "route", "replace", "224.0.0.0/4", "dev", "lo");
}

describe.skipIf(!canRun)(`network outage${canRun ? "" : ` (skipped: ${why})`}`, () => {
  beforeAll(() => {
    Bun.spawnSync(["ip", "netns", "del", NS]);
    sh("ip", "netns", "add", NS);
    linkUp();
  });
  afterAll(() => void Bun.spawnSync(["ip", "netns", "del", NS]));

  test("link down 3 s, then outgoing datagrams refused 2 s: every process carries on, every value is learned", async () => {
    // Its processes are stopped after the test (clusterTests), before the namespace is deleted.
    const c = newCluster({ prefix: ["ip", "netns", "exec", NS] });
    const a = values("o", 3000);
    const acceptors = c.startMany("acceptor", 3);
    const proposers = c.startMany("proposer", 2);
    const learners = c.startMany("learner", 2, ["--count", String(a.length)]);
    await c.waitUp([...acceptors, ...proposers, ...learners]);
    const client = c.client(1, a, ["--outstanding", "5"]);
    await waitFor(() => learners[0]!.lines().length >= 300, 30_000, "300 values learned");
    sh("ip", "-n", NS, "link", "set", "lo", "down");
    await sleep(3000);
    linkUp();
    const atRefusal = learners[0]!.lines().length;
    await waitFor(() => learners[0]!.lines().length >= atRefusal + 200, 30_000, "200 more values after the link came back");
    sh("ip", "netns", "exec", NS, "nft", "add table inet pxout");
    sh("ip", "netns", "exec", NS, "nft", "add chain inet pxout out { type filter hook output priority 0 ; }");
    sh("ip", "netns", "exec", NS, "nft", "add rule inet pxout out udp dport 1-65535 drop");
    await sleep(2000);
    sh("ip", "netns", "exec", NS, "nft", "delete table inet pxout");
    for (const l of learners) expect(await exitOf(l, 60_000)).toBe(0);
    expect(await exitOf(client, 30_000)).toBe(0);
    for (const p of [...acceptors, ...proposers]) expect(p.alive).toBe(true);
    expect(learners[1]!.lines()).toEqual(learners[0]!.lines());
    expect(sorted(learners[0]!.lines())).toEqual(sorted(a));
    // Each process said what happened, once in a while, without a stack dump.
    const logs = [...acceptors, ...proposers, ...learners, client].map((p) => p.stderr).join("\n");
    expect(logs).toMatch(/sending on 127\.0\.0\.1 failed: ENETUNREACH/);
    expect(logs).toMatch(/sending on 127\.0\.0\.1 failed: EPERM \(a firewall rule refused the datagram\)/);
    expect(logs).not.toMatch(/^\s+at /m);
  }, 180_000);
});
