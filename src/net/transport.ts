/**
 * Multicast transport. Receiving uses node:dgram with SO_REUSEADDR so that several processes of
 * one role on a host share their group's port (Bun.udpSocket cannot). Sending uses one unconnected
 * Bun.udpSocket bound to the configured interface, with sendMany to put many datagrams in one call.
 * Only the four configured groups are ever sent to, on the configured interface.
 */
import dgram from "node:dgram";
import type { Config } from "../config.ts";
import type { Group } from "../protocol/messages.ts";
import { Prng } from "../prng.ts";

export interface Receiver {
  /** Changes the injected loss from now on (a supervisor's live control). */
  setLoss(loss: number): void;
  close(): void;
}

export interface ReceiveOptions {
  readonly config: Config;
  readonly group: Group;
  /** Drop each received datagram with this probability (loss injection). */
  readonly loss: number;
  readonly seed: number;
  /**
   * The port this process sends from: its own datagrams, looped back by multicast, are dropped
   * here before any decoding (no role needs its own messages back).
   */
  readonly ownPort?: number;
  /** A datagram and where it came from (address:port: the sender's socket, one per process). */
  readonly onDatagram: (bytes: Uint8Array, from: string) => void;
  readonly onLossDrop: () => void;
  /** A receive error at run time (the socket stays open and goes on receiving). */
  readonly onError: (e: Error) => void;
}

export async function joinGroup(opts: ReceiveOptions): Promise<Receiver> {
  const { config, group } = opts;
  const g = config.network.groups[group];
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  const rng = new Prng(opts.seed);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    // Bound to the group address: only this group's datagrams arrive here.
    socket.bind(g.port, g.address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.addMembership(g.address, config.network.interface);
  try {
    socket.setRecvBufferSize(config.network.recvBufferBytes);
  } catch {
    // The kernel may refuse a large buffer; the default still works, with more loss under load.
  }
  socket.on("error", opts.onError);
  const self = config.network.interface;
  let loss = opts.loss;
  socket.on("message", (bytes: Uint8Array, rinfo: { address: string; port: number }) => {
    if (rinfo.port === opts.ownPort && rinfo.address === self) return;
    if (loss > 0 && rng.next() < loss) opts.onLossDrop();
    else opts.onDatagram(bytes, `${rinfo.address}:${rinfo.port}`);
  });
  return { setLoss: (p) => (loss = p), close: () => socket.close() };
}

export interface Sender {
  /** The local port datagrams are sent from. */
  readonly port: number;
  /** Queues a datagram; queued datagrams go out together at the end of this event-loop turn. */
  send(group: Group, bytes: Uint8Array): void;
  flush(): void;
  close(): void;
}

/** What became of datagrams the kernel did not take. */
export interface SendTrouble {
  /** `sendMany` threw (the network is unreachable, a firewall said no, …): these were not sent. */
  failed(e: Error, datagrams: number): void;
  /** The socket buffer was full: the kernel took fewer than asked. */
  dropped(datagrams: number): void;
}

const SEND_MANY_MAX = 64;

/**
 * A link that goes down makes every send fail at once (ENETUNREACH, EPERM from a firewall, …):
 * the datagrams are dropped, as UDP may drop them anyway, and counted; every protocol message is
 * retransmitted, so the cluster carries on when the link is back.
 */
export async function openSender(config: Config, trouble: SendTrouble): Promise<Sender> {
  const socket = await Bun.udpSocket({ hostname: config.network.interface, port: 0 });
  socket.setMulticastInterface(config.network.interface);
  socket.setMulticastTTL(config.network.ttl);
  socket.setMulticastLoopback(true);
  const dest = (g: Group) => config.network.groups[g];
  let queue: (Uint8Array | string | number)[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const q = queue;
    queue = [];
    for (let i = 0; i < q.length; i += SEND_MANY_MAX * 3) {
      const part = q.length <= SEND_MANY_MAX * 3 ? q : q.slice(i, i + SEND_MANY_MAX * 3);
      const datagrams = part.length / 3;
      // A full socket buffer drops the rest: UDP is lossy anyway and every protocol message is
      // retransmitted on a timeout.
      let sent: number;
      try {
        sent = socket.sendMany(part);
      } catch (e) {
        trouble.failed(e as Error, datagrams);
        continue;
      }
      if (sent < datagrams) trouble.dropped(datagrams - sent);
    }
  };
  return {
    port: socket.port,
    send(group, bytes) {
      const d = dest(group);
      queue.push(bytes, d.port, d.address);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    close: () => socket.close(),
  };
}
