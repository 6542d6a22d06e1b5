/**
 * The inputs of the checks: a run's log directory (what the clients proposed, what the learners
 * delivered) or files named one by one; and the checks' results as text.
 */
import { basename } from "node:path";
import { isDir, isFile } from "../paths.ts";
import { RunDir } from "../run-dir.ts";
import { splitLines, type CheckResult, type NamedLines } from "./check.ts";

/** The files to check are missing or not what they should be (the CLI reports it as a usage error). */
export class CheckInputError extends Error {}

async function read(path: string): Promise<NamedLines> {
  return { name: basename(path), lines: splitLines(await Bun.file(path).text()) };
}

/** Files of a log directory, or the given files: `values*`/`*client*` are proposed, the rest learned. */
export async function gatherLogs(paths: string[]): Promise<{ proposed: NamedLines[]; learned: NamedLines[] }> {
  if (paths.length === 0) {
    if (!isDir("logs")) throw new CheckInputError("no logs/ directory here: run scripts/run.sh (or paxos demo) first, or name the files to check");
    paths = ["logs"];
  }
  if (paths.length === 1 && isDir(paths[0]!)) {
    const dir = paths[0]!;
    // A run's directory: what the clients proposed and what the learners delivered.
    const run = new RunDir(dir);
    const proposed = run.list("proposed").map((f) => f.path);
    const learned = run.list("learned").map((f) => f.path);
    if (proposed.length === 0) throw new CheckInputError(`no proposed values (values-client-N.txt) in ${dir}; run scripts/run.sh first`);
    return { proposed: await Promise.all(proposed.map(read)), learned: await Promise.all(learned.map(read)) };
  }
  for (const p of paths) if (!isFile(p)) throw new CheckInputError(`${p}: no such file`);
  const isProposed = (p: string) => /^values|client/.test(basename(p));
  const proposed = paths.filter(isProposed);
  if (proposed.length === 0) throw new CheckInputError("no proposed-values file among the arguments (name it values-… or …client…)");
  return {
    proposed: await Promise.all(proposed.map(read)),
    learned: await Promise.all(paths.filter((p) => !isProposed(p)).map(read)),
  };
}

export function formatResults(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.property.padEnd(12)} ${r.ok ? "OK    " : "FAILED"}  ${r.detail}`).join("\n");
}

