/**
 * Binds one protocol role to the network: datagrams in (loss injection, decoding, validation),
 * role steps, effects out (encoding, multicast), and ticks from a timer. The role itself stays
 * pure; this is the only place that touches sockets and the clock.
 */
import type { ConsolaInstance } from "consola";
import type { Config } from "../config.ts";
import { DecodeError, decode, encode } from "../net/codec.ts";
import type { Authenticator } from "../net/auth.ts";
import { joinGroup, openSender, type Receiver, type Sender } from "../net/transport.ts";
import type { Effects, Group, Message, PersistRecord, Role } from "../protocol/messages.ts";

/** Which message types each role's group legitimately receives; others are dropped. */
const ACCEPTS: Record<Group, ReadonlySet<Message["t"]>> = {
  clients: new Set(["ack"]),
  proposers: new Set(["submit", "1b", "nack", "2b", "catchup"]),
  acceptors: new Set(["1a", "2a", "catchup"]),
  learners: new Set(["2b", "decision", "trimmed", "votes", "catchup"]),
};

export interface NodeStats {
  received: number;
  sent: number;
  dropped: Record<string, number>;
}

/** Where an acceptor's promises and votes go before its replies (see storage/acceptor-log.ts). */
export interface DurableLog {
  append(records: readonly PersistRecord[]): void;
  /** Writes and fsyncs everything appended so far. */
  commit(): void;
}

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
  /** Runtime-level answers (a learner's archive): effects for a message, or undefined for the role. */
  readonly intercept?: (msg: Message) => Effects | undefined;
}

export class Node {
  readonly stats: NodeStats = { received: 0, sent: 0, dropped: {} };
  private receiver: Receiver | undefined;
  private sender: Sender | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Sends waiting for the group commit of the records they depend on. */
  private held: { to: Group; bytes: Uint8Array }[] = [];
  private commitScheduled = false;
  private readonly started = performance.now();

  constructor(readonly opts: NodeOptions) {}

  /** Monotonic milliseconds since start: the `now` every step gets. */
  now(): number {
    return performance.now() - this.started;
  }

  async start(): Promise<void> {
    const { config, group } = this.opts;
    this.sender = await openSender(config);
    this.receiver = await joinGroup({
      config,
      group,
      loss: this.opts.loss,
      seed: this.opts.seed,
      onDatagram: (bytes) => this.onDatagram(bytes),
      onLossDrop: () => this.drop("injected-loss"),
    });
    this.timer = setInterval(() => this.apply(this.opts.role.step({ kind: "tick" }, this.now())), config.tickMs);
    this.apply(this.opts.role.step({ kind: "tick" }, this.now()));
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.commitAndRelease();
    this.sender?.flush();
    this.receiver?.close();
    this.sender?.close();
  }

  /** One received datagram (public for tests that drive a node without sockets). */
  onDatagram(datagram: Uint8Array): void {
    this.stats.received++;
    const bytes = this.opts.auth ? this.opts.auth.open(datagram) : datagram;
    if (bytes === undefined) {
      this.drop("auth", `${datagram.length}-byte datagram`);
      return;
    }
    let msg: Message;
    try {
      msg = decode(bytes, this.opts.config.cluster);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.drop(e.reason, `${bytes.length}-byte datagram`);
      return;
    }
    if (!ACCEPTS[this.opts.group].has(msg.t)) {
      this.drop("wrong-group", `'${msg.t}' message`);
      return;
    }
    this.apply(this.opts.intercept?.(msg) ?? this.opts.role.step({ kind: "msg", msg }, this.now()));
  }

  private drop(reason: string, what?: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    if (what !== undefined) this.opts.log.debug(`dropped ${what}: ${reason}`);
  }

  /**
   * Carries out a step's effects. A message sent to two groups is encoded once. With a durable
   * log, records are appended and the step's sends wait until one fsync at the end of this
   * event-loop turn covers every record appended meanwhile (group commit).
   */
  apply(fx: Effects): void {
    const durable = this.opts.durable;
    if (durable && fx.persist.length > 0) durable.append(fx.persist);
    const hold = durable !== undefined && (fx.persist.length > 0 || this.held.length > 0);
    let lastMsg: Message | undefined;
    let lastBytes: Uint8Array | undefined;
    for (const { to, msg } of fx.sends) {
      if (msg !== lastMsg) {
        lastMsg = msg;
        lastBytes = encode(msg, this.opts.config.cluster);
        if (this.opts.auth) lastBytes = this.opts.auth.seal(lastBytes);
      }
      if (hold) this.held.push({ to, bytes: lastBytes! });
      else this.sender!.send(to, lastBytes!);
      this.stats.sent++;
    }
    if (hold && !this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commitAndRelease());
    }
    this.opts.onEffects?.(fx);
  }

  private commitAndRelease(): void {
    this.commitScheduled = false;
    this.opts.durable?.commit();
    const held = this.held;
    this.held = [];
    for (const h of held) this.sender?.send(h.to, h.bytes);
  }
}
