/**
 * What a role runner gets from the command line (RoleContext), and the last line of a process
 * that cannot go on (fatal). Types and one line of output: a runner's other needs are in
 * wiring.ts (its Node), role-metrics.ts, file-locks.ts and lifecycle.ts (start to exit code).
 */
import type { ConsolaInstance } from "consola";
import type { Config } from "../../config.ts";
import { fatalLine, type LogFormat } from "../log.ts";

export interface RoleContext {
  readonly config: Config;
  readonly id: number;
  readonly log: ConsolaInstance;
  readonly seed: number;
  /** Learner: exit 0 after delivering this many values. */
  readonly count?: number;
  /** Client and learner: the latency log to write (format: src/report/latency-log.ts). */
  readonly latencyLog?: string;
  /** Acceptor: this is its first start: create its durable log. */
  readonly init?: boolean;
  /** Acceptor: a new acceptor (an id above the config's `acceptors`) that joins empty; its durable log is created when absent. */
  readonly join?: boolean;
  /** Learner: append delivered values to this file and resume after them when restarted. */
  readonly output?: string;
  /** Write this process's state to this file (see status.ts). */
  readonly status?: string;
  /** The log format (text by default) and tag (role-id), for the last line of a process that cannot go on. */
  readonly logFormat?: LogFormat;
  readonly tag?: string;
  /** Apply the settings in this file while running (see control.ts). */
  readonly control?: string;
}

/** Says why this process cannot go on, as its last line (src/runtime/log.ts, fatalLine). */
export function fatal(ctx: RoleContext, message: string): void {
  process.stderr.write(fatalLine(ctx.tag ?? `paxos-${ctx.id}`, ctx.logFormat ?? "text", message));
}
