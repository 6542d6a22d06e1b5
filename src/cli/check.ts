import { defineCommand } from "citty";
import { checkAll } from "../check/check.ts";
import { CheckInputError, formatResults, gatherLogs } from "../check/files.ts";
import { debugArg } from "./errors.ts";
import { isDir } from "../paths.ts";

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
    let logs: Awaited<ReturnType<typeof gatherLogs>>;
    try {
      logs = await gatherLogs(paths);
    } catch (e) {
      if (!(e instanceof CheckInputError)) throw e;
      process.stderr.write(`paxos check: ${e.message}\n`); // nothing to check is no evidence: exit 1, as a failed check
      return 1;
    }
    const { proposed, learned } = logs;
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
