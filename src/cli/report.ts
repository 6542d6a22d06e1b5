/**
 * `paxos report [dir]`: the latency logs of a run (latency-client-N.tsv) as one self-contained
 * HTML file with charts, and a two-line summary on stderr. `paxos demo` calls writeReport.
 */
import { readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { debugArg } from "./errors.ts";
import { isDir } from "./fs.ts";
import { renderReport, renderTextSummary } from "../report/html.ts";
import { summarize, type LatencySummary } from "../report/latency.ts";
import { LatencyLogError, parseLatencyLog, type LatencySample } from "../report/latency-log.ts";

export { renderTextSummary };

/** A client's latency log in a run's directory; the number is the client id. */
const LATENCY_FILE = /^latency-client-(\d+)\.tsv$/;

/** The latency logs of `dir`, ordered by client id; throws LatencyLogError when there are none. */
export function latencyLogFiles(dir: string): { client: number; path: string }[] {
  const files = isDir(dir)
    ? readdirSync(dir)
        .map((name) => ({ name, match: LATENCY_FILE.exec(name) }))
        .flatMap(({ name, match }) => (match ? [{ client: Number(match[1]), path: join(dir, name) }] : []))
    : [];
  if (files.length === 0) throw new LatencyLogError(`no latency logs (latency-client-*.tsv) in ${dir}`);
  return files.sort((a, b) => a.client - b.client);
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
  const path = out ?? join(dir, "report.html");
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

export const reportCommand = defineCommand({
  meta: { name: "report", description: "Write a run's latency and throughput charts as one self-contained HTML file" },
  args: {
    dir: { type: "positional", required: false, default: "logs", description: "A run's log directory (with latency-client-N.tsv)", valueHint: "dir" },
    out: { type: "string", description: "The HTML file to write (default: <dir>/report.html)", valueHint: "file" },
    title: { type: "string", description: "Title of the report (default: names the directory)", valueHint: "text" },
    debug: debugArg,
  },
  async run({ args }) {
    try {
      const { path, summary } = await writeReport(args.dir, args.out, args.title);
      // stdout stays empty: the report is the file, the summary is for the person at the terminal.
      process.stderr.write(`${renderTextSummary(summary)}\nreport: ${path}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof LatencyLogError)) throw e;
      process.stderr.write(`paxos report: ${e.message}\n`);
      return 1;
    }
  },
});
