/**
 * `paxos report [dir]`: the latency logs of a run (latency-client-N.tsv) as one self-contained
 * HTML file with charts (src/report/files.ts), and a two-line summary on stderr.
 */
import { defineCommand } from "citty";
import { debugArg } from "./errors.ts";
import { writeReport } from "../report/files.ts";
import { renderTextSummary } from "../report/html.ts";
import { LatencyLogError } from "../report/latency-log.ts";

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
