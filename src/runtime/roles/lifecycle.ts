/**
 * One lifecycle for every role, so that the four runners read alike:
 *   start: status file ("starting"), node joins its group, control file, metrics; "up" and its log line;
 *   run:   until SIGINT/SIGTERM, the role's fatal (it cannot go on) or the end of its work
 *          (a client's values all decided, a learner's --count);
 *   stop:  status "stopping", control, metrics and node stopped;
 *   close: the role flushes and closes what it writes (its exit code may change: a failed flush);
 *   exit:  status "stopped" with the exit code, which the runner returns.
 * The exit codes are src/exit-codes.ts's; a role's fatal maps to one in fatalExit.
 */
import type { Fatal } from "../../protocol/messages.ts";
import { EXIT } from "../../exit-codes.ts";
import { watchControl } from "../control.ts";
import type { Metrics } from "../metrics.ts";
import type { Node } from "../node.ts";
import { GROUP_OF, type RoleName } from "../role-names.ts";
import { StatusFile, type RoleStatus } from "../status.ts";
import { fatal, type RoleContext } from "./context.ts";
import { serveMetrics } from "./role-metrics.ts";

/** What a runner hands to the lifecycle: its node, metrics and status, and how its work ends. */
export interface RoleRun {
  readonly name: RoleName;
  readonly node: Node;
  readonly metrics: Metrics;
  /** What the role adds to its status file. */
  readonly roleStatus: RoleStatus;
  /** Called with the status file before the node starts (a runner that writes it on its own events). */
  readonly onStatus?: (status: StatusFile) => void;
  /** The role's own work, begun once it is up; resolves with the exit code when done. None: it serves until a signal. */
  readonly work?: () => Promise<number>;
  /** What a signal means to the role, as its exit code (default: it was asked to stop, 0). */
  readonly onSignal?: (signal: string) => number;
  /** After the node stopped: flush and close the role's files; returns the exit code (default: unchanged). */
  readonly close?: (code: number) => number | Promise<number>;
}

/** Runs a role from start to exit code (see the top of this file). */
export async function runLifecycle(ctx: RoleContext, run: RoleRun): Promise<number> {
  const running = await start(ctx, run);
  const ends: Promise<number>[] = [
    untilSignal().then((signal) => (run.onSignal ?? stopped(ctx))(signal)),
    run.node.fatal.then((f) => fatalExit(ctx, f)),
  ];
  if (run.work !== undefined) ends.push(run.work());
  const code = await Promise.race(ends);
  running.stop();
  const closed = run.close === undefined ? code : await run.close(code);
  running.status.setState("stopped", closed);
  return closed;
}

/** The usual answer to a signal: the process was asked to stop, and does (exit 0). */
const stopped = (ctx: RoleContext) => (signal: string): number => {
  ctx.log.debug(`${signal}: stopping`);
  return EXIT.ok;
};

/** Resolves on SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

/** The exit code of a role that cannot go on, after saying why. */
function fatalExit(ctx: RoleContext, f: Fatal): number {
  fatal(ctx, f.reason);
  return f.cause === "trimmed" ? EXIT.trimmed : f.cause === "storage" ? EXIT.storage : f.cause === "removed" ? EXIT.removed : EXIT.duplicateId;
}

/** A started role: its status file, and the way it stops. */
interface Running {
  readonly status: StatusFile;
  /** Stops the node, its control file and metrics (status "stopping"). */
  stop(): void;
}

/**
 * Starts a role's node, its metrics and its status file, and says it is up (the log line is for
 * people; supervisors read the status file).
 */
async function start(ctx: RoleContext, { name, node: n, metrics, roleStatus, onStatus }: RoleRun): Promise<Running> {
  const status = new StatusFile(
    ctx.status,
    {
      role: name,
      id: ctx.id,
      datagrams: () => ({ received: n.stats.received, sent: n.stats.sent, dropped: { ...n.stats.dropped } }),
      acceptorsHeard: () => n.health?.acceptorsHeard(n.now()) ?? 0,
      loss: () => n.loss,
      configuration: () => {
        const h = n.opts.role.config;
        return { epoch: h.epoch, acceptors: h.latest.members, from: h.latest.from, knownTo: h.knownTo };
      },
      roleStatus,
    },
    (message) => ctx.log.warn(message),
  );
  onStatus?.(status);
  status.start();
  await n.start();
  const stopControl = watchControl(ctx.control, (c) => {
    if (c.loss === undefined || c.loss === n.loss) return;
    ctx.log.info(`injected loss ${n.loss} -> ${c.loss} (control file)`);
    n.setLoss(c.loss);
  }, (message) => ctx.log.warn(message));
  const stopMetrics = serveMetrics(ctx, name, n, metrics);
  const g = ctx.config.network.groups[GROUP_OF[name]];
  ctx.log.info(`${name} ${ctx.id} up on ${ctx.config.network.interface}, group ${g.address}:${g.port}`);
  status.setState("up");
  return {
    status,
    stop: () => {
      status.setState("stopping");
      const dropped = Object.entries(n.stats.dropped).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
      ctx.log.debug(`datagrams received=${n.stats.received} sent=${n.stats.sent} dropped: ${dropped}`);
      stopControl();
      stopMetrics();
      n.stop();
    },
  };
}
