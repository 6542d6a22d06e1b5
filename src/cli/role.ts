import { ACCEPTORS_MAX, ACCEPTOR_ID_MIN, ROLE_ID_MAX } from "../protocol/id-limits.ts";
import { DEFAULT_CONFIG, loadConfigFile, mergeDeep, validateConfig, type Config } from "../config.ts";
import { createLogger, type LogFormat } from "../runtime/log.ts";
import { runAcceptor } from "../runtime/roles/acceptor.ts";
import { runClient } from "../runtime/roles/client.ts";
import { ROLES, type RoleName } from "../runtime/role-names.ts";
import { runLearner } from "../runtime/roles/learner.ts";
import { runProposer } from "../runtime/roles/proposer.ts";
import { intArg, numberArg, type ArgsOf } from "./args.ts";
import { UsageError } from "./errors.ts";
import { noteNetworkPlace } from "./failure.ts";

export const roleArgs = {
  role: { type: "string", description: `Role of this process: ${ROLES.join(", ")}`, valueHint: "role" },
  id: { type: "string", description: `Id of this process within its role (0-${ROLE_ID_MAX}; acceptors from ${ACCEPTOR_ID_MIN})`, valueHint: "n" },
  config: { type: "string", description: "Config file (.yaml, .yml or .json); see `paxos config`", valueHint: "file" },
  debug: { type: "boolean", description: "Debug logging (to stderr)", default: false },
  "log-format": { type: "string", description: "Logs as text (default) or json (one object per line)", valueHint: "text|json" },
  loss: { type: "string", description: "Drop each received datagram with probability P (testing)", valueHint: "P" },
  seed: { type: "string", description: "Seed of the injected loss (default: random)", valueHint: "n" },
  batch: { type: "string", description: "Proposer: maximum values per instance (batch.valuesMax)", valueHint: "n" },
  outstanding: { type: "string", description: "Client: maximum undecided values in flight (client.outstanding)", valueHint: "n" },
  count: { type: "string", description: "Learner: exit 0 after delivering N values", valueHint: "n" },
  output: { type: "string", description: "Learner: append delivered values to FILE (fsync'd) and resume after them when restarted", valueHint: "file" },
  storage: { type: "string", description: "Acceptor: directory of its durable log (acceptor.storage)", valueHint: "dir" },
  init: { type: "boolean", description: "Acceptor: first start: create its durable log (refused if one exists)", default: false },
  join: { type: "boolean", description: "Acceptor: a new acceptor id (above acceptors: N) that joins empty and votes once `paxos reconfigure` names it", default: false },
  "metrics-listen": { type: "string", description: "Serve Prometheus metrics at host:port/metrics (metrics.listen)", valueHint: "host:port" },
  "latency-log": { type: "string", description: "Client: write per-value latencies (TSV) to this file; learner: when each value was delivered", valueHint: "file" },
  status: { type: "string", description: "Keep this process's state (role, leader, round, progress, counters) as JSON in FILE, rewritten atomically", valueHint: "file" },
  control: { type: "string", description: "Apply the settings in FILE while running, re-read when it changes: {\"loss\": P}", valueHint: "file" },
} as const;

type RoleArgs = ArgsOf<typeof roleArgs>;

/** Options that only some roles take; the others refuse them rather than ignore them. */
const ROLE_OPTIONS: Partial<Record<keyof RoleArgs, readonly RoleName[]>> = {
  batch: ["proposer"],
  outstanding: ["client"],
  count: ["learner"],
  output: ["learner"],
  storage: ["acceptor"],
  init: ["acceptor"],
  join: ["acceptor"],
  "latency-log": ["client", "learner"],
};

function checkRoleOptions(args: RoleArgs, role: RoleName): void {
  for (const [option, roles] of Object.entries(ROLE_OPTIONS) as [keyof RoleArgs, readonly RoleName[]][]) {
    if (args[option] === undefined || args[option] === false || roles.includes(role)) continue; // false: a flag not given
    throw new UsageError(`--${option} is for ${roles.map((r) => `${r}s`).join(" and ")} only; ${role === "acceptor" ? "an" : "a"} ${role} does not take it`);
  }
}

/** The config file (or defaults) with command-line overrides, validated. */
async function resolveConfig(args: RoleArgs): Promise<Config> {
  const base = args.config ? await loadConfigFile(args.config) : DEFAULT_CONFIG;
  const over: Record<string, unknown> = {};
  const loss = numberArg("loss", args.loss, 0, 1);
  if (loss !== undefined) over.loss = loss;
  const batch = intArg("batch", args.batch, 1, 1_000_000);
  if (batch !== undefined) over.batch = { valuesMax: batch };
  const outstanding = intArg("outstanding", args.outstanding, 1, 1_000_000);
  if (outstanding !== undefined) over.client = { outstanding };
  if (args.storage !== undefined) over.acceptor = { storage: args.storage };
  if (args["metrics-listen"] !== undefined) over.metrics = { listen: args["metrics-listen"] };
  return validateConfig(mergeDeep(base, over), "command line");
}

export async function runRole(args: RoleArgs): Promise<number> {
  if (args.role === undefined) throw new UsageError("missing --role (or a command); see `paxos --help`");
  if (!ROLES.includes(args.role as RoleName)) {
    throw new UsageError(`--role: expected one of ${ROLES.join(", ")}, found '${args.role}'`);
  }
  const role = args.role as RoleName;
  const id = intArg("id", args.id, 0, ROLE_ID_MAX);
  if (id === undefined) throw new UsageError("missing --id");
  // Acceptor 0 would be taken for "every acceptor" in a 1A (see Phase1A.acc).
  if (role === "acceptor" && id < ACCEPTOR_ID_MIN) throw new UsageError(`--id: acceptor ids start at ${ACCEPTOR_ID_MIN}`);
  checkRoleOptions(args, role);
  const config = await resolveConfig(args);
  // An id above the initial set is a new acceptor: it says so (--join), or restarts from the
  // durable log it made then.
  if (role === "acceptor" && id > config.acceptors && args.join !== true && config.acceptor.storage === null) {
    throw new UsageError(`--id: acceptor ids are 1 to ${config.acceptors} (acceptors: ${config.acceptors} in the config), found ${id}; a new acceptor joins with --join (then \`paxos reconfigure\` names it)`);
  }
  if (role === "acceptor" && id > ACCEPTORS_MAX) throw new UsageError(`--id: acceptor ids are 1 to ${ACCEPTORS_MAX}, found ${id}`);
  if (args.join === true && args.init === true) throw new UsageError("--join and --init: --join creates a new acceptor's log by itself; give one of them");
  const seed = intArg("seed", args.seed, 0, 2 ** 32 - 1) ?? ((Date.now() ^ (process.pid << 8)) >>> 0);
  const count = intArg("count", args.count, 0, Number.MAX_SAFE_INTEGER);
  const rawFormat = args["log-format"] ?? "text";
  if (rawFormat !== "text" && rawFormat !== "json") throw new UsageError(`--log-format: expected text or json, found '${rawFormat}'`);
  const format: LogFormat = rawFormat;
  const log = createLogger(`${role}-${id}`, args.debug === true, format);
  noteNetworkPlace(config, `${role}s`);
  const ctx = {
    config,
    id,
    log,
    seed,
    ...(count !== undefined ? { count } : {}),
    ...(args["latency-log"] !== undefined ? { latencyLog: args["latency-log"] } : {}),
    ...(args.init === true ? { init: true } : {}),
    ...(args.join === true ? { join: true } : {}),
    ...(args.output !== undefined ? { output: args.output } : {}),
    ...(args.status !== undefined ? { status: args.status } : {}),
    logFormat: format,
    tag: `${role}-${id}`,
    ...(args.control !== undefined ? { control: args.control } : {}),
  };
  switch (role) {
    case "client":
      return runClient(ctx);
    case "learner":
      return runLearner(ctx);
    case "proposer":
      return runProposer(ctx);
    case "acceptor":
      return runAcceptor(ctx);
  }
}
