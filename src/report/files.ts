/**
 * A run's latency logs on disk (latency-client-N.tsv in its directory) and the HTML report
 * written from them (`paxos report`, and `paxos demo` at the end of a run).
 */
import { basename, resolve } from "node:path";
import { isDir, isFile } from "../paths.ts";
import { RunDir } from "../run-dir.ts";
import { renderReport } from "./html.ts";
import { summarize, type LatencySummary } from "./latency.ts";
import { LatencyLogError, parseLatencyLog, type LatencySample } from "./latency-log.ts";

/** The latency logs of `dir`, ordered by client id; throws LatencyLogError when there are none. */
export function latencyLogFiles(dir: string): { client: number; path: string }[] {
  if (!isDir(dir)) throw new LatencyLogError(isFile(dir) ? `${dir}: a file, not a run's directory (with latency-client-N.tsv)` : `${dir}: no such directory`);
  const files = new RunDir(dir).list("clientLatency").map((f) => ({ client: f.n, path: f.path }));
  if (files.length === 0) throw new LatencyLogError(`no latency logs (latency-client-*.tsv) in ${dir}`);
  return files;
}

export async function readLatencyLogs(files: readonly { client: number; path: string }[]): Promise<LatencySample[]> {
  const texts = await Promise.all(files.map((f) => Bun.file(f.path).text()));
  return files.flatMap((f, i) => parseLatencyLog(texts[i]!, f.client, f.path));
}

/** A directory as the report names it: ".", "..", "./" say nothing, so they are named by the real directory's name. */
function shownName(dir: string): string {
  return /^(\.\.?\/*)+$/.test(dir) ? basename(resolve(dir)) : dir;
}

/** Reads `dir`'s latency logs and writes the HTML report (default `<dir>/report.html`). */
export async function writeReport(dir: string, out?: string, title?: string): Promise<{ path: string; summary: LatencySummary }> {
  const files = latencyLogFiles(dir);
  const samples = await readLatencyLogs(files);
  const summary = summarize(samples);
  const path = out ?? new RunDir(dir).report;
  const html = renderReport({
    title: title ?? `paxos latency report: ${shownName(dir)}`,
    generatedAt: new Date(),
    summary,
    samples,
    notes: [`${samples.length} decided value(s) from ${files.length} client latency log(s) in ${shownName(dir)}`],
  });
  await Bun.write(path, html);
  return { path, summary };
}

