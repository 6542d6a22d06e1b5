/**
 * What every role runner shares: its context from the command line, the Node that binds its
 * protocol role to the network, the datagram key, metrics, the status file, signals and the
 * start/stop sequence. One runner per role lives next to this file.
 */
import type { ConsolaInstance } from "consola";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, type Config } from "../../config.ts";
import { EXIT } from "../../exit-codes.ts";
import { authenticator } from "../../net/auth.ts";
import type { Fatal, Group, Role } from "../../protocol/messages.ts";
import { NONCE_MAX } from "../../protocol/wire-budget.ts";
import { FileLock, FileLockedError } from "../../storage/file-lock.ts";
import { Health, type Work } from "../health.ts";
import { Metrics, registerProcessMetrics } from "../metrics.ts";
import { Node, type NodeOptions } from "../node.ts";
import { watchControl } from "../control.ts";
import { StatusFile, type RoleStatus } from "../status.ts";
import { fatalLine, type LogFormat } from "../log.ts";

export type RoleName = "client" | "proposer" | "acceptor" | "learner";
export const ROLES: readonly RoleName[] = ["client", "proposer", "acceptor", "learner"];

export const GROUP_OF: Record<RoleName, Group> = {
  client: "clients",
  proposer: "proposers",
  acceptor: "acceptors",
  learner: "learners",
};

export interface RoleContext {
  readonly config: Config;
  readonly id: number;
  readonly log: ConsolaInstance;
  readonly seed: number;
  /** Learner: exit 0 after delivering this many values. */
  readonly count?: number;
  /** Client and learner: the latency log to write (format: src/report/latency-log.ts). */
  readonly latencyLog?: string;
  /** Acceptor: this is its first start: create its durable log. */
  readonly init?: boolean;
  /** Learner: append delivered values to this file and resume after them when restarted. */
  readonly output?: string;
  /** Write this process's state to this file (see status.ts). */
  readonly status?: string;
  /** The log format (text by default) and tag (role-id), for the last line of a process that cannot go on. */
  readonly logFormat?: LogFormat;
  readonly tag?: string;
  /** Apply the settings in this file while running (see control.ts). */
  readonly control?: string;
}

/** Catch-up answers (of acceptors, proposers and archiving learners) send at most this many datagrams. */
export const CATCHUP_DATAGRAMS_MAX = 64;

export interface NodeParts {
  readonly role: Role;
  readonly name: RoleName;
  readonly onEffects?: NodeOptions["onEffects"];
  readonly durable?: NodeOptions["durable"];
  readonly intercept?: NodeOptions["intercept"];
  /** The role's work, for the diagnosis of a stall (none: it never waits on others). */
  readonly work?: () => Work;
}

/** A Node for a role, with its config, key, loss injection and health. */
export function node(ctx: RoleContext, parts: NodeParts): Node {
  const key = authKey(ctx.config);
  const health = new Health(parts.name, ctx.config.acceptors, parts.work ?? (() => ({ waiting: 0, unit: "" })), 0);
  return new Node({
    ...(parts.intercept ? { intercept: parts.intercept } : {}),
    ...(key ? { auth: authenticator(key, ctx.config.cluster) } : {}),
    config: ctx.config,
    group: GROUP_OF[parts.name],
    role: parts.role,
    log: ctx.log,
    loss: ctx.config.loss,
    seed: ctx.seed,
    health,
    ...(parts.onEffects ? { onEffects: parts.onEffects } : {}),
    ...(parts.durable ? { durable: parts.durable } : {}),
  });
}

/** The datagram key from the config (inline, or a file's bytes without a trailing newline). */
function authKey(config: Config): Uint8Array | undefined {
  if (config.auth.key !== null) return new TextEncoder().encode(config.auth.key);
  if (config.auth.keyFile === null) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(config.auth.keyFile);
  } catch (e) {
    throw new ConfigError([`auth.keyFile: cannot read ${config.auth.keyFile}: ${(e as Error).message}`]);
  }
  while (bytes.length > 0 && (bytes[bytes.length - 1] === 0x0a || bytes[bytes.length - 1] === 0x0d)) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length < 16) throw new ConfigError([`auth.keyFile: expected a key of at least 16 bytes in ${config.auth.keyFile}, found ${bytes.length}`]);
  return bytes;
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

/**
 * The metrics every role exposes (datagrams in, out, dropped by reason), plus the role's own;
 * served while the role runs when `metrics.listen` is set. Returns a stop function.
 */
function startMetrics(ctx: RoleContext, name: RoleName, n: Node, metrics: Metrics): () => void {
  metrics.registerBuildInfo();
  registerProcessMetrics(metrics);
  metrics.counter("paxos_datagrams_received_total", "Datagrams received", () => [{ value: n.stats.received }]);
  metrics.counter("paxos_datagrams_sent_total", "Datagrams sent", () => [{ value: n.stats.sent }]);
  metrics.counter("paxos_datagrams_dropped_total", "Datagrams dropped, by reason", () =>
    Object.entries(n.stats.dropped).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  metrics.counter("paxos_network_errors_total", "Send and receive errors at run time (datagrams dropped), by direction and code", () =>
    Object.entries(n.stats.networkErrors).map(([key, value]) => {
      const [direction, code] = key.split(/-(.*)/s);
      return { labels: { direction: direction!, code: code! }, value };
    }),
  );
  const health = n.health!;
  metrics.gauge("paxos_acceptors_heard", "Acceptors heard in the last 5 s", () => [{ value: health.acceptorsHeard(n.now()) }]);
  metrics.gauge("paxos_seconds_since_heard", "Seconds since each role's group was last heard (+Inf: never)", () =>
    Object.entries(health.secondsSinceHeard(n.now())).map(([group, value]) => ({ labels: { group }, value })),
  );
  metrics.gauge("paxos_seconds_since_progress", "Seconds since this process last made progress (a value decided, an instance delivered)", () => [
    { value: health.secondsSinceProgress(n.now()) },
  ]);
  metrics.counter("paxos_protocol_violations_total", "Messages showing what a correct cluster never does (refused)", () => [{ value: n.stats.violations }]);
  metrics.counter("paxos_alerts_total", "Operator mistakes noticed (the process went on), by cause", () =>
    Object.entries(n.stats.alerts).map(([cause, value]) => ({ labels: { cause }, value })),
  );
  const listen = ctx.config.metrics.listen;
  if (listen === null) return () => {};
  try {
    const server = metrics.serve(listen);
    ctx.log.info(`${name} ${ctx.id} metrics at ${new URL("/metrics", server.url)}`);
    return () => server.stop(true);
  } catch (e) {
    ctx.log.warn(`metrics not served on ${listen}: ${(e as Error).message}`);
    return () => {};
  }
}

export const newMetrics = (ctx: RoleContext, name: RoleName) => new Metrics({ role: name, id: ctx.id });

/** Says why this process cannot go on, as its last line (src/runtime/log.ts, fatalLine). */
export function fatal(ctx: RoleContext, message: string): void {
  process.stderr.write(fatalLine(ctx.tag ?? `paxos-${ctx.id}`, ctx.logFormat ?? "text", message));
}

/** The exit code of a role that cannot go on, after saying why. */
export function fatalExit(ctx: RoleContext, f: Fatal): number {
  fatal(ctx, f.reason);
  return f.cause === "trimmed" ? EXIT.trimmed : f.cause === "storage" ? EXIT.storage : EXIT.duplicateId;
}

/** A started role: its status file, and the way it stops. */
export interface Running {
  readonly status: StatusFile;
  /** Stops the node and its metrics (status "stopping"); `end` follows once the role's output is done. */
  stop(): void;
  /** The last word: status "stopped" with the exit code. */
  end(code: number): number;
}

/**
 * Starts a role's node, its metrics and its status file, and says it is up (the log line is for
 * people; supervisors read the status file).
 */
/** What a role runner hands to start/serve: its node, metrics and what it adds to its status. */
export interface RunParts {
  readonly name: RoleName;
  readonly node: Node;
  readonly metrics: Metrics;
  readonly roleStatus: RoleStatus;
  /** Called with the status file before the node starts (a runner that writes it on its own events). */
  readonly onStatus?: (status: StatusFile) => void;
}

export async function start(ctx: RoleContext, { name, node: n, metrics, roleStatus, onStatus }: RunParts): Promise<Running> {
  const status = new StatusFile(
    ctx.status,
    {
      role: name,
      id: ctx.id,
      datagrams: () => ({ received: n.stats.received, sent: n.stats.sent, dropped: { ...n.stats.dropped } }),
      acceptorsHeard: () => n.health?.acceptorsHeard(n.now()) ?? 0,
      loss: () => n.loss,
      roleStatus,
    },
    (message) => ctx.log.warn(message),
  );
  onStatus?.(status);
  status.start();
  await n.start();
  const stopControl = watchControl(ctx.control, (c) => {
    if (c.loss === undefined || c.loss === n.loss) return;
    ctx.log.info(`injected loss ${n.loss} -> ${c.loss} (control file)`);
    n.setLoss(c.loss);
  }, (message) => ctx.log.warn(message));
  const stopMetrics = startMetrics(ctx, name, n, metrics);
  const g = ctx.config.network.groups[GROUP_OF[name]];
  ctx.log.info(`${name} ${ctx.id} up on ${ctx.config.network.interface}, group ${g.address}:${g.port}`);
  status.setState("up");
  let stopped = false;
  return {
    status,
    stop: () => {
      if (stopped) return;
      stopped = true;
      status.setState("stopping");
      const dropped = Object.entries(n.stats.dropped).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
      ctx.log.debug(`datagrams received=${n.stats.received} sent=${n.stats.sent} dropped: ${dropped}`);
      stopControl();
      stopMetrics();
      n.stop();
    },
    end: (code) => {
      status.setState("stopped", code);
      return code;
    },
  };
}

/** Runs a started node until SIGINT/SIGTERM, or until its role cannot go on. */
export async function serve(ctx: RoleContext, parts: RunParts): Promise<number> {
  const running = await start(ctx, parts);
  const code = await Promise.race([untilSignal().then((signal) => (ctx.log.debug(`${signal}: stopping`), EXIT.ok)), parts.node.fatal.then((f) => fatalExit(ctx, f))]);
  running.stop();
  return running.end(code);
}

/** A file only one process may use at a time (see storage/file-lock.ts). */
export interface OwnedFile {
  readonly file: string;
  /** For the message: "acceptor 2's log". */
  readonly what: string;
  /** Create its directory if missing (else a missing directory takes no lock: opening the file will say what is wrong). */
  readonly create: boolean;
  /** The exit code when its lock file cannot be made (the one for any other failure to use the file). */
  readonly failCode: number;
}

/**
 * Locks each file (`<file>.lock`) for the rest of the process's life, before anything reads or
 * writes it. Returns an exit code when it cannot (after saying why): 5 when another process holds
 * one (as for another process with this one's id), the file's `failCode` when a lock file cannot
 * be made.
 */
export function lockFiles(ctx: RoleContext, files: readonly OwnedFile[]): number | undefined {
  for (const f of files) {
    try {
      if (f.create) mkdirSync(dirname(f.file), { recursive: true });
      if (!existsSync(dirname(f.file))) continue;
      held.push(FileLock.acquire(`${f.file}.lock`));
    } catch (e) {
      if (e instanceof FileLockedError) {
        fatal(ctx, `${f.file} (${f.what}) is in use by another process${e.holder === undefined ? "" : ` (pid ${e.holder})`}: two processes must not share it; this one stops, the other goes on`);
        return EXIT.duplicateId;
      }
      fatal(ctx, `cannot lock ${f.file} (${f.what}): ${(e as Error).message}`);
      return f.failCode;
    }
  }
  return undefined;
}

/** The locks this process holds: released by the kernel when it ends. */
const held: FileLock[] = [];

/** A random proposer incarnation nonce or acceptor identity, in [1, NONCE_MAX]. */
export function randomIdentity(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return ((hi! % 0x10000) * 2 ** 32 + lo!) % NONCE_MAX + 1;
}
