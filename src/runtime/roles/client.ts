/**
 * The client process: reads values from stdin (one per line), submits them through a Client on
 * the clients' group with a bounded window, and exits once every value is known decided.
 */
import type { Config } from "../../config.ts";
import { EXIT } from "../../exit-codes.ts";
import { Client } from "../../protocol/client.ts";
import { clientNumber } from "../../protocol/id-limits.ts";
import { VALUE_OVERHEAD_BYTES, valueBytesLimit } from "../../protocol/wire-budget.ts";
import type { Effects } from "../../protocol/messages.ts";
import { clientLogHead, clientLogLine } from "../../report/latency-log.ts";
import { readLines } from "../lines.ts";
import { newMetrics, node, start, untilSignal, type RoleContext } from "./common.ts";

/** The largest value a client submits with this config (a line beyond it is refused). */
export function maxValueBytes(config: Config): number {
  return valueBytesLimit(config.batch.bytesMax);
}

export async function runClient(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const client = new Client({
    id: clientNumber(ctx.id, Math.random()), // a new identity per run: see id-limits.ts
    outstandingMax: c.client.outstanding,
    datagramBytesMax: c.network.datagramBytesMax,
    retransmitMs: c.client.retransmitMs,
    retransmitMinMs: c.client.retransmitMinMs,
    seqBase: 0,
    gather: true, // one Submit for the acks of one event-loop turn
  });
  const startedMs = performance.now();
  const latency = ctx.latencyLog ? Bun.file(ctx.latencyLog).writer() : undefined;
  latency?.write(clientLogHead(client.opts.id));
  let decided = 0;
  let read = 0;
  let rejected = 0;
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
      if (latency !== undefined) lines += clientLogLine(fx.acked[i]!, n.unixMs(at), now - at);
    }
    if (lines !== "") latency!.write(lines); // one write per step
    if (fx.acked.length > 0) wake();
  };
  const running = await start(ctx, {
    name: "client",
    node: n,
    metrics,
    roleStatus: () => ({
      client: {
        number: client.opts.id,
        read,
        submitted: client.counters.submitted,
        retransmitted: client.counters.retransmitted,
        decided,
        undecided: client.undecided,
      },
    }),
  });
  const maxBytes = maxValueBytes(c);
  // SIGINT or SIGTERM before every value is decided: say how far it got, then stop.
  void untilSignal().then(async (signal) => {
    ctx.log.warn(`${signal}: stopping: ${decided} of the ${read} values read were decided, ${client.undecided} not known decided`);
    await latency?.end();
    running.stop();
    process.exit(running.end(EXIT.interrupted));
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
  running.stop();
  return running.end(rejected === 0 ? 0 : 1);
}
