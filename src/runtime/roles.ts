/**
 * The four roles as processes: each builds its protocol role from the config, binds it to the
 * network with a Node, and does its role's I/O (stdin for clients, stdout for learners).
 */
import type { ConsolaInstance } from "consola";
import { readFileSync } from "node:fs";
import { ConfigError, type Config } from "../config.ts";
import { authenticator } from "../net/auth.ts";
import { Acceptor } from "../protocol/acceptor.ts";
import { Client } from "../protocol/client.ts";
import { Learner } from "../protocol/learner.ts";
import { Effects, type Catchup, type Group, type Message, type Role } from "../protocol/messages.ts";
import { sendDecisions } from "../protocol/pack.ts";
import { Proposer, ROUND_STRIDE } from "../protocol/proposer.ts";
import { readLines } from "./lines.ts";
import { AcceptorLog, StorageError } from "../storage/acceptor-log.ts";
import { LearnerArchive } from "../storage/learner-archive.ts";
import { LearnerOutputFile, type OutputPosition } from "../storage/learner-output.ts";
import { Health, type Work } from "./health.ts";
import { Metrics, registerProcessMetrics } from "./metrics.ts";
import { StdoutLines } from "./stdout.ts";
import { Node, type DurableLog, type NodeOptions } from "./node.ts";
import { EXIT } from "../exit-codes.ts";
import { NONCE_MAX, type Fatal } from "../protocol/messages.ts";

export type RoleName = "client" | "proposer" | "acceptor" | "learner";
export const ROLES: readonly RoleName[] = ["client", "proposer", "acceptor", "learner"];

export interface RoleContext {
  readonly config: Config;
  readonly id: number;
  readonly log: ConsolaInstance;
  readonly seed: number;
  /** Learner: exit 0 after delivering this many values. */
  readonly count?: number;
  /**
   * Client: append "seq<TAB>submit unix ms<TAB>latency ms" per decided value to this file;
   * learner: "client<TAB>seq<TAB>delivered unix ms" per delivered value.
   */
  readonly latencyLog?: string;
  /** Acceptor: this is its first start: create its durable log. */
  readonly init?: boolean;
  /** Learner: append delivered values to this file and resume after them when restarted. */
  readonly output?: string;
}

const CATCHUP_DATAGRAMS_MAX = 64;

/** Room a value needs in a batch besides its bytes (ids, length, batch framing). */
export const VALUE_OVERHEAD_BYTES = 32;

export function maxValueBytes(config: Config): number {
  return config.batch.bytesMax - VALUE_OVERHEAD_BYTES;
}

const GROUP_OF: Record<RoleName, Group> = {
  client: "clients",
  proposer: "proposers",
  acceptor: "acceptors",
  learner: "learners",
};

interface NodeParts {
  readonly role: Role;
  readonly name: RoleName;
  readonly onEffects?: NodeOptions["onEffects"];
  readonly durable?: DurableLog;
  readonly intercept?: NodeOptions["intercept"];
  /** The role's work, for the diagnosis of a stall (none: it never waits on others). */
  readonly work?: () => Work;
}

/** A Node for a role, with its config, key, loss injection and health. */
function node(ctx: RoleContext, parts: NodeParts): Node {
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
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

/** The line scripts wait for: the process has joined its group. */
function logUp(ctx: RoleContext, name: RoleName): void {
  const g = ctx.config.network.groups[GROUP_OF[name]];
  ctx.log.info(`${name} ${ctx.id} up on ${ctx.config.network.interface}, group ${g.address}:${g.port}`);
}

function logStats(ctx: RoleContext, n: Node): void {
  const dropped = Object.entries(n.stats.dropped).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
  ctx.log.debug(`datagrams received=${n.stats.received} sent=${n.stats.sent} dropped: ${dropped}`);
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

const newMetrics = (ctx: RoleContext, name: RoleName) => new Metrics({ role: name, id: ctx.id });

/** The exit code of a role that cannot go on, after saying why. */
function fatalExit(ctx: RoleContext, f: Fatal): number {
  ctx.log.error(f.reason);
  return f.cause === "trimmed" ? EXIT.trimmed : f.cause === "storage" ? EXIT.storage : EXIT.duplicateId;
}

/** Runs a node until SIGINT/SIGTERM, or until its role cannot go on. */
async function serve(ctx: RoleContext, name: RoleName, n: Node, metrics = newMetrics(ctx, name)): Promise<number> {
  await n.start();
  const stopMetrics = startMetrics(ctx, name, n, metrics);
  logUp(ctx, name);
  const code = await Promise.race([untilSignal().then((signal) => (ctx.log.debug(`${signal}: stopping`), EXIT.ok)), n.fatal.then((f) => fatalExit(ctx, f))]);
  logStats(ctx, n);
  stopMetrics();
  n.stop();
  return code;
}

/** A random proposer incarnation nonce or acceptor identity, in [1, NONCE_MAX]. */
function randomIdentity(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return ((hi! % 0x10000) * 2 ** 32 + lo!) % NONCE_MAX + 1;
}

export async function runProposer(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const proposer = new Proposer({
    id: ctx.id,
    acceptors: c.acceptors,
    batchValuesMax: c.batch.valuesMax,
    batchBytesMax: c.batch.bytesMax,
    datagramBytesMax: c.network.datagramBytesMax,
    pipelineWindow: c.proposer.pipelineWindow,
    pendingValuesMax: c.proposer.pendingValuesMax,
    retransmitMs: c.proposer.retransmitMs,
    takeoverMs: c.proposer.takeoverMs,
    clientRetransmitMs: c.client.retransmitMs,
    catchupDatagramsMax: CATCHUP_DATAGRAMS_MAX,
    random: Math.random,
    roundFloor: Date.now() * ROUND_STRIDE,
    retainInstances: c.acceptor.retainInstances,
    incarnation: randomIdentity(),
    gather: true, // proposes and acks once per event-loop turn
  });
  const metrics = newMetrics(ctx, "proposer");
  const batchValues = metrics.histogram("paxos_batch_values", "Values per proposed instance", [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000]);
  metrics.gauge("paxos_round", "Current round (cRnd)", () => [{ value: proposer.round }]);
  metrics.gauge("paxos_leader", "1 while this proposer leads", () => [{ value: proposer.isLeader ? 1 : 0 }]);
  metrics.counter("paxos_decided_instances_total", "Instances known decided (prefix)", () => [{ value: proposer.decidedPrefix }]);
  metrics.counter("paxos_phase1_runs_total", "Phase 1 runs", () => [{ value: proposer.counters.phase1Runs }]);
  metrics.counter("paxos_takeovers_total", "Phase 1 runs after a first one (takeovers)", () => [{ value: proposer.counters.takeovers }]);
  let leading = false;
  let decidedPrefix = 0;
  const onEffects = (fx: Effects): void => {
    for (const s of fx.sends) if (s.msg.t === "2a") for (const p of s.msg.proposals) batchValues.observe(p.cVal.length);
    if (proposer.decidedPrefix > decidedPrefix) {
      decidedPrefix = proposer.decidedPrefix;
      n.noteProgress();
    }
    if (proposer.isLeader === leading) return;
    leading = proposer.isLeader;
    ctx.log.info(leading ? `leading in round ${proposer.round}` : "standing by");
  };
  const n = node(ctx, { role: proposer, name: "proposer", onEffects, work: () => ({ waiting: proposer.pendingCount, unit: "values" }) });
  return serve(ctx, "proposer", n, metrics);
}

const COMPACT_CHECK_MS = 10_000;

export async function runAcceptor(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const dir = c.acceptor.storage;
  if (ctx.init && dir === null) {
    ctx.log.error("--init creates a durable acceptor's log: give it acceptor.storage (or --storage DIR)");
    return EXIT.usage;
  }
  let opened: ReturnType<typeof AcceptorLog.open> | undefined;
  if (dir !== null) {
    try {
      opened = AcceptorLog.open(dir, c.cluster, ctx.id, { create: ctx.init === true, newIdent: randomIdentity });
    } catch (e) {
      if (!(e instanceof StorageError) && !(e instanceof Error && "code" in e)) throw e;
      ctx.log.error(`cannot use the acceptor log: ${(e as Error).message}`);
      return EXIT.storage;
    }
  }
  const acceptor = new Acceptor({
    id: ctx.id,
    ident: opened?.loaded.ident ?? randomIdentity(),
    datagramBytesMax: c.network.datagramBytesMax,
    catchupDatagramsMax: CATCHUP_DATAGRAMS_MAX,
    retainInstances: c.acceptor.retainInstances,
    gather: true, // one 2B per round per event-loop turn
  });
  const metrics = newMetrics(ctx, "acceptor");
  metrics.gauge("paxos_promised_round", "Highest round promised (rnd)", () => [{ value: acceptor.promised }]);
  metrics.gauge("paxos_votes_held", "Votes held in memory", () => [{ value: acceptor.voteCount }]);
  if (opened === undefined) return serve(ctx, "acceptor", node(ctx, { role: acceptor, name: "acceptor" }), metrics);
  const log = opened.log;
  acceptor.restore(opened.loaded.records);
  if (opened.loaded.tornBytes > 0) ctx.log.warn(`${log.path}: dropped a torn last record (${opened.loaded.tornBytes} bytes, never acknowledged)`);
  ctx.log.info(ctx.init ? `${log.path}: created (first start)` : `${log.path}: restored promise ${acceptor.promised} and ${acceptor.voteCount} votes`);
  const durable = {
    append: (records: Parameters<AcceptorLog["append"]>[0]) => log.append(records),
    commit: () => {
      try {
        log.commit();
      } catch (e) {
        // Nothing may be acknowledged that is not on disk: stop at once rather than go on.
        ctx.log.error(`writing ${log.path} failed: ${(e as Error).message}; stopping`);
        process.exit(EXIT.storage);
      }
    },
  };
  const compaction = setInterval(() => {
    if (log.wantsCompaction(acceptor.storedBytes)) log.compact(acceptor.snapshot());
  }, COMPACT_CHECK_MS);
  const code = await serve(ctx, "acceptor", node(ctx, { role: acceptor, name: "acceptor", durable }), metrics);
  clearInterval(compaction);
  log.close();
  return code;
}

/** A learner writes its position to --output's FILE.pos at most this often (its FILE at every flush). */
const OUTPUT_POSITION_EVERY_MS = 1000;

export async function runLearner(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  let archive: LearnerArchive | undefined;
  let file: LearnerOutputFile | undefined;
  let resumed: OutputPosition | undefined;
  try {
    if (c.learner.archive !== null) archive = LearnerArchive.open(c.learner.archive, c.cluster, ctx.id);
  } catch (e) {
    ctx.log.error(`cannot use the learner archive: ${(e as Error).message}`);
    return EXIT.storage;
  }
  try {
    if (ctx.output !== undefined) ({ output: file, resumed } = LearnerOutputFile.open(ctx.output, c.cluster, ctx.id));
  } catch (e) {
    ctx.log.error(`cannot use the output file: ${(e as Error).message}`);
    return EXIT.output;
  }
  if (resumed !== undefined) ctx.log.info(`${ctx.output}: resuming after ${resumed.values} values (instance ${resumed.next})`);
  const learner = new Learner({
    id: ctx.id,
    acceptors: c.acceptors,
    catchupMs: c.learner.catchupMs,
    idleProbeMaxMs: c.learner.idleProbeMaxMs,
    archives: c.learner.archive !== null,
    ...(resumed ? { startAt: resumed.next, deliveredIds: resumed.ids } : {}),
  });
  const stdout = file === undefined ? new StdoutLines() : undefined;
  /** Values handed to the output, and those written (flushed) so far. */
  let delivered = resumed?.values ?? 0;
  let written = delivered;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const position = () => ({ next: learner.nextInstance, values: delivered, ids: learner.deliveredIdsSnapshot() });
  /** Output errors end the learner: EPIPE quietly (its reader went away), others with a sentence. */
  const outputFailed = (e: unknown): void => {
    const code = (e as { code?: string }).code;
    if (code === "EPIPE") return finish(EXIT.pipe);
    ctx.log.error(`cannot write the learner's output${ctx.output ? ` to ${ctx.output}` : ""}: ${(e as Error).message}; stopping (${written} values were written)`);
    finish(EXIT.output);
  };
  const flush = async (final: boolean): Promise<void> => {
    const flushing = delivered;
    try {
      archive?.flush();
      if (file !== undefined) file.flush(position, performance.now(), OUTPUT_POSITION_EVERY_MS, final);
      else await stdout!.flush();
      written = flushing;
    } catch (e) {
      outputFailed(e);
    }
  };
  const latency = ctx.latencyLog ? Bun.file(ctx.latencyLog).writer() : undefined;
  latency?.write("# client\tseq\tdelivered_unix_ms\n");
  const onEffects = (fx: Effects): void => {
    if (fx.deliveredInstances.length > 0) n.noteProgress();
    for (const d of fx.deliveredInstances) archive?.append(d.inst, d.cVal);
    if (latency !== undefined && fx.delivered.length > 0) {
      // One write per step: a line each is what the log costs (it is on for benchmarks).
      const at = n.unixMs(n.now()).toFixed(3);
      let lines = "";
      for (const v of fx.delivered) lines += `${v.client}\t${v.seq}\t${at}\n`;
      latency.write(lines);
    }
    for (const v of fx.delivered) {
      (file ?? stdout!).write(v.data);
      delivered++;
      if (ctx.count !== undefined && delivered >= ctx.count) {
        finish(0);
        return;
      }
    }
  };
  const n = node(ctx, {
    role: learner,
    name: "learner",
    onEffects,
    work: () => ({ waiting: learner.waitingInstances, unit: "instances" }),
    ...(archive ? { intercept: (msg: Message) => (msg.t === "catchup" ? serveArchive(archive!, msg, c) : undefined) } : {}),
  });
  const flusher = setInterval(() => void flush(false), c.learner.flushMs);
  await n.start();
  const metrics = newMetrics(ctx, "learner");
  metrics.counter("paxos_delivered_values_total", "Values delivered and written to the output", () => [{ value: written }]);
  metrics.counter("paxos_decided_instances_total", "Instances delivered (prefix)", () => [{ value: learner.nextInstance }]);
  const stopMetrics = startMetrics(ctx, "learner", n, metrics);
  logUp(ctx, "learner");
  if (ctx.count !== undefined && delivered >= ctx.count) finish(0);
  let code = await Promise.race([finished, untilSignal().then(() => EXIT.ok), n.fatal.then((f) => fatalExit(ctx, f))]);
  stopMetrics();
  clearInterval(flusher);
  n.stop();
  if (code !== EXIT.pipe && code !== EXIT.output) {
    await flush(true);
    code = await Promise.race([finished, Promise.resolve(code)]);
  }
  try {
    file?.close(position, performance.now());
  } catch (e) {
    outputFailed(e);
  }
  archive?.close();
  await latency?.end();
  logStats(ctx, n);
  ctx.log.debug(`delivered ${delivered} values`);
  return code;
}

/** Answers a learner's Catchup from this learner's archive, as Decisions (bounded datagrams). */
function serveArchive(archive: LearnerArchive, msg: Catchup, c: Config): Effects {
  const fx = new Effects();
  try {
    const decided = archive.read(msg.from, msg.to, c.network.datagramBytesMax * CATCHUP_DATAGRAMS_MAX);
    sendDecisions(fx, decided, c.network.datagramBytesMax, CATCHUP_DATAGRAMS_MAX);
  } catch (e) {
    if (!(e instanceof StorageError)) throw e;
    fx.fatal = { cause: "storage", reason: `the learner archive is damaged: ${e.message}; not serving from it (move it away and restart)` };
  }
  return fx;
}

/**
 * The client number on the wire: the --id in the low 10 bits, and 22 random bits that make each
 * run of a client a new identity, so that its seqs can start from 0 (small numbers are cheap to
 * send and to deduplicate) without colliding with an earlier run's. Two runs of one id collide
 * with probability 2^-22.
 */
/** Milliseconds to 3 decimals (toFixed's cost per value shows in a latency log of every value). */
const msText = (ms: number): string => String(Math.round(ms * 1000) / 1000);

function clientNumber(id: number): number {
  return (Math.floor(Math.random() * 2 ** 22) * 1024 + id) >>> 0;
}

export async function runClient(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const client = new Client({
    id: clientNumber(ctx.id),
    outstandingMax: c.client.outstanding,
    datagramBytesMax: c.network.datagramBytesMax,
    retransmitMs: c.client.retransmitMs,
    retransmitMinMs: c.client.retransmitMinMs,
    seqBase: 0,
    gather: true, // one Submit for the acks of one event-loop turn
  });
  const startedMs = performance.now();
  const latency = ctx.latencyLog ? Bun.file(ctx.latencyLog).writer() : undefined;
  latency?.write(`# client ${client.opts.id}\n# seq\tsubmit_unix_ms\tlatency_ms\n`);
  let decided = 0;
  let wake: () => void = () => {};
  const metrics = newMetrics(ctx, "client");
  const latencyS = metrics.histogram("paxos_latency_seconds", "Submit until known decided", [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
  metrics.counter("paxos_submitted_values_total", "Values sent for the first time", () => [{ value: client.counters.submitted }]);
  metrics.counter("paxos_retransmitted_values_total", "Values sent again", () => [{ value: client.counters.retransmitted }]);
  metrics.counter("paxos_decided_values_total", "Values known decided", () => [{ value: decided }]);
  const n = node(ctx, {
    role: client,
    name: "client",
    work: () => ({ waiting: client.undecided, unit: "values" }),
    onEffects: (fx) => onAcked(fx),
  });
  const onAcked = (fx: Effects): void => {
    if (fx.acked.length > 0) n.noteProgress();
    decided += fx.acked.length;
    const now = n.now();
    let lines = "";
    for (let i = 0; i < fx.acked.length; i++) {
      const at = fx.ackedSentAtMs[i]!;
      latencyS.observe((now - at) / 1000);
      if (latency !== undefined) lines += `${fx.acked[i]}\t${msText(n.unixMs(at))}\t${msText(now - at)}\n`;
    }
    if (lines !== "") latency!.write(lines); // one write per step
    if (fx.acked.length > 0) wake();
  };
  await n.start();
  const stopMetrics = startMetrics(ctx, "client", n, metrics);
  const maxBytes = maxValueBytes(c);
  let read = 0;
  let rejected = 0;
  // SIGINT or SIGTERM before every value is decided: say how far it got, then stop.
  void untilSignal().then(async (signal) => {
    ctx.log.warn(`${signal}: stopping: ${decided} of the ${read} values read were decided, ${client.undecided} not known decided`);
    await latency?.end();
    stopMetrics();
    n.stop();
    process.exit(EXIT.interrupted);
  });
  for await (const lines of readLines(Bun.stdin.stream(), maxBytes)) {
    const datas: Uint8Array[] = [];
    for (const line of lines) {
      read++;
      if (!line.tooLong) datas.push(line.bytes);
      else {
        rejected++;
        ctx.log.error(`line ${line.number}: value of ${line.length} bytes is over the maximum of ${maxBytes} bytes (batch.bytesMax - ${VALUE_OVERHEAD_BYTES}); not submitted`);
      }
    }
    n.apply(client.submit(datas, n.now()).fx);
    // Backpressure: read on only while the queue of undecided values is bounded.
    while (client.undecided >= 2 * c.client.outstanding) await new Promise<void>((r) => (wake = r));
  }
  while (client.undecided > 0) await new Promise<void>((r) => (wake = r));
  const secs = (performance.now() - startedMs) / 1000;
  ctx.log.info(
    `${decided} values decided in ${secs.toFixed(3)} s (${(decided / Math.max(secs, 1e-9)).toFixed(0)} values/s)` +
      (rejected > 0 ? `; ${rejected} of ${read} lines rejected as too long` : ""),
  );
  await latency?.end();
  logStats(ctx, n);
  stopMetrics();
  n.stop();
  return rejected === 0 ? 0 : 1;
}
