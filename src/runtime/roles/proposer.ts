/** The proposer process: a Proposer on the proposers' group, its metrics and status. */
import { Effects } from "../../protocol/messages.ts";
import { ROUND_STRIDE } from "../../protocol/id-limits.ts";
import { Proposer } from "../../protocol/proposer.ts";
import type { StatusFile } from "../status.ts";
import type { RoleContext } from "./context.ts";
import { runLifecycle } from "./lifecycle.ts";
import { newMetrics } from "./role-metrics.ts";
import { CATCHUP_DATAGRAMS_MAX, node, randomIdentity } from "./wiring.ts";

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
    notifyBelowInflight: 4,
    thriftyReports: true,
  });
  const metrics = newMetrics(ctx, "proposer");
  const batchValues = metrics.histogram("paxos_batch_values", "Values per proposed instance", [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000]);
  metrics.gauge("paxos_round", "Current round (cRnd)", () => [{ value: proposer.round }]);
  metrics.gauge("paxos_leader", "1 while this proposer leads", () => [{ value: proposer.isLeader ? 1 : 0 }]);
  metrics.counter("paxos_decided_instances_total", "Instances known decided (prefix)", () => [{ value: proposer.decidedPrefix }]);
  metrics.counter("paxos_phase1_runs_total", "Phase 1 runs", () => [{ value: proposer.counters.phase1Runs }]);
  metrics.counter("paxos_takeovers_total", "Phase 1 runs after a first one (takeovers)", () => [{ value: proposer.counters.takeovers }]);
  let leading = false;
  let mode = proposer.state;
  let decidedPrefix = 0;
  let status: StatusFile | undefined;
  const onEffects = (fx: Effects): void => {
    for (const s of fx.sends) if (s.msg.t === "2a") for (const p of s.msg.proposals) batchValues.observe(p.cVal.length);
    if (proposer.decidedPrefix > decidedPrefix) {
      decidedPrefix = proposer.decidedPrefix;
      n.noteProgress();
    }
    if (proposer.state !== mode) {
      mode = proposer.state;
      status?.write(); // a change of mode is written at once, not at the next tick
    }
    if (proposer.isLeader === leading) return;
    leading = proposer.isLeader;
    ctx.log.info(leading ? `leading in round ${proposer.round}` : "standing by");
  };
  const n = node(ctx, { role: proposer, name: "proposer", onEffects, work: () => ({ waiting: proposer.pendingCount, unit: "values" }) });
  return runLifecycle(ctx, {
    name: "proposer",
    node: n,
    metrics,
    roleStatus: () => ({
      proposer: {
        mode: proposer.state,
        leader: proposer.isLeader,
        round: proposer.round,
        decidedPrefix: proposer.decidedPrefix,
        phase1Runs: proposer.counters.phase1Runs,
        takeovers: proposer.counters.takeovers,
        pending: proposer.pendingCount,
      },
    }),
    onStatus: (s) => (status = s),
  });
}
