/**
 * `paxos reconfigure --acceptors 1,2,4`: changes the acceptor set through the log
 * (protocol/configuration.ts). A client under the reserved number RECONFIG_CLIENT asks the
 * proposers for the history, checks the change against it, submits the line "1,2,4" with seq =
 * the epoch it replaces, and waits until the decided log made it a configuration: it prints the
 * epoch and the instance it governs from, and exits 0. What it refuses, it says in one sentence
 * (exit 2 before anything is submitted, exit 1 when another change was decided first).
 */
import { EXIT } from "../../exit-codes.ts";
import { Client } from "../../protocol/client.ts";
import { RECONFIG_CLIENT, formatMembers, type Configuration } from "../../protocol/configuration.ts";
import { ACCEPTORS_MAX, ACCEPTOR_ID_MIN } from "../../protocol/id-limits.ts";
import { linesOf } from "../../protocol/batch.ts";
import type { RoleContext } from "./context.ts";
import { node } from "./wiring.ts";

/** Why a change is refused before it is submitted (exit 2). */
export class ReconfigureRefused extends Error {}

/**
 * The change from `history` (the cluster's, oldest first) to `members`, checked: a set of 1 to
 * ACCEPTORS_MAX distinct ids in range, other than the one in force, no change pending at the
 * decided prefix `decidedBelow`, and no id an earlier change removed (its log must not come back).
 */
export function checkChange(history: readonly Configuration[], decidedBelow: number, members: readonly number[]): void {
  checkMembers(members);
  checkAgainst(history, decidedBelow, members);
}

/** What can be checked without the cluster: 1 to ACCEPTORS_MAX distinct ids in range. */
export function checkMembers(members: readonly number[]): void {
  if (members.length === 0) throw new ReconfigureRefused("--acceptors: an empty set of acceptors decides nothing; name at least one");
  const bad = members.find((m) => !Number.isInteger(m) || m < ACCEPTOR_ID_MIN || m > ACCEPTORS_MAX);
  if (bad !== undefined) throw new ReconfigureRefused(`--acceptors: acceptor ids are ${ACCEPTOR_ID_MIN} to ${ACCEPTORS_MAX}, found ${bad}`);
  if (new Set(members).size !== members.length) throw new ReconfigureRefused(`--acceptors: an id is named twice in ${members.join(",")}`);
}

function checkAgainst(history: readonly Configuration[], decidedBelow: number, members: readonly number[]): void {
  const latest = history[history.length - 1]!;
  if (latest.from > decidedBelow) {
    throw new ReconfigureRefused(
      `configuration epoch ${latest.epoch} (acceptors ${formatMembers(latest.members)}) is still pending: it governs from instance ${latest.from} and the cluster has decided below ${decidedBelow}; one change at a time, try again once it governs`,
    );
  }
  const sorted = [...members].sort((a, b) => a - b);
  if (formatMembers(sorted) === formatMembers(latest.members)) throw new ReconfigureRefused(`acceptors ${formatMembers(sorted)} are the configuration in force already (epoch ${latest.epoch}): nothing to change`);
  const removed = new Set<number>();
  for (let i = 1; i < history.length; i++) for (const m of history[i - 1]!.members) if (!history[i]!.members.includes(m)) removed.add(m);
  const back = sorted.find((m) => removed.has(m) && !latest.members.includes(m));
  if (back !== undefined) throw new ReconfigureRefused(`acceptor ${back} was removed by an earlier change; a removed acceptor must not come back (its log may be stale): give its replacement a new id`);
}

export interface ReconfigureOptions {
  readonly members: readonly number[];
  /** Give up after this long (exit 1). */
  readonly timeoutMs: number;
}

export async function runReconfigure(ctx: RoleContext, opts: ReconfigureOptions): Promise<number> {
  const c = ctx.config;
  const client = newClient(ctx);
  let wake: () => void = () => {};
  const n = node(ctx, { role: client, name: "client", onEffects: () => wake() });
  const changed = () => new Promise<void>((r) => (wake = r));
  const deadline = performance.now() + opts.timeoutMs;
  const until = async (done: () => boolean, what: string): Promise<void> => {
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimedOut(what);
      await Promise.race([changed(), Bun.sleep(Math.min(left, 100))]);
    }
  };
  await n.start();
  try {
    // What is in force: the first answer, and whatever else comes within half a second (a
    // proposer that only just started may know less; the history and decided prefix merge).
    await until(() => client.configAnswers.count >= 1, "answer from a proposer");
    await Bun.sleep(500);
    const history = client.config.history;
    const epoch = client.config.epoch;
    checkChange(history, client.configAnswers.decidedBelow, opts.members);
    const line = [...opts.members].sort((a, b) => a - b).join(",");
    ctx.log.info(`proposing acceptors ${line} to replace configuration epoch ${epoch} (acceptors ${formatMembers(client.config.latest.members)})`);
    // The change's seq is the epoch it replaces.
    client.startSeqsAt(epoch);
    n.input({ kind: "submit", lines: linesOf([new TextEncoder().encode(line)]), count: 1 });
    await until(() => client.undecided === 0, "decision of the change");
    await until(() => client.config.epoch > epoch, "configuration history with the change");
    const next = client.config.history.find((h) => h.epoch === epoch + 1)!;
    if (formatMembers(next.members) !== line) {
      process.stderr.write(`paxos reconfigure: another change was decided first: configuration epoch ${next.epoch} is acceptors ${formatMembers(next.members)}, from instance ${next.from}; yours was not applied\n`);
      return EXIT.rejected;
    }
    process.stdout.write(`configuration epoch ${next.epoch}: acceptors ${line}, in force from instance ${next.from}\n`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ReconfigureRefused) {
      process.stderr.write(`paxos reconfigure: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof TimedOut) {
      process.stderr.write(`paxos reconfigure: no ${e.message} within ${(opts.timeoutMs / 1000).toFixed(0)} s: is a majority of acceptors and a proposer up, with this config (cluster ${c.cluster}, acceptors ${c.acceptors})?\n`);
      return EXIT.rejected;
    }
    throw e;
  } finally {
    n.stop();
  }
}

class TimedOut extends Error {}

function newClient(ctx: RoleContext): Client {
  const c = ctx.config;
  const client = new Client({
    id: RECONFIG_CLIENT,
    acceptors: c.acceptors,
    outstandingMax: 1,
    batchBytesMax: c.batch.bytesMax,
    retransmitMs: c.client.retransmitMs,
    retransmitMinMs: c.client.retransmitMinMs,
    seqBase: 0,
    askConfigEveryMs: 200,
  });
  return client;
}
