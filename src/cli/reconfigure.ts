/**
 * `paxos reconfigure --acceptors 1,2,4 [--config FILE]`: replaces the acceptor set through the
 * log (src/runtime/roles/reconfigure.ts); prints the epoch and the instance the change governs
 * from. OPERATIONS.md's runbooks ("Replacing a failed acceptor", "Growing to 5 acceptors") use it.
 */
import { defineCommand } from "citty";
import { DEFAULT_CONFIG, loadConfigFile, validateConfig } from "../config.ts";
import { createLogger } from "../runtime/log.ts";
import { checkMembers, ReconfigureRefused, runReconfigure } from "../runtime/roles/reconfigure.ts";
import { numberArg } from "./args.ts";
import { debugArg, UsageError } from "./errors.ts";
import { noteNetworkPlace } from "./failure.ts";

export const reconfigureCommand = defineCommand({
  meta: { name: "reconfigure", description: "Replace the set of acceptors (a change decided through the log; one at a time)" },
  args: {
    acceptors: { type: "string", description: "The new set of acceptor ids, comma-separated: 1,2,4", valueHint: "ids" },
    config: { type: "string", description: "The cluster's config file (.yaml, .yml or .json)", valueHint: "file" },
    timeout: { type: "string", description: "Give up after S seconds (default 30)", valueHint: "S" },
    debug: debugArg,
  },
  async run({ args }) {
    if (args.acceptors === undefined) throw new UsageError("missing --acceptors (the new set, e.g. --acceptors 1,2,4)");
    const text = args.acceptors.replace(/\s+/g, "");
    if (text !== "" && !/^\d+(,\d+)*$/.test(text)) throw new UsageError(`--acceptors: expected acceptor ids separated by commas (1,2,4), found '${args.acceptors}'`);
    const members = text === "" ? [] : text.split(",").map(Number);
    try {
      checkMembers(members);
    } catch (e) {
      if (e instanceof ReconfigureRefused) throw new UsageError(e.message);
      throw e;
    }
    const timeoutS = numberArg("timeout", args.timeout, 1, 86_400) ?? 30;
    const config = validateConfig(args.config ? await loadConfigFile(args.config) : DEFAULT_CONFIG, args.config ?? "defaults");
    noteNetworkPlace(config, "clients");
    const log = createLogger("reconfigure", args.debug === true, "text");
    return runReconfigure({ config, id: 0, log, seed: (Date.now() ^ (process.pid << 8)) >>> 0, tag: "reconfigure" }, { members, timeoutMs: timeoutS * 1000 });
  },
});
