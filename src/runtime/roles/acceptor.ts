/** The acceptor process: an Acceptor on the acceptors' group, in memory or with its durable log. */
import { existsSync } from "node:fs";
import { EXIT } from "../../exit-codes.ts";
import { Acceptor } from "../../protocol/acceptor.ts";
import { AcceptorLog, StorageError } from "../../storage/acceptor-log.ts";
import type { DurableLog } from "../node.ts";
import { fatal, type RoleContext } from "./context.ts";
import { lockFiles } from "./file-locks.ts";
import { runLifecycle } from "./lifecycle.ts";
import { newMetrics } from "./role-metrics.ts";
import { CATCHUP_DATAGRAMS_MAX, node, randomIdentity } from "./wiring.ts";

/** How often a durable acceptor checks whether its log wants compacting. */
const COMPACT_CHECK_MS = 10_000;

/** The log and what it held; `created`: this start made it (--init, or --join's first start). */
type OpenedLog = ReturnType<typeof AcceptorLog.open> & { readonly created: boolean };

export async function runAcceptor(ctx: RoleContext): Promise<number> {
  const c = ctx.config;
  const opened = openLog(ctx);
  if (typeof opened === "number") return opened;
  const acceptor = new Acceptor({
    id: ctx.id,
    acceptors: c.acceptors,
    ident: opened?.loaded.ident ?? randomIdentity(),
    datagramBytesMax: c.network.datagramBytesMax,
    catchupDatagramsMax: CATCHUP_DATAGRAMS_MAX,
    retainInstances: c.acceptor.retainInstances,
    gather: true, // one 2B per round per event-loop turn
  });
  const metrics = newMetrics(ctx, "acceptor");
  metrics.gauge("paxos_promised_round", "Highest round promised (rnd)", () => [{ value: acceptor.promised }]);
  metrics.gauge("paxos_votes_held", "Votes held in memory", () => [{ value: acceptor.voteCount }]);
  const stored = opened === undefined ? undefined : useLog(ctx, acceptor, opened);
  return runLifecycle(ctx, {
    name: "acceptor",
    node: node(ctx, { role: acceptor, name: "acceptor", ...(stored ? { durable: stored.durable } : {}) }),
    metrics,
    roleStatus: () => ({ acceptor: { promised: acceptor.promised, votes: acceptor.voteCount, durable: stored !== undefined } }),
    ...(stored ? { close: stored.close } : {}),
  });
}

/** The durable log, locked and read (undefined: an in-memory acceptor), or the exit code when it cannot be used. */
function openLog(ctx: RoleContext): OpenedLog | undefined | number {
  const dir = ctx.config.acceptor.storage;
  if (ctx.init && dir === null) {
    fatal(ctx, "--init creates a durable acceptor's log: give it acceptor.storage (or --storage DIR)");
    return EXIT.usage;
  }
  if (dir === null) return undefined;
  // --join: a new acceptor's first start creates its log; a later start (the same unit, still
  // saying --join) opens it.
  const create = ctx.init === true || (ctx.join === true && !existsSync(AcceptorLog.pathOf(dir, ctx.id)));
  // Before the log is read: a second process on it would vote from it too and corrupt it.
  const locked = lockFiles(ctx, [{ file: AcceptorLog.pathOf(dir, ctx.id), what: `acceptor ${ctx.id}'s log`, create, failCode: EXIT.storage }]);
  if (locked !== undefined) return locked;
  try {
    return { ...AcceptorLog.open(dir, ctx.config.cluster, ctx.id, { create, newIdent: randomIdentity }), created: create };
  } catch (e) {
    if (!(e instanceof StorageError) && !(e instanceof Error && "code" in e)) throw e;
    fatal(ctx, `cannot use the acceptor log: ${(e as Error).message}`);
    return EXIT.storage;
  }
}

/** Restores the acceptor from its log; what the node persists through, and how the log closes at the end. */
function useLog(ctx: RoleContext, acceptor: Acceptor, opened: OpenedLog): { durable: DurableLog; close: (code: number) => number } {
  const log = opened.log;
  acceptor.restore(opened.loaded.records);
  if (opened.loaded.tornBytes > 0) ctx.log.warn(`${log.path}: dropped a torn last record (${opened.loaded.tornBytes} bytes, never acknowledged)`);
  ctx.log.info(opened.created ? `${log.path}: created (first start)` : `${log.path}: restored promise ${acceptor.promised} and ${acceptor.voteCount} votes`);
  const durable: DurableLog = {
    append: (records) => log.append(records),
    commit: () => {
      try {
        log.commit();
      } catch (e) {
        // Nothing may be acknowledged that is not on disk: stop at once rather than go on.
        fatal(ctx, `writing ${log.path} failed: ${(e as Error).message}; stopping`);
        process.exit(EXIT.storage);
      }
    },
  };
  const compaction = setInterval(() => {
    if (log.wantsCompaction(acceptor.storedBytes)) log.compact(acceptor.snapshot());
  }, COMPACT_CHECK_MS);
  const close = (code: number): number => {
    clearInterval(compaction);
    log.close();
    return code;
  };
  return { durable, close };
}
