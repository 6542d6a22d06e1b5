/**
 * Real multi-process clusters of the compiled binary on loopback. Each cluster gets its own
 * multicast address, ports and cluster id, so clusters of parallel tests never hear each other.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

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

export class Proc {
  private out = "";
  private err = "";
  readonly done: Promise<number>;

  constructor(
    readonly name: string,
    readonly sub: Subprocess<"pipe", "pipe", "pipe">,
  ) {
    const collect = async (s: ReadableStream<Uint8Array>, into: "out" | "err") => {
      const dec = new TextDecoder();
      for await (const chunk of s) this[into] += dec.decode(chunk, { stream: true });
    };
    const streams = Promise.all([collect(sub.stdout, "out"), collect(sub.stderr, "err")]);
    this.done = sub.exited.then(async (code) => {
      await streams;
      return code;
    });
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  lines(): string[] {
    const s = this.out;
    const lines = s.split("\n");
    lines.pop(); // the text after the last newline is not a complete line yet
    return lines;
  }

  get alive(): boolean {
    return this.sub.exitCode === null && this.sub.signalCode === null;
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    if (this.alive) this.sub.kill(signal);
  }
}

export class Cluster {
  readonly dir: string;
  readonly configPath: string;
  readonly address: string;
  readonly cluster: number;
  readonly ports: { clients: number; proposers: number; acceptors: number; learners: number };
  private readonly procs: Proc[] = [];

  constructor(readonly opts: ClusterOptions = {}) {
    const n = ++clusterCounter;
    const slot = (process.pid % 200) * 50 + n;
    this.address = `239.77.${Math.floor(slot / 250) % 250}.${(slot % 250) + 1}`;
    const base = 20_000 + ((process.pid * 37 + n * 4) % 40_000);
    this.ports = { clients: base, proposers: base + 1, acceptors: base + 2, learners: base + 3 };
    this.cluster = (process.pid * 1000 + n) % 2 ** 31;
    this.dir = mkdtempSync(join(tmpdir(), "paxos-test-"));
    this.configPath = join(this.dir, "paxos.json");
    const group = (port: number) => ({ address: this.address, port });
    const config = {
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
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  start(role: string, id: number, args: string[] = [], stdin?: string): Proc {
    const sub = Bun.spawn([...(this.opts.prefix ?? []), BINARY, "--role", role, "--id", String(id), "--config", this.configPath, ...args], {
      stdin: stdin === undefined ? "pipe" : new Blob([stdin]),
      stdout: "pipe",
      stderr: "pipe",
      cwd: this.dir,
    }) as Subprocess<"pipe", "pipe", "pipe">;
    const proc = new Proc(`${role}-${id}`, sub);
    this.procs.push(proc);
    return proc;
  }

  /** Starts several processes of a role with ids 1..count. */
  startMany(role: string, count: number, args: string[] = []): Proc[] {
    return Array.from({ length: count }, (_, i) => this.start(role, i + 1, args));
  }

  client(id: number, values: string[], args: string[] = []): Proc {
    return this.start("client", id, args, values.length === 0 ? "" : `${values.join("\n")}\n`);
  }

  /** Stops every process still running (SIGTERM, then SIGKILL) and waits for them. */
  async stopAll(): Promise<void> {
    for (const p of this.procs) p.kill("SIGTERM");
    const timeout = setTimeout(() => {
      for (const p of this.procs) p.kill("SIGKILL");
    }, 3000);
    await Promise.all(this.procs.map((p) => p.done));
    clearTimeout(timeout);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

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
