/**
 * The learner process: a Learner on the learners' group that writes delivered values to stdout
 * (or --output FILE, resumable), optionally keeps an archive other learners catch up from, and
 * logs when each value was delivered (--latency-log).
 */
import { EXIT } from "../../exit-codes.ts";
import { skipLines } from "../../protocol/batch.ts";
import { Learner } from "../../protocol/learner.ts";
import type { Effects } from "../../protocol/messages.ts";
import { learnerLogHead, learnerLogLine, msText } from "../../report/latency-log.ts";
import { LearnerArchive } from "../../storage/learner-archive.ts";
import { cutPosition, LearnerOutputFile, type OutputPosition } from "../../storage/learner-output.ts";
import { RecentInstances } from "../recent.ts";
import { StdoutLines } from "../stdout.ts";
import { fatal, type RoleContext } from "./context.ts";
import { lockFiles } from "./file-locks.ts";
import { runLifecycle } from "./lifecycle.ts";
import { newMetrics } from "./role-metrics.ts";
import { CATCHUP_DATAGRAMS_MAX, node } from "./wiring.ts";

/** A learner writes its position to --output's FILE.pos at most this often (its FILE at every flush). */
const OUTPUT_POSITION_EVERY_MS = 1000;

/** A learner's files: its archive and its --output, each when configured. */
interface LearnerFiles {
  readonly archive: LearnerArchive | undefined;
  readonly file: LearnerOutputFile | undefined;
  /** Where the --output of an earlier run stopped. */
  readonly resumed: OutputPosition | undefined;
}

/** Checks, locks and opens the learner's files; an exit code (after saying why) when it cannot. */
function openFiles(ctx: RoleContext): LearnerFiles | number {
  const c = ctx.config;
  try {
    if (ctx.output !== undefined) LearnerOutputFile.check(ctx.output); // before a lock file is made beside it
  } catch (e) {
    fatal(ctx, `cannot use the output file: ${(e as Error).message}`);
    return EXIT.output;
  }
  // Before either is opened (opening truncates a torn tail): a second learner on them would interleave its writes.
  const locked = lockFiles(ctx, [
    ...(ctx.output !== undefined ? [{ file: ctx.output, what: "this learner's --output", create: true, failCode: EXIT.output }] : []),
    ...(c.learner.archive !== null ? [{ file: LearnerArchive.pathOf(c.learner.archive, ctx.id), what: `learner ${ctx.id}'s archive`, create: true, failCode: EXIT.storage }] : []),
  ]);
  if (locked !== undefined) return locked;
  let archive: LearnerArchive | undefined;
  try {
    if (c.learner.archive !== null) archive = LearnerArchive.open(c.learner.archive, c.cluster, ctx.id);
  } catch (e) {
    fatal(ctx, `cannot use the learner archive: ${(e as Error).message}`);
    return EXIT.storage;
  }
  let opened: ReturnType<typeof LearnerOutputFile.open> | undefined;
  try {
    if (ctx.output !== undefined) opened = LearnerOutputFile.open(ctx.output, c.cluster, ctx.id);
  } catch (e) {
    fatal(ctx, `cannot use the output file: ${(e as Error).message}`);
    return EXIT.output;
  }
  const resumed = opened?.resumed;
  if (resumed !== undefined) ctx.log.info(`${ctx.output}: resuming after ${resumed.values} values (instance ${resumed.next})`);
  if (resumed !== undefined && archive !== undefined && archive.size < resumed.next) {
    // Added since, lost, damaged, or left behind by an earlier release's crash: it serves what it holds.
    ctx.log.warn(`${LearnerArchive.pathOf(c.learner.archive!, ctx.id)} ends at instance ${archive.size} but the output resumes at ${resumed.next}: instances ${archive.size} to ${resumed.next - 1} are not in this archive`);
  }
  return { archive, file: opened?.output, resumed };
}

export async function runLearner(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const files = openFiles(ctx);
  if (typeof files === "number") return files;
  const { archive, file, resumed } = files;
  const learner = new Learner({
    id: ctx.id,
    acceptors: c.acceptors,
    catchupMs: c.learner.catchupMs,
    idleProbeMaxMs: c.learner.idleProbeMaxMs,
    archives: c.learner.archive !== null,
    ...(archive ? { archive: { store: archive.port(), datagramBytesMax: c.network.datagramBytesMax, datagramsMax: CATCHUP_DATAGRAMS_MAX } } : {}),
    ...(resumed ? { startAt: resumed.next, deliveredIds: resumed.ids } : {}),
  });
  const stdout = file === undefined ? new StdoutLines() : undefined;
  /** Values handed to the output, and those written (flushed) so far. */
  let delivered = resumed?.values ?? 0;
  let written = delivered;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  /** An output failure decides the exit code, even after --count was reached (finish(0) came first). */
  let failed: number | undefined;
  /** Where the output stops for good once --count is reached: later steps deliver what is not written. */
  let stopped: OutputPosition | undefined;
  const position = (): OutputPosition => stopped ?? { next: learner.nextInstance, values: delivered, ids: learner.deliveredIdsSnapshot() };
  if (ctx.count !== undefined && delivered >= ctx.count) {
    // Done before it starts (a restart after its --count): the file stays as it is.
    stopped = position();
    finish(0);
  }
  /** Output errors end the learner: EPIPE quietly (its reader went away), others with a sentence. */
  const outputFailed = (e: unknown): void => {
    const code = (e as { code?: string }).code;
    if (failed !== undefined) return; // said once
    failed = code === "EPIPE" ? EXIT.pipe : EXIT.output;
    if (failed === EXIT.output) fatal(ctx, `cannot write the learner's output${ctx.output ? ` to ${ctx.output}` : ""}: ${(e as Error).message}; stopping (${written} values were written)`);
    finish(failed);
  };
  /** The archive is synced before the output position moves: it must hold every instance the position covers. */
  const archiveFirst = archive === undefined ? undefined : () => archive!.sync();
  const flush = async (final: boolean): Promise<void> => {
    const flushing = delivered;
    try {
      archive?.flush();
      if (file !== undefined) file.flush(position, performance.now(), OUTPUT_POSITION_EVERY_MS, final, archiveFirst);
      else await stdout!.flush();
      written = flushing;
    } catch (e) {
      outputFailed(e);
    }
  };
  const latency = ctx.latencyLog ? Bun.file(ctx.latencyLog).writer() : undefined;
  latency?.write(learnerLogHead());
  const recent = new RecentInstances(c.acceptors);
  const onEffects = (fx: Effects): void => {
    if (fx.deliveredInstances.length > 0) n.noteProgress();
    for (const d of fx.deliveredInstances) recent.delivered(d.inst, d.cVal.length);
    if (latency !== undefined && fx.delivered.length > 0) {
      // One write per step, a line per run: what the log costs (it is on for benchmarks).
      const at = msText(n.unixMs(n.now()));
      let lines = "";
      for (const d of fx.delivered) lines += learnerLogLine(d.client, d.first, d.count, at);
      latency.write(lines);
    }
    if (stopped !== undefined) return;
    const out = file ?? stdout!;
    for (let i = 0; i < fx.delivered.length; i++) {
      const d = fx.delivered[i]!;
      if (ctx.count !== undefined && delivered + d.count >= ctx.count) {
        // Only what --count asks for, and a position a restart resumes from with the rest.
        const take = ctx.count - delivered;
        out.write(take === d.count ? d.lines : d.lines.subarray(0, skipLines(d.lines, 0, take)));
        delivered += take;
        const unwritten = [{ client: d.client, first: d.first + take, count: d.count - take }, ...fx.delivered.slice(i + 1)].filter((r) => r.count > 0);
        stopped = unwritten.length === 0 ? position() : cutPosition(fx.deliveredInstances[0]!.inst, delivered, learner.deliveredIdsSnapshot(), unwritten);
        finish(0);
        return;
      }
      out.write(d.lines);
      delivered += d.count;
    }
  };
  const n = node(ctx, {
    role: learner,
    name: "learner",
    onEffects,
    work: () => ({ waiting: learner.waitingInstances, unit: "instances" }),
    observe: (msg) => recent.observe(msg),
  });
  const flusher = setInterval(() => void flush(false), c.learner.flushMs);
  const metrics = newMetrics(ctx, "learner");
  metrics.counter("paxos_delivered_values_total", "Values delivered and written to the output", () => [{ value: written }]);
  metrics.counter("paxos_decided_instances_total", "Instances delivered (prefix)", () => [{ value: learner.nextInstance }]);
  /** The last flush and position; an output failure decides the exit code. */
  const close = async (code: number): Promise<number> => {
    clearInterval(flusher);
    if (failed === undefined) await flush(true);
    try {
      if (failed === undefined) file?.close(position, performance.now(), archiveFirst);
    } catch (e) {
      outputFailed(e);
    }
    archive?.close();
    await latency?.end();
    ctx.log.debug(`delivered ${delivered} values`);
    return failed ?? code;
  };
  return runLifecycle(ctx, {
    name: "learner",
    node: n,
    metrics,
    roleStatus: () => ({ learner: { decidedPrefix: learner.nextInstance, delivered, waiting: learner.waitingInstances, recent: recent.snapshot() } }),
    work: () => finished,
    close,
  });
}
