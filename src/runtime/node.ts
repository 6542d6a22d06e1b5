/**
 * Binds one protocol role to the network: datagrams in (loss injection, decoding, validation),
 * role steps through the shared Driver (persist, then send, then schedule), datagrams out
 * (encoding, signing, multicast), and wake-ups from a timer. The role itself stays pure; this is
 * the only place that touches sockets and the clock.
 */
import type { ConsolaInstance } from "consola";
import type { Config } from "../config.ts";
import { EXIT } from "../exit-codes.ts";
import { DecodeError, decodeStamped, encode, type WireId } from "../net/codec.ts";
import type { ConfigStamp } from "../protocol/configuration.ts";
import type { Authenticator } from "../net/auth.ts";
import { joinGroup, openSender, type Receiver, type Sender } from "../net/transport.ts";
import { InvariantError } from "../protocol/assert.ts";
import type { Effects, Fatal, Group, Input, Message, Role } from "../protocol/messages.ts";
import { Driver, type DurableLog } from "./driver.ts";
import type { Health } from "./health.ts";

export type { DurableLog } from "./driver.ts";

/** Which message types each role's group legitimately receives; others are dropped. */
const ACCEPTS: Record<Group, ReadonlySet<Message["t"]>> = {
  clients: new Set(["ack", "2b", "config"]),
  proposers: new Set(["submit", "1b", "nack", "2a", "2b", "catchup", "ack", "hello", "config"]),
  acceptors: new Set(["1a", "2a", "catchup", "refuse", "config"]),
  learners: new Set(["2a", "2b", "decision", "trimmed", "votes", "catchup", "config"]),
};

/**
 * Roles ask for wake-ups when they need them; this tick also comes at least this often, as a
 * safety net (the simulator has none, so a role that forgets to ask fails there first).
 */
const IDLE_TICK_MS = 1000;

/**
 * A role's invariants are checked after every this-many steps (the first one included): often
 * enough that a broken one stops the process soon after, rarely enough to cost nothing measurable
 * (see DESIGN.md, "Invariants"). Tests and the simulator check after every step.
 */
export const INVARIANTS_EVERY_STEPS = 1024;

export interface NodeStats {
  received: number;
  sent: number;
  dropped: Record<string, number>;
  /** Protocol violations roles saw in messages (and refused to act on). */
  violations: number;
  /** Operator mistakes roles noticed and went on despite, by cause. */
  alerts: Record<string, number>;
  /** Send and receive errors at run time, by direction and code ("send-ENETUNREACH"). */
  networkErrors: Record<string, number>;
}

/** What the usual run-time network errors mean, for the log. */
const NETWORK_ERRORS: Record<string, string> = {
  ENETUNREACH: "the network is unreachable: the interface is down or has no route to the group",
  EHOSTUNREACH: "no route to the group",
  EPERM: "a firewall rule refused the datagram",
  EACCES: "not permitted",
  ENOBUFS: "the kernel is out of buffer space",
  EADDRNOTAVAIL: "the interface address is gone",
  ENODEV: "the interface is gone",
};

export interface NodeOptions {
  readonly config: Config;
  readonly group: Group;
  readonly role: Role;
  readonly log: ConsolaInstance;
  readonly loss: number;
  readonly seed: number;
  readonly onEffects?: (fx: Effects) => void;
  readonly durable?: DurableLog;
  /** Sign outgoing and verify incoming datagrams (config `auth`). */
  readonly auth?: Authenticator;
  /** Sees every message before the role steps on it (a learner's recent instances, for its status). */
  readonly observe?: (msg: Message) => void;
  /** What this process sees of the cluster (see health.ts); checked every second. */
  readonly health?: Health;
}

/** Drop reasons an operator can fix: noted for the diagnosis, with the sender's address. */
const REFUSED = new Set(["auth", "cluster", "config", "version"]);
/** A proposer answers a sender it refuses for its configuration at most this often (see answerRefused). */
const ANSWER_REFUSED_MS = 10_000;
/** Senders answered within ANSWER_REFUSED_MS, at most: so at most this many answers per ANSWER_REFUSED_MS, whoever sends. */
const ANSWERED_MAX = 256;

export class Node {
  readonly stats: NodeStats = { received: 0, sent: 0, dropped: {}, violations: 0, alerts: {}, networkErrors: {} };
  private networkErrorLoggedAtMs = -Infinity;
  private networkErrorsUnlogged = 0;
  private readonly alertLoggedAtMs = new Map<string, number>();
  private receiver: Receiver | undefined;
  private sender: Sender | undefined;
  private readonly driver: Driver;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeAtMs = Infinity;
  private idleTimer: ReturnType<typeof setInterval> | undefined;
  private readonly started = performance.now();
  private lastMsg: Message | undefined;
  private lastBytes: Uint8Array | undefined;
  private violationLoggedAtMs = -Infinity;
  private violationsUnlogged = 0;
  private stopReason: ((f: Fatal) => void) | undefined;
  /** Resolves when the role says it cannot go on. */
  readonly fatal: Promise<Fatal>;
  private readonly wire: WireId;
  private lossNow: number;

  constructor(readonly opts: NodeOptions) {
    this.lossNow = opts.loss;
    this.fatal = new Promise((resolve) => (this.stopReason = resolve));
    this.wire = { cluster: opts.config.cluster, acceptors: opts.config.acceptors };
    this.driver = new Driver(
      opts.role,
      {
        now: () => this.now(),
        send: (to, msg) => this.send(to, msg),
        scheduleCommit: () => setImmediate(() => this.guard(() => this.driver.commit())),
        scheduleEndTurn: () => setImmediate(() => this.endTurn()),
        scheduleWake: (atMs) => this.scheduleWake(atMs),
      },
      opts.durable,
      (fx) => this.onEffects(fx),
      INVARIANTS_EVERY_STEPS,
    );
  }

  /** Monotonic milliseconds since start: the `now` every step gets. */
  now(): number {
    return performance.now() - this.started;
  }

  /** Unix time (ms, sub-millisecond precise) of a `now()` time: comparable across processes of one host. */
  unixMs(nodeMs: number): number {
    return performance.timeOrigin + this.started + nodeMs;
  }

  async start(): Promise<void> {
    const { config, group } = this.opts;
    this.sender = await openSender(config, {
      failed: (e, datagrams) => this.networkError("send", e, datagrams),
      dropped: (datagrams) => this.drop("send-buffer-full", undefined, datagrams),
    });
    this.receiver = await joinGroup({
      config,
      group,
      loss: this.lossNow,
      seed: this.opts.seed,
      ownPort: this.sender.port,
      onDatagram: (bytes, from) => this.onDatagram(bytes, from),
      onLossDrop: () => this.drop("injected-loss"),
      onError: (e) => this.networkError("receive", e, 0),
    });
    this.idleTimer = setInterval(() => {
      this.step({ kind: "tick" });
      const said = this.opts.health?.check(this.now());
      if (said !== undefined) this.opts.log.warn(said);
    }, IDLE_TICK_MS);
    this.step({ kind: "tick" });
  }

  stop(): void {
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.driver.commit();
    this.sender?.flush();
    this.receiver?.close();
    this.sender?.close();
  }

  /** One received datagram (public for tests that drive a node without sockets). */
  onDatagram(datagram: Uint8Array, from = "?"): void {
    this.stats.received++;
    const bytes = this.opts.auth ? this.opts.auth.open(datagram) : datagram;
    if (bytes === undefined) {
      this.drop("auth", `${datagram.length}-byte datagram from ${from}`);
      this.opts.health?.noteRefused("auth", from, this.now());
      return;
    }
    let msg: Message;
    let stamp: ConfigStamp;
    try {
      ({ msg, stamp } = decodeStamped(bytes, this.wire));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.drop(e.reason, `${bytes.length}-byte datagram from ${from}`);
      if (REFUSED.has(e.reason)) {
        this.opts.health?.noteRefused(e.reason, from, this.now());
        this.answerRefused(e.reason, from);
      }
      return;
    }
    this.opts.health?.noteMessage(msg, this.now());
    if (!ACCEPTS[this.opts.group].has(msg.t)) {
      this.drop("wrong-group", `'${msg.t}' message`);
      return;
    }
    this.opts.observe?.(msg);
    this.step({ kind: "msg", msg, stamp });
  }

  private readonly answeredAtMs = new Map<string, number>();

  /**
   * A client configured otherwise (another cluster id, acceptor count or release) hears nothing
   * back from proposers that drop its Submits, so it could only say "no answer". A proposer
   * answers such a sender, at most every ANSWER_REFUSED_MS, with an empty Ack to the clients'
   * group in its own configuration: the client drops it in turn, for the reason that names the
   * mismatch, and its diagnosis says so (health.ts). Clients of this configuration take it as an
   * Ack of nothing.
   */
  private answerRefused(reason: string, from: string): void {
    if (this.opts.group !== "proposers" || reason === "auth") return;
    const now = this.now();
    if (now - (this.answeredAtMs.get(from) ?? -Infinity) < ANSWER_REFUSED_MS) return;
    if (this.answeredAtMs.size >= ANSWERED_MAX) {
      for (const [peer, at] of this.answeredAtMs) if (now - at >= ANSWER_REFUSED_MS) this.answeredAtMs.delete(peer);
      if (this.answeredAtMs.size >= ANSWERED_MAX) return;
    }
    this.answeredAtMs.set(from, now);
    this.send("clients", { t: "ack", ranges: [] }); // goes out with this turn's datagrams
  }

  /** The injected loss now (the config's, until a supervisor changes it: see control.ts). */
  get loss(): number {
    return this.lossNow;
  }

  setLoss(loss: number): void {
    this.lossNow = loss;
    this.receiver?.setLoss(loss);
  }

  get health(): Health | undefined {
    return this.opts.health;
  }

  /** The role made progress (a value decided, an instance delivered): for the stall diagnosis. */
  noteProgress(): void {
    this.opts.health?.noteProgress(this.now());
  }

  /** Steps the role on an input from this process (a client's values to submit). */
  input(input: Input): void {
    this.step(input);
  }

  private step(input: Input): void {
    this.guard(() => this.driver.step(input));
  }

  /**
   * The end of this event-loop turn (the driver asks for it before the turn's first step, so it
   * comes after every datagram already queued was stepped and before the group commit a step may
   * ask for): the role sends what it gathered across them (Role.flush), and the sends go out.
   */
  private endTurn(): void {
    this.guard(() => this.driver.endTurn());
    this.sender?.flush();
  }

  /** Keeps one timer, for the earliest wake-up asked for (at most one per tickMs). */
  private scheduleWake(atMs: number): void {
    const at = Math.max(atMs, this.now() + this.opts.config.tickMs);
    if (at >= this.wakeAtMs) return;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeAtMs = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeAtMs = Infinity;
      this.wakeTimer = undefined;
      this.step({ kind: "tick" });
    }, at - this.now());
  }

  /**
   * A broken invariant is a bug in this process: say which and stop at once with its own exit
   * code, rather than go on with state that others rely on.
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof InvariantError)) throw e;
      this.opts.log.fatal(`${e.message}; stopping (this is a bug: please report it with the log)`);
      process.exit(EXIT.invariant);
    }
  }

  /** Encodes (once per message, though it may go to several groups: a 2A goes to three), signs and queues a datagram. */
  private send(to: Group, msg: Message): void {
    if (msg !== this.lastMsg) {
      this.lastMsg = msg;
      const bytes = encode(msg, this.wire, this.opts.role.stamp());
      this.lastBytes = this.opts.auth ? this.opts.auth.seal(bytes) : bytes;
    }
    this.sender?.send(to, this.lastBytes!);
    this.stats.sent++;
  }

  private onEffects(fx: Effects): void {
    if (fx.violations.length > 0) this.noteViolations(fx.violations);
    for (const a of fx.alerts) this.noteAlert(a);
    this.opts.onEffects?.(fx);
    if (fx.fatal !== undefined) this.stopReason?.(fx.fatal);
  }

  /** Logged at most once a second (with how many were not), and counted. */
  private noteViolations(violations: readonly string[]): void {
    this.stats.violations += violations.length;
    const now = this.now();
    if (now - this.violationLoggedAtMs < 1000) {
      this.violationsUnlogged += violations.length;
      return;
    }
    const more = this.violationsUnlogged + violations.length - 1;
    this.opts.log.error(`protocol violation: ${violations[0]}${more > 0 ? ` (and ${more} more since the last report)` : ""}`);
    this.violationLoggedAtMs = now;
    this.violationsUnlogged = 0;
  }

  /** An operator's mistake the role goes on despite: logged at most once a minute per cause, counted. */
  private noteAlert(a: Fatal): void {
    this.stats.alerts[a.cause] = (this.stats.alerts[a.cause] ?? 0) + 1;
    const now = this.now();
    if (now - (this.alertLoggedAtMs.get(a.cause) ?? -Infinity) < 60_000) return;
    this.alertLoggedAtMs.set(a.cause, now);
    this.opts.log.error(a.reason);
  }

  private drop(reason: string, what?: string, count = 1): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + count;
    if (what !== undefined) this.opts.log.debug(`dropped ${what}: ${reason}`);
  }

  /**
   * A send or receive error at run time (a link down, a firewall): counted by error code, and
   * said at most every 5 s with the count since; the process carries on and retransmission
   * recovers once the network is back.
   */
  private networkError(direction: "send" | "receive", e: Error, datagrams: number): void {
    const code = (e as { code?: string }).code ?? "error";
    const key = `${direction}-${code}`;
    this.stats.networkErrors[key] = (this.stats.networkErrors[key] ?? 0) + 1;
    if (datagrams > 0) this.drop(`send-${code}`, undefined, datagrams);
    this.networkErrorsUnlogged++;
    const now = this.now();
    if (now - this.networkErrorLoggedAtMs < 5000) return;
    const more = this.networkErrorsUnlogged - 1;
    this.networkErrorsUnlogged = 0;
    this.networkErrorLoggedAtMs = now;
    const what = direction === "send" ? `sending on ${this.opts.config.network.interface} failed` : `receiving on the ${this.opts.group} group failed`;
    this.opts.log.warn(`${what}: ${code} (${NETWORK_ERRORS[code] ?? e.message})${more > 0 ? `, and ${more} more errors since the last report` : ""}; going on, datagrams are retransmitted once the network is back`);
  }
}
