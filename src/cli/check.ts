import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { defineCommand } from "citty";
import { checkAll, splitLines, type CheckResult, type NamedLines } from "../check/check.ts";
import { debugArg, UsageError } from "./errors.ts";
import { isDir, isFile } from "./fs.ts";

/** In a run's log directory: what the clients proposed and what the learners delivered. */
const PROPOSED_FILE = /^values-client-\d+\.txt$/;
const LEARNED_FILE = /^learner-\d+\.txt$/;

const byNumber = (a: string, b: string): number => Number(a.match(/\d+/)?.[0]) - Number(b.match(/\d+/)?.[0]);

async function read(path: string): Promise<NamedLines> {
  return { name: basename(path), lines: splitLines(await Bun.file(path).text()) };
}

/** Files of a log directory, or the given files: `values*`/`*client*` are proposed, the rest learned. */
export async function gatherLogs(paths: string[]): Promise<{ proposed: NamedLines[]; learned: NamedLines[] }> {
  if (paths.length === 0) {
    if (!isDir("logs")) throw new UsageError("no logs/ directory here: run scripts/run.sh (or paxos demo) first, or name the files to check");
    paths = ["logs"];
  }
  if (paths.length === 1 && isDir(paths[0]!)) {
    const dir = paths[0]!;
    const names = readdirSync(dir).sort(byNumber);
    const proposed = names.filter((n) => PROPOSED_FILE.test(n)).map((n) => join(dir, n));
    const learned = names.filter((n) => LEARNED_FILE.test(n)).map((n) => join(dir, n));
    if (proposed.length === 0) throw new UsageError(`no proposed values (values-client-N.txt) in ${dir}; run scripts/run.sh first`);
    return { proposed: await Promise.all(proposed.map(read)), learned: await Promise.all(learned.map(read)) };
  }
  for (const p of paths) if (!isFile(p)) throw new UsageError(`${p}: no such file`);
  const isProposed = (p: string) => /^values|client/.test(basename(p));
  const proposed = paths.filter(isProposed);
  if (proposed.length === 0) throw new UsageError("no proposed-values file among the arguments (name it values-… or …client…)");
  return {
    proposed: await Promise.all(proposed.map(read)),
    learned: await Promise.all(paths.filter((p) => !isProposed(p)).map(read)),
  };
}

export function formatResults(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.property.padEnd(12)} ${r.ok ? "OK    " : "FAILED"}  ${r.detail}`).join("\n");
}

export const checkCommand = defineCommand({
  meta: {
    name: "check",
    description: "Check total order, integrity and agreement on a run's logs (default: logs/) or on given files",
  },
  args: {
    files: { type: "positional", required: false, description: "A log directory, or proposed-values files (values-…) and learner outputs" },
    debug: debugArg,
  },
  async run({ args }) {
    const paths = args._.map(String);
    const { proposed, learned } = await gatherLogs(paths);
    if (learned.length === 0) {
      // Nothing delivered is trivially in order and agreed: that is no evidence, so it is no OK.
      const dir = paths.length === 0 ? "logs" : paths.length === 1 && isDir(paths[0]!) ? paths[0] : undefined;
      const where = dir === undefined ? " among the files named" : ` in ${dir}`;
      process.stderr.write(`paxos check: no learner output given (learner-N.txt)${where}: nothing to check total order and agreement on; name the learners' outputs too\n`);
      return 1;
    }
    const results = checkAll(proposed, learned);
    process.stdout.write(`${formatResults(results)}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
