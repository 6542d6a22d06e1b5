/**
 * `bun bench/protocol-pipeline.ts ROOT [N]`: the protocol core alone (no codec, sockets or
 * processes) from a source tree at ROOT (this one: `.`; an older commit: `git archive C src | tar
 * -x -C DIR`): 1 client, 1 proposer, 3 acceptors, 1 learner as pure roles, messages passed as
 * objects in FIFO "turns" (everything queued is delivered, then every role flushes), N values of
 * 64 bytes with the default 1400-byte datagrams. Prints the time each role's steps took, per value.
 */
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const N = Number(process.argv[3] ?? 300000);
const { Client } = await import(`${root}/src/protocol/client.ts`);
const { Proposer } = await import(`${root}/src/protocol/proposer.ts`);
const { Acceptor } = await import(`${root}/src/protocol/acceptor.ts`);
const { Learner } = await import(`${root}/src/protocol/learner.ts`);
const enc = new TextEncoder();
const roles: Record<string, any> = {
  client: new Client({ id: 1025, outstandingMax: 1000, datagramBytesMax: 1400, retransmitMs: 100000, retransmitMinMs: 100000, seqBase: 0, gather: true }),
  proposer: new Proposer({ id: 1, acceptors: 3, batchValuesMax: 1000, batchBytesMax: 1296, datagramBytesMax: 1400, pipelineWindow: 32, pendingValuesMax: 100000, retransmitMs: 100000, takeoverMs: 100000, clientRetransmitMs: 100000, catchupDatagramsMax: 64, random: () => 0.5, roundFloor: 0, retainInstances: 10000, incarnation: 7, gather: true }),
  a1: new Acceptor({ id: 1, ident: 11, datagramBytesMax: 1400, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  a2: new Acceptor({ id: 2, ident: 12, datagramBytesMax: 1400, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  a3: new Acceptor({ id: 3, ident: 13, datagramBytesMax: 1400, catchupDatagramsMax: 64, retainInstances: 10000, gather: true }),
  learner: new Learner({ id: 1, acceptors: 3, catchupMs: 100000, idleProbeMaxMs: 100000, archives: false }),
};
const groups: Record<string, string[]> = { clients: ["client"], proposers: ["proposer"], acceptors: ["a1", "a2", "a3"], learners: ["learner"] };
const cpu: Record<string, number> = Object.fromEntries(Object.keys(roles).map((k) => [k, 0]));
const queue: [string, any][] = [];
let delivered = 0;
const now = 0;
function apply(name: string, fx: any) {
  for (const s of fx.sends) for (const r of groups[s.to]!) if (r !== name) queue.push([r, s.msg]);
  if (name === "learner") delivered += fx.delivered.length;
}
function run(name: string, f: () => any) {
  const t = performance.now();
  const fx = f();
  cpu[name]! += performance.now() - t;
  apply(name, fx);
}
// start-up
for (let k = 0; k < 5; k++) {
  for (const n of Object.keys(roles)) run(n, () => roles[n].step({ kind: "tick" }, now));
  while (queue.length) { const [r, m] = queue.shift()!; run(r, () => roles[r].step({ kind: "msg", msg: m }, now)); for (const n of Object.keys(roles)) if (roles[n].flush) run(n, () => roles[n].flush(now)); }
}
const data = Array.from({ length: N }, (_, i) => enc.encode(`client1-value${i}`.padEnd(64, "x")));
run("client", () => roles.client.submit(data, now).fx);
let head = 0;
const t0 = performance.now();
while (head < queue.length) {
  // one "turn": deliver everything queued now, then flush all
  const end = queue.length;
  for (; head < end; head++) { const [r, m] = queue[head]!; run(r, () => roles[r].step({ kind: "msg", msg: m }, now)); }
  for (const n of Object.keys(roles)) if (roles[n].flush) run(n, () => roles[n].flush(now));
  if (head > 100000) { queue.splice(0, head); head = 0; }
}
const total = performance.now() - t0;
console.log(root, `delivered ${delivered}/${N} in ${total.toFixed(0)} ms;`, Object.entries(cpu).map(([k, v]) => `${k} ${((v * 1000) / N).toFixed(2)}`).join("  "), "µs/value");
