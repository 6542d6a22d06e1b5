/**
 * The client process: reads values from stdin (one per line), submits them through a Client on
 * the clients' group with a bounded window (lines go on in bulk, as the bytes they came in), and
 * exits once every value is known decided.
 */
import type { Config } from "../../config.ts";
import { EXIT } from "../../exit-codes.ts";
import { Client } from "../../protocol/client.ts";
import { clientNumber } from "../../protocol/id-limits.ts";
import { VALUE_OVERHEAD_BYTES, valueBytesLimit } from "../../protocol/wire-budget.ts";
import type { Effects } from "../../protocol/messages.ts";
import { clientLogHead, clientLogLine } from "../../report/latency-log.ts";
import { readLineSlabs } from "../lines.ts";
import type { Node } from "../node.ts";
import type { ProcessStatus } from "../status.ts";
import type { RoleContext } from "./context.ts";
import { runLifecycle } from "./lifecycle.ts";
import { newMetrics } from "./role-metrics.ts";
import { node } from "./wiring.ts";

/** The largest value a client submits with this config (a line beyond it is refused). */
export function maxValueBytes(config: Config): number {
  return valueBytesLimit(config.batch.bytesMax);
}

export async function runClient(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const client = new Client({
    id: clientNumber(ctx.id, Math.random()), // a new identity per run: see id-limits.ts
    acceptors: c.acceptors,
    outstandingMax: c.client.outstanding,
    batchBytesMax: c.batch.bytesMax,
    retransmitMs: c.client.retransmitMs,
    retransmitMinMs: c.client.retransmitMinMs,
    seqBase: 0,
    gather: true, // one Submit for the acks of one event-loop turn
  });
  const startedMs = performance.now();
  const latency = ctx.latencyLog ? Bun.file(ctx.latencyLog).writer() : undefined;
  latency?.write(clientLogHead(client.opts.id));
  const tally: Tally = { read: 0, rejected: 0, decided: 0 };
  let wake: () => void = () => {};
  const metrics = newMetrics(ctx, "client");
  const latencyS = metrics.histogram("paxos_latency_seconds", "Submit until known decided", [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
  metrics.counter("paxos_submitted_values_total", "Values sent for the first time", () => [{ value: client.counters.submitted }]);
  metrics.counter("paxos_retransmitted_values_total", "Values sent again", () => [{ value: client.counters.retransmitted }]);
  metrics.counter("paxos_decided_values_total", "Values known decided", () => [{ value: tally.decided }]);
  const n = node(ctx, {
    role: client,
    name: "client",
    work: () => ({ waiting: client.undecided, unit: "values" }),
    onEffects: (fx) => onAcked(fx),
  });
  const onAcked = (fx: Effects): void => {
    if (fx.acked.length === 0) return;
    n.noteProgress();
    const now = n.now();
    let lines = "";
    for (const a of fx.acked) {
      tally.decided += a.count;
      latencyS.observe((now - a.sentAtMs) / 1000, a.count);
      if (latency !== undefined) lines += clientLogLine(a.first, a.count, n.unixMs(a.sentAtMs), now - a.sentAtMs);
    }
    if (lines !== "") latency!.write(lines); // one write per step
    wake();
  };
  /** Reads stdin and submits every line; done once every value read is decided (exit 1 when lines were rejected). */
  const work = async (): Promise<number> => {
    await submitStdin(ctx, n, client, tally, () => new Promise<void>((r) => (wake = r)));
    const { decided, read, rejected } = tally;
    const secs = (performance.now() - startedMs) / 1000;
    ctx.log.info(
      `${decided} values decided in ${secs.toFixed(3)} s (${(decided / Math.max(secs, 1e-9)).toFixed(0)} values/s)` +
        (rejected > 0 ? `; ${rejected} of ${read} lines rejected as too long` : ""),
    );
    return rejected === 0 ? 0 : 1;
  };
  return runLifecycle(ctx, {
    name: "client",
    node: n,
    metrics,
    roleStatus: () => ({ client: statusOf(client, tally) }),
    work,
    // A signal before every value is decided: say how far it got (exit 130).
    onSignal: (signal) => {
      ctx.log.warn(`${signal}: stopping: ${tally.decided} of the ${tally.read} values read were decided, ${client.undecided} not known decided`);
      return EXIT.interrupted;
    },
    close: async (code) => {
      await latency?.end();
      return code;
    },
  });
}

/** What the client read and what is decided so far (its status, metrics and last lines say them). */
interface Tally {
  read: number;
  rejected: number;
  decided: number;
}

/** What the client adds to its status file. */
function statusOf(client: Client, tally: Tally): ProcessStatus["client"] {
  const { submitted, retransmitted } = client.counters;
  return { number: client.opts.id, read: tally.read, submitted, retransmitted, decided: tally.decided, undecided: client.undecided };
}

/**
 * Reads stdin and submits every line that fits (a longer one is said and counted as rejected),
 * with at most twice `client.outstanding` values undecided; resolves once every value read is
 * decided. `acked` resolves at the client's next acknowledgement.
 */
async function submitStdin(ctx: RoleContext, n: Node, client: Client, tally: Tally, acked: () => Promise<void>): Promise<void> {
  const maxBytes = maxValueBytes(ctx.config);
  for await (const items of readLineSlabs(Bun.stdin.stream(), maxBytes)) {
    for (const item of items) {
      if (item.kind === "lines") {
        tally.read += item.count;
        n.input({ kind: "submit", lines: item.lines, count: item.count });
      } else {
        tally.read++;
        tally.rejected++;
        ctx.log.error(`line ${item.number}: value of ${item.length} bytes is over the maximum of ${maxBytes} bytes (batch.bytesMax - ${VALUE_OVERHEAD_BYTES}); not submitted`);
      }
    }
    // Backpressure: read on only while the queue of undecided values is bounded.
    while (client.undecided >= 2 * ctx.config.client.outstanding) await acked();
  }
  while (client.undecided > 0) await acked();
}
