/**
 * Real multi-process clusters of the compiled binary on loopback, for the tests: each a
 * LocalCluster (src/cluster/local-cluster.ts) of its own, on its own multicast address, ports and
 * cluster id, so clusters of parallel tests never hear each other; its processes' stdout and
 * stderr are piped. clusterTests() is the setup and teardown every cluster test file shares.
 */
import { afterEach, beforeAll, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCluster, waitFor } from "../../src/cluster/local-cluster.ts";
import type { Member } from "../../src/cluster/member.ts";
import { DEFAULT_CONFIG, mergeDeep, validateConfig } from "../../src/config.ts";
import type { RoleName } from "../../src/runtime/role-names.ts";

export { waitFor };

const ROOT = join(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/paxos");

let built: Promise<void> | undefined;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/paxos when it is missing or older than the sources (once per test process). */
export function ensureBinary(): Promise<void> {
  built ??= (async () => {
    let stale = true;
    try {
      stale = statSync(BINARY).mtimeMs < Math.max(newestMtime(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
    } catch {
      stale = true;
    }
    if (!stale) return;
    const p = Bun.spawn(["bun", "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error("bun run build failed");
  })();
  return built;
}

let clusterCounter = 0;

export interface ClusterOptions {
  acceptors?: number;
  /** Extra config keys merged over the generated ones. */
  config?: Record<string, unknown>;
  /** A command every process runs under, e.g. `ip netns exec NS` (a network namespace). */
  prefix?: string[];
}

/** A process of a test cluster, with piped stdout and stderr. */
export type Proc = Member;

export class Cluster {
  readonly dir: string;
  readonly configPath: string;
  readonly address: string;
  readonly cluster: number;
  readonly ports: { clients: number; proposers: number; acceptors: number; learners: number };
  /** The cluster itself: to start a process with a spec of one's own, to find the leader. */
  readonly local: LocalCluster;

  constructor(readonly opts: ClusterOptions = {}) {
    const n = ++clusterCounter;
    const slot = (process.pid % 200) * 50 + n;
    this.address = `239.77.${Math.floor(slot / 250) % 250}.${(slot % 250) + 1}`;
    const base = 20_000 + ((process.pid * 37 + n * 4) % 40_000);
    this.ports = { clients: base, proposers: base + 1, acceptors: base + 2, learners: base + 3 };
    this.cluster = (process.pid * 1000 + n) % 2 ** 31;
    this.dir = mkdtempSync(join(tmpdir(), "paxos-test-"));
    const group = (port: number) => ({ address: this.address, port });
    const over = {
      cluster: this.cluster,
      network: {
        groups: {
          clients: group(this.ports.clients),
          proposers: group(this.ports.proposers),
          acceptors: group(this.ports.acceptors),
          learners: group(this.ports.learners),
        },
      },
      acceptors: opts.acceptors ?? 3,
      ...opts.config,
    };
    const config = validateConfig(mergeDeep(DEFAULT_CONFIG, over), "test cluster");
    this.local = new LocalCluster({ config, command: [BINARY], dir: this.dir, cwd: this.dir, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
    this.configPath = this.local.dir.config;
  }

  start(role: RoleName, id: number, args: string[] = [], stdin?: string): Proc {
    return this.local.start({ role, id, args, stdin: stdin === undefined ? "pipe" : { text: stdin }, stdout: "pipe", stderr: "pipe" });
  }

  /** Starts several processes of a role with ids 1..count. */
  startMany(role: RoleName, count: number, args: string[] = []): Proc[] {
    return Array.from({ length: count }, (_, i) => this.start(role, i + 1, args));
  }

  client(id: number, values: string[], args: string[] = []): Proc {
    return this.start("client", id, args, values.length === 0 ? "" : `${values.join("\n")}\n`);
  }

  /** Waits until each of `procs` says it is up (status file), failing after `timeoutMs` with those that are not. */
  async waitUp(procs: readonly Proc[], timeoutMs = 10_000): Promise<void> {
    const notUp = await this.local.waitUp(procs, timeoutMs);
    if (notUp.length > 0) {
      throw new Error(`not up after ${timeoutMs} ms: ${notUp.map((p) => `${p.name} (${p.alive ? "running" : `exited ${p.exitCode}`}): ${p.stderr.slice(-500)}`).join("; ")}`);
    }
  }

  /** Waits until some running proposer leads, and returns it. */
  async leader(timeoutMs = 10_000): Promise<Proc> {
    return this.local.waitLeader(timeoutMs);
  }

  /** Stops every process still running (SIGTERM, then SIGKILL) and waits for them. */
  async stopAll(): Promise<void> {
    await this.local.stop("SIGTERM", 3000);
  }
}

/**
 * The setup and teardown every cluster test file shares: room beyond bun's 5 s default for real
 * processes on a shared, sometimes busy, 2-core machine; the binary built (when stale) before the
 * first test; and after each test, every process of the clusters it made stopped and waited for.
 * Returns the function the file's tests make their clusters with.
 */
export function clusterTests(): (opts?: ClusterOptions) => Cluster {
  setDefaultTimeout(120_000);
  beforeAll(ensureBinary, 120_000);
  const made: Cluster[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((c) => c.stopAll()));
  });
  return (opts) => {
    const c = new Cluster(opts);
    made.push(c);
    return c;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a process to exit, failing after `timeoutMs`. */
export async function exitOf(p: Proc, timeoutMs: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<number>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${p.name} did not exit within ${timeoutMs} ms; stderr:\n${p.stderr}`)), timeoutMs);
  });
  try {
    return await Promise.race([p.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const values = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

export const sorted = (xs: string[]): string[] => [...xs].sort();
