/**
 * `bun bench/protocol-pipeline.ts [--codec] [--window W] [--bytes S] [--invariants E] [N]`: the protocol core alone
 * (no sockets or processes): 1 client (W outstanding), 1 proposer, 3 acceptors, 1 learner as pure
 * roles, messages passed in FIFO "turns" (everything queued is delivered, then every role flushes),
 * N values of S bytes with the default 1400-byte datagrams. With --codec every message is encoded
 * once and decoded by each receiver, as in the runtime. With --invariants E each role's
 * invariants are checked after every E-th of its steps, as the Driver does (1: every step, as in
 * the simulator; node.ts's INVARIANTS_EVERY_STEPS in production; 0: never). Prints the time each
 * role's steps (and codec work, and checks) took, per value.
 */
import { parseArgs } from "node:util";
import { decodeStamped, encode } from "../src/net/codec.ts";
import type { ConfigStamp } from "../src/protocol/configuration.ts";
import { Acceptor } from "../src/protocol/acceptor.ts";
import { linesOf } from "../src/protocol/batch.ts";
import { Client } from "../src/protocol/client.ts";
import { Learner } from "../src/protocol/learner.ts";
import type { Effects, Message, Role } from "../src/protocol/messages.ts";
import { Proposer } from "../src/protocol/proposer.ts";
import { batchBytesLimit } from "../src/protocol/wire-budget.ts";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { codec: { type: "boolean", default: false }, window: { type: "string", default: "1000" }, bytes: { type: "string", default: "64" }, notify: { type: "string", default: "4" }, invariants: { type: "string", default: "0" } },
});
const N = Number(positionals[0] ?? 300000);
const W = Number(values.window);
const wire = { cluster: 1, acceptors: 3 };
const DATAGRAM = 1400;
const roles: Record<string, Role> = {
  client: new Client({ id: 1025, acceptors: 3, outstandingMax: W, batchBytesMax: batchBytesLimit(DATAGRAM), retransmitMs: 1e9, retransmitMinMs: 1e9, seqBase: 0, gather: true }),
  proposer: new Proposer({ id: 1, acceptors: 3, batchValuesMax: 1000, batchBytesMax: batchBytesLimit(DATAGRAM), datagramBytesMax: DATAGRAM, pipelineWindow: 32, pendingValuesMax: 100000, retransmitMs: 1e9, takeoverMs: 1e9, clientRetransmitMs: 1e9, catchupDatagramsMax: 64, random: () => 0.5, roundFloor: 0, retainInstances: 10000, incarnation: 7, probeWaitMs: 0, gather: true, notifyBelowInflight: Number(values.notify) }),
  a1: new Acceptor({ id: 1, acceptors: 3, ident: 11, datagramBytesMax: DATAGRAM, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  a2: new Acceptor({ id: 2, acceptors: 3, ident: 12, datagramBytesMax: DATAGRAM, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  a3: new Acceptor({ id: 3, acceptors: 3, ident: 13, datagramBytesMax: DATAGRAM, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  learner: new Learner({ id: 1, acceptors: 3, catchupMs: 1e9, idleProbeMaxMs: 1e9, archives: false }),
};
const groups: Record<string, string[]> = { clients: ["client"], proposers: ["proposer"], acceptors: ["a1", "a2", "a3"], learners: ["learner"] };
const cpu: Record<string, number> = Object.fromEntries(Object.keys(roles).map((k) => [k, 0]));
const EVERY = Number(values.invariants);
const steps: Record<string, number> = Object.fromEntries(Object.keys(roles).map((k) => [k, 0]));
/** Of `cpu`, the time the invariant checks took. */
let checksMs = 0;
let datagrams = 0;
const queue: [string, Message | Uint8Array, ConfigStamp][] = [];
let delivered = 0;
const now = 0;
function apply(name: string, fx: Effects): void {
  let last: Message | undefined;
  let bytes: Uint8Array | undefined;
  // Every datagram carries its sender's configuration stamp in its header (as the runtime's).
  const stamp = fx.sends.length > 0 ? roles[name]!.stamp() : undefined;
  for (const s of fx.sends) {
    if (values.codec && s.msg !== last) {
      const t = performance.now();
      bytes = encode(s.msg, wire, stamp);
      cpu[name]! += performance.now() - t;
      last = s.msg;
    }
    for (const r of groups[s.to]!) if (r !== name) queue.push([r, values.codec ? bytes! : s.msg, stamp!]);
  }
  if (name === "learner") for (const d of fx.delivered) delivered += d.count;
}
function run(name: string, f: () => Effects): void {
  const t = performance.now();
  const fx = f();
  if (EVERY > 0 && steps[name]!++ % EVERY === 0) {
    const c = performance.now();
    roles[name]!.invariants?.();
    checksMs += performance.now() - c;
  }
  cpu[name]! += performance.now() - t;
  apply(name, fx);
}
const deliver = (r: string, m: Message | Uint8Array, stamp: ConfigStamp) => {
  datagrams++;
  run(r, () => {
    if (!(m instanceof Uint8Array)) return roles[r]!.step({ kind: "msg", msg: m, stamp }, now);
    const d = decodeStamped(m, wire);
    return roles[r]!.step({ kind: "msg", msg: d.msg, stamp: d.stamp }, now);
  });
};
const flushAll = () => {
  for (const n of Object.keys(roles)) if (roles[n]!.flush) run(n, () => roles[n]!.flush!(now));
};
// start-up: probe, Phase 1
for (let k = 0; k < 5; k++) {
  for (const n of Object.keys(roles)) run(n, () => roles[n]!.step({ kind: "tick" }, now));
  while (queue.length) {
    const [r, m, st] = queue.shift()!;
    deliver(r, m, st);
    flushAll();
  }
}
for (const k of Object.keys(cpu)) cpu[k] = 0;
checksMs = 0;
datagrams = 0;
const S = Number(values.bytes);
const lines = linesOf(Array.from({ length: N }, (_, i) => new TextEncoder().encode(String(i).padStart(S, "0"))));
run("client", () => roles.client!.step({ kind: "submit", lines, count: N }, now));
let head = 0;
const t0 = performance.now();
while (head < queue.length) {
  const end = queue.length;
  for (; head < end; head++) deliver(queue[head]![0], queue[head]![1], queue[head]![2]);
  flushAll();
  if (head > 100000) {
    queue.splice(0, head);
    head = 0;
  }
}
const total = performance.now() - t0;
const all = Object.values(cpu).reduce((a, b) => a + b, 0);
console.log(
  `${values.codec ? "with codec" : "no codec"}, W=${W}, ${S} B, invariants ${EVERY === 0 ? "off" : `every ${EVERY}`}: delivered ${delivered}/${N} in ${total.toFixed(0)} ms, ${(datagrams / N).toFixed(2)} datagrams received per value;`,
  Object.entries(cpu).map(([k, v]) => `${k} ${((v * 1000) / N).toFixed(2)}`).join("  "),
  `all ${((all * 1000) / N).toFixed(2)} µs/value${EVERY > 0 ? `, of which invariants ${((checksMs * 1000) / N).toFixed(3)}` : ""}`,
);
