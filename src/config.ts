/**
 * Configuration: one valibot schema, the defaults (a local cluster on loopback), loading from a
 * YAML or JSON file, command-line overrides, and the commented default file `paxos config` prints.
 */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { jsonProblems, yamlProblems } from "./config-syntax.ts";
import { isSystemError, reasonOf } from "./os-errors.ts";
import type { Group } from "./protocol/messages.ts";
import { ACCEPTORS_MAX } from "./protocol/id-limits.ts";
import {
  BATCH_BYTES_MIN,
  BATCH_MARGIN_BYTES,
  batchBytesLimit,
  CLUSTER_ID_MAX,
  DATAGRAM_BYTES_MIN,
  UDP_PAYLOAD_BYTES_MAX,
  VALUE_OVERHEAD_BYTES,
} from "./protocol/wire-budget.ts";

/** An integer in [min, max]; every failure says so in those words ("expected an integer from 1 to 255"). */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return v.pipe(v.number(range), v.integer(range), v.minValue(min, range), v.maxValue(max, range));
};
/** Settings under a key (`network:` and indented keys). */
const settings = <T extends v.ObjectEntries>(entries: T) => v.strictObject(entries, "a mapping of settings");
const path = (what: string) => v.nullable(v.pipe(v.string(`${what} (or null)`), v.minLength(1, what)));
const ipv4 = v.pipe(v.string("an IPv4 address"), v.ipv4("an IPv4 address"));
const multicastAddress = v.pipe(
  ipv4,
  v.check((s) => {
    const first = Number(s.split(".")[0]);
    return first >= 224 && first <= 239;
  }, "a multicast IPv4 address (224.0.0.0 to 239.255.255.255)"),
);
const group = settings({ address: multicastAddress, port: int(1, 65535) });

export const ConfigSchema = settings({
  cluster: int(0, CLUSTER_ID_MAX),
  network: settings({
    interface: ipv4,
    ttl: int(1, 255),
    groups: settings({ clients: group, proposers: group, acceptors: group, learners: group }),
    recvBufferBytes: int(65_536, 1 << 30),
    datagramBytesMax: int(DATAGRAM_BYTES_MIN, UDP_PAYLOAD_BYTES_MAX),
  }),
  acceptors: int(1, ACCEPTORS_MAX),
  batch: settings({ valuesMax: int(1, 1_000_000), bytesMax: int(BATCH_BYTES_MIN, UDP_PAYLOAD_BYTES_MAX) }),
  proposer: settings({
    pipelineWindow: int(1, 100_000),
    pendingValuesMax: int(1, 100_000_000),
    retransmitMs: int(1, 600_000),
    takeoverMs: int(1, 600_000),
  }),
  client: settings({
    outstanding: int(1, 1_000_000),
    retransmitMs: int(1, 600_000),
    retransmitMinMs: int(1, 600_000),
  }),
  acceptor: settings({
    storage: path("a directory path"),
    retainInstances: int(1024, 1_000_000_000),
  }),
  learner: settings({
    catchupMs: int(1, 600_000),
    idleProbeMaxMs: int(1, 600_000),
    flushMs: int(1, 100),
    archive: path("a directory path"),
  }),
  auth: settings({
    key: v.nullable(v.pipe(v.string("a key of at least 16 characters (or null)"), v.minLength(16, "a key of at least 16 characters"))),
    keyFile: path("a file path"),
  }),
  metrics: settings({
    listen: v.nullable(
      v.pipe(
        v.string("host:port (or null)"),
        v.regex(/^[^\s:]+:\d{1,5}$/, "host:port, e.g. 127.0.0.1:9464"),
        // Only when it is host:port at all (valibot goes on after a failed step: one mistake, one line).
        v.check((s) => !/^[^\s:]+:\d{1,5}$/.test(s) || Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, "a port up to 65535"),
      ),
    ),
  }),
  tickMs: int(1, 1000),
  loss: v.pipe(v.number("a number from 0 to 1"), v.minValue(0, "a number from 0 to 1"), v.maxValue(1, "a number from 0 to 1")),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/** 1400 bytes fit a 1500-byte Ethernet MTU without IP fragmentation. */
const DATAGRAM_BYTES_DEFAULT = 1400;

export const DEFAULT_CONFIG: Config = {
  cluster: 1,
  network: {
    interface: "127.0.0.1",
    ttl: 1,
    groups: {
      clients: { address: "239.0.0.1", port: 5000 },
      proposers: { address: "239.0.0.1", port: 6000 },
      acceptors: { address: "239.0.0.1", port: 7000 },
      learners: { address: "239.0.0.1", port: 8000 },
    },
    recvBufferBytes: 4 * 1024 * 1024,
    datagramBytesMax: DATAGRAM_BYTES_DEFAULT,
  },
  acceptors: 3,
  batch: { valuesMax: 1000, bytesMax: batchBytesLimit(DATAGRAM_BYTES_DEFAULT) },
  proposer: { pipelineWindow: 32, pendingValuesMax: 1_000_000, retransmitMs: 100, takeoverMs: 300 },
  client: { outstanding: 1000, retransmitMs: 500, retransmitMinMs: 20 },
  acceptor: { storage: null, retainInstances: 10_000 },
  learner: { catchupMs: 50, idleProbeMaxMs: 1000, flushMs: 50, archive: null },
  auth: { key: null, keyFile: null },
  metrics: { listen: null },
  tickMs: 10,
  loss: 0,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Validates a plain object; throws ConfigError with one line per problem. */
export function validateConfig(input: unknown, source = "config"): Config {
  const result = v.safeParse(ConfigSchema, input);
  if (result.success) {
    const c = result.output;
    const problems: string[] = [];
    if (c.auth.key !== null && c.auth.keyFile !== null) {
      problems.push(`${source}: auth: expected one of auth.key and auth.keyFile, found both`);
    }
    if (c.client.retransmitMinMs > c.client.retransmitMs) {
      problems.push(`${source}: client.retransmitMinMs: expected at most client.retransmitMs (${c.client.retransmitMs}), found ${c.client.retransmitMinMs}`);
    }
    if (c.batch.bytesMax > batchBytesLimit(c.network.datagramBytesMax)) {
      problems.push(
        `${source}: batch.bytesMax: expected at most network.datagramBytesMax - ${BATCH_MARGIN_BYTES} (${batchBytesLimit(c.network.datagramBytesMax)}) so a batch fits one datagram, found ${c.batch.bytesMax}`,
      );
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return c;
  }
  // One line per problem: a value that should hold settings and is not a mapping (an array
  // reports every key it lacks) is one problem.
  throw new ConfigError([...new Set(result.issues.map((issue) => describeIssue(issue, source, input)))]);
}

function describeIssue(issue: v.BaseIssue<unknown>, source: string, input: unknown): string {
  const path = v.getDotPath(issue) ?? "(top level)";
  if (issue.type === "strict_object" && issue.expected === "never") {
    return `${source}: ${path}: unknown key (not a setting; see \`paxos config\`)`;
  }
  if (issue.type === "strict_object" && issue.expected?.startsWith('"')) {
    // A key missing: only where the defaults were not merged in, because the value is no mapping.
    const parent = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    const value = parent.split(".").reduce<unknown>((o, k) => (k === "" || o === null || typeof o !== "object" ? o : (o as Record<string, unknown>)[k]), input);
    return `${source}: ${parent === "" ? "" : `${parent}: `}expected a mapping of settings, found ${foundText(value)}`;
  }
  // Custom messages (the schema's) say what is expected; built-in ones give `expected`.
  const expected = !issue.message.startsWith("Invalid") ? issue.message : issue.expected;
  return `${source}: ${path}: expected ${expected ?? issue.message}, found ${issue.received}`;
}

/** A value found where settings were expected, in words. */
function foundText(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "an array" : `an array of ${value.length}`;
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Reads a YAML (.yaml/.yml) or JSON (.json) file, merged over the defaults, validated. */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`${path}: ${unreadable(e)}`]);
  }
  const yaml = /\.ya?ml$/i.test(path);
  if (!yaml && !/\.json$/i.test(path)) throw new ConfigError([`${path}: expected a .yaml, .yml or .json file`]);
  const language = yaml ? "YAML" : "JSON";
  const found = yaml ? yamlProblems(text) : jsonProblems(text);
  if (found.syntax !== undefined) {
    const s = found.syntax;
    const where = s.line > 0 ? `${path}:${s.line}:${s.col}` : path;
    throw new ConfigError([yaml ? `${where}: not valid YAML (${s.what})${s.line > 0 ? `: \`${s.source}\`` : ""}` : `${where}: not valid JSON: ${s.what}`]);
  }
  if (found.duplicates.length > 0) throw new ConfigError(found.duplicates.map((d) => `${path}:${d.line}:${d.col}: ${d.what}`));
  let parsed: unknown;
  try {
    parsed = yaml ? Bun.YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${path}: not valid ${language}: ${(e as Error).message}`]); // what the scan above did not see
  }
  if (parsed === null || parsed === undefined) parsed = {};
  if (!isPlainObject(parsed)) throw new ConfigError([`${path}: expected a mapping of settings (see \`paxos config\`), found ${foundText(parsed)}`]);
  return validateConfig(mergeDeep(DEFAULT_CONFIG, parsed), path);
}

/** Why a config file cannot be read, in words, with what to do. */
function unreadable(e: unknown): string {
  if (!isSystemError(e)) throw e;
  switch (e.code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory; name the config file in it";
    case "EACCES":
    case "EPERM":
      return `cannot read it: ${reasonOf(e.code)} (this process runs as uid ${process.getuid?.() ?? "?"}); make it readable to that user (chmod, chown)`;
    default:
      return `cannot read it: ${reasonOf(e.code)} (${e.code})`;
  }
}

/** Overlays `over` on `base`: objects merge key by key, anything else replaces. */
export function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, val] of Object.entries(over)) out[k] = k in base ? mergeDeep(base[k], val) : val;
  return out;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

/** The default configuration as a commented YAML file. */
export function defaultConfigYaml(): string {
  const c = DEFAULT_CONFIG;
  const n = c.network;
  const g = (name: Group) => `{ address: ${n.groups[name].address}, port: ${n.groups[name].port} }`;
  return `# paxos configuration. Every key is optional: what you leave out keeps the default shown here.
# Command-line options (--loss, --batch, --outstanding, ...) override this file.

# Datagrams of another cluster id are dropped: run two clusters on one network without crosstalk.
cluster: ${c.cluster}

network:
  # Address of the interface multicast is sent and received on. 127.0.0.1 keeps everything on
  # this host; on lab VMs set the LAN address of each host.
  interface: ${n.interface}
  # Multicast TTL: 1 stays on the local network segment.
  ttl: ${n.ttl}
  # One multicast group per role.
  groups:
    clients: ${g("clients")}
    proposers: ${g("proposers")}
    acceptors: ${g("acceptors")}
    learners: ${g("learners")}
  # Socket receive buffer; small buffers drop datagrams under load (the kernel may cap it).
  recvBufferBytes: ${n.recvBufferBytes}
  # Largest datagram sent. 1400 fits a 1500-byte Ethernet MTU without IP fragmentation; on
  # loopback or jumbo-frame networks up to 65507 gives bigger batches and fewer datagrams, but
  # one lost fragment loses the whole datagram.
  datagramBytesMax: ${n.datagramBytesMax}

# Number of acceptors; a majority (2 of 3, 3 of 5) must be up for progress.
acceptors: ${c.acceptors}

# One Paxos instance decides a batch of values. Batches form while the pipeline is full.
batch:
  valuesMax: ${c.batch.valuesMax}
  # Wire size of one batch; at most network.datagramBytesMax - ${BATCH_MARGIN_BYTES} (the largest message
  # around one batch: a 1B, with a MAC). A value is at most this - ${VALUE_OVERHEAD_BYTES} bytes.
  bytesMax: ${c.batch.bytesMax}

proposer:
  # Instances in flight at once.
  pipelineWindow: ${c.proposer.pipelineWindow}
  # Client values held while waiting; beyond this they are dropped (clients resend).
  pendingValuesMax: ${c.proposer.pendingValuesMax}
  # Resend 1A/2A not answered after this long.
  retransmitMs: ${c.proposer.retransmitMs}
  # A standing-by proposer with waiting values takes over after this long without progress
  # (plus a random backoff of up to the same again).
  takeoverMs: ${c.proposer.takeoverMs}

client:
  # Values submitted and not yet decided, at most (--outstanding).
  outstanding: ${c.client.outstanding}
  # Resend values not acknowledged as decided after a timeout that follows the observed latency
  # (smoothed latency + 4 × its variation, as TCP does), between these two bounds.
  retransmitMs: ${c.client.retransmitMs}
  retransmitMinMs: ${c.client.retransmitMinMs}

acceptor:
  # Directory for a durable acceptor's log (acceptor-<id>.log): its promises and votes are
  # fsync'd before it answers, so it can be restarted with the same id. null: in memory only,
  # and then an acceptor must never be restarted (crash-stop).
  storage: ${c.acceptor.storage ?? "null"}
  # Votes kept below the decided prefix; older ones are dropped so memory stays bounded (a
  # proposer keeps as many decided batches). A learner that falls further behind, or starts
  # after more instances were decided, cannot catch up and says so (exit code 4).
  retainInstances: ${c.acceptor.retainInstances}

learner:
  # Ask for missing instances when a gap has lasted this long.
  catchupMs: ${c.learner.catchupMs}
  # When nothing arrives, probe for missed instances at most this far apart.
  idleProbeMaxMs: ${c.learner.idleProbeMaxMs}
  # Flush delivered values to stdout at least this often (at most 100).
  flushMs: ${c.learner.flushMs}
  # Directory where each learner keeps every instance it delivered (learner-<id>.archive), and
  # from which it serves learners that need instances the acceptors no longer retain. With null
  # on every learner, a learner that starts too late exits 4 instead (acceptor.retainInstances).
  archive: ${c.learner.archive ?? "null"}

# Datagram authentication (HMAC-SHA256, 16-byte tag over the cluster id and the payload).
# Without a key the cluster trusts its network: anyone who can send to the groups can disrupt it.
# Give every process the same key, inline (at least 16 characters) or in a file (its bytes,
# without a trailing newline). Use a new key (or cluster id) when a cluster starts from scratch.
auth:
  key: null
  keyFile: null

# Prometheus metrics at http://<listen>/metrics (e.g. 127.0.0.1:9464), off when null. Several
# processes on one host need one port each: give each its own config, or --metrics-listen.
metrics:
  listen: null

# Protocol timer resolution.
tickMs: ${c.tickMs}

# Drop each received datagram with this probability (testing without root; --loss).
loss: ${c.loss}
`;
}
