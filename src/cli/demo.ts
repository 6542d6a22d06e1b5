/**
 * `paxos demo`: a whole local cluster of real processes of this binary, live progress, then the
 * checks and a latency report (the run itself: src/cluster/demo-run.ts). scripts/run.sh is this
 * command with the specification's defaults.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { defineCommand } from "citty";
import { DemoRun, type DemoOptions } from "../cluster/demo-run.ts";
import { EXIT } from "../exit-codes.ts";
import { ACCEPTORS_MAX, ROLE_ID_MAX } from "../protocol/id-limits.ts";
import { intArg, numberArg, type ArgsOf } from "./args.ts";
import { isSystemError, reasonOf } from "../os-errors.ts";
import { UiServer } from "../ui/server.ts";
import { UsageError } from "./errors.ts";

export const demoArgs = {
  num: { type: "string", alias: "n", description: "Values per client", default: "1000", valueHint: "n" },
  batch: { type: "string", alias: "b", description: "Proposer batch size: values per instance (default: config)", valueHint: "n" },
  clients: { type: "string", alias: "c", description: "Number of clients", default: "2", valueHint: "n" },
  proposers: { type: "string", alias: "p", description: "Number of proposers", default: "2", valueHint: "n" },
  acceptors: { type: "string", alias: "a", description: "Number of acceptors", default: "3", valueHint: "n" },
  learners: { type: "string", alias: "l", description: "Number of learners (0: latencies only)", default: "2", valueHint: "n" },
  loss: { type: "string", description: "Drop each received datagram with this probability", default: "0", valueHint: "rate" },
  catchup: { type: "boolean", description: "Start one learner only after all values are decided", default: false },
  sleep: { type: "string", alias: "s", description: "Seconds between phases (at most, while processes come up)", default: "2", valueHint: "sec" },
  ip: { type: "string", description: "Multicast address for all four groups (default: the config's)", valueHint: "address" },
  debug: { type: "boolean", alias: "d", description: "Debug logging in every process's log", default: false },
  config: { type: "string", description: "Base config file for every process", valueHint: "file" },
  logs: { type: "string", description: "Directory for logs, outputs and the report", default: "logs", valueHint: "dir" },
  timeout: { type: "string", description: "Give up after this many seconds without progress", default: "30", valueHint: "sec" },
  check: { type: "boolean", description: "Run the checks at the end (--no-check to skip)", default: true },
  report: { type: "boolean", description: "Write the HTML latency report at the end (--no-report to skip)", default: true },
  ui: { type: "boolean", description: "Keep the cluster running and serve a live page on 127.0.0.1 to watch and break it (Ctrl-C stops)", default: false },
  "ui-port": { type: "string", description: "With --ui: the page's port (default: a free one; the URL is printed)", valueHint: "port" },
} as const;

export function parseDemoArgs(args: ArgsOf<typeof demoArgs>): DemoOptions {
  const topology = {
    num: intArg("num", args.num, 0, 100_000_000),
    clients: intArg("clients", args.clients, 1, ROLE_ID_MAX),
    proposers: intArg("proposers", args.proposers, 1, ROLE_ID_MAX),
    acceptors: intArg("acceptors", args.acceptors, 1, ACCEPTORS_MAX),
    learners: intArg("learners", args.learners, 0, ROLE_ID_MAX),
  };
  const loss = numberArg("loss", args.loss, 0, 0.99);
  const catchup = args.catchup === true;
  const sleepS = numberArg("sleep", args.sleep, 0, 3600);
  const timeoutS = numberArg("timeout", args.timeout, 1, 86_400);
  const settings = {
    loss,
    ...(args.batch !== undefined ? { batch: intArg("batch", args.batch, 1, 1_000_000) } : {}),
    ...(args.ip !== undefined ? { ip: String(args.ip) } : {}),
    ...(args.config !== undefined ? { config: String(args.config) } : {}),
  };
  if (catchup && topology.learners === 0) throw new UsageError("--catchup needs at least one learner");
  const end = { check: args.check !== false, report: args.report !== false };
  return { logs: String(args.logs), topology, settings, launch: { debug: args.debug === true }, catchup, sleepS, timeoutS, ...end };
}

/** --logs names a directory this run can use (created when missing). */
function checkLogsDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--logs ${dir}: is a file, not a directory; name a directory (it is created when missing)`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if (!isSystemError(e)) throw e;
    throw new UsageError(`--logs ${dir}: cannot create the directory: ${reasonOf(e.code)}`);
  }
}

export const demoCommand = defineCommand({
  meta: { name: "demo", description: "Run a local cluster of real processes, show progress, check the results and write a report" },
  args: demoArgs,
  async run({ args }) {
    const options = parseDemoArgs(args);
    checkLogsDir(options.logs);
    const uiPort = args["ui-port"] === undefined ? 0 : intArg("ui-port", args["ui-port"], 0, 65_535);
    if (args["ui-port"] !== undefined && args.ui !== true) throw new UsageError("--ui-port is for --ui only");
    const ui = args.ui === true ? new UiServer({ port: uiPort, log: (line) => process.stderr.write(`${line}\n`) }) : undefined;
    const run = new DemoRun(options);
    let stopping = false;
    const stop = () => {
      // A live page ends the run on the first Ctrl-C: every process is stopped and waited for.
      if (ui?.serving) return ui.stop();
      if (stopping) return;
      stopping = true;
      void run.interrupt().then((n) => {
        process.stderr.write(`\npaxos demo: interrupted: stopped its ${n} running processes; nothing was checked (logs in ${options.logs}/)\n`);
        process.exit(EXIT.interrupted);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (ui === undefined) return run.run();
    const code = await ui.serve(await run.startLive());
    await run.stop();
    return code;
  },
});
