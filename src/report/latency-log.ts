/**
 * The latency logs' format, written by clients and learners (`--latency-log FILE`) and read by
 * `paxos report`, the demo and the benchmarks. This module is the one place that knows it.
 *
 * Client log (latency-client-N.tsv): a `# client W` line naming the client number on the wire
 * (which learners' logs use), the column header, then one line per run of values known decided
 * together (seqs seq .. seq + count − 1, submitted together):
 *   seq <TAB> count <TAB> submit unix ms <TAB> latency ms (submit until the client knew them decided)
 * Learner log (latency-learner-N.tsv): the column header, then one line per run delivered:
 *   client number <TAB> seq <TAB> count <TAB> delivered unix ms
 * Logs of paxos 0.2 have no count column (one value per line); they are read too.
 * Times have 3 decimals at most. Both processes read the same wall clock, so on one machine the
 * learner's delivery time minus the client's submit time is the submit-to-delivery latency.
 */

/** One decided value as its client saw it. */
export interface LatencySample {
  client: number;
  seq: number;
  /** When the client submitted the value (unix epoch ms). */
  submitUnixMs: number;
  /** From submission until the client saw the value decided. */
  latencyMs: number;
}

/** A latency log line that does not parse, or no logs at all; the message names file and line. */
export class LatencyLogError extends Error {}

export const LATENCY_LOG_HEADER = "# seq\tcount\tsubmit_unix_ms\tlatency_ms";
export const DELIVERY_LOG_HEADER = "# client\tseq\tcount\tdelivered_unix_ms";

/** Milliseconds to 3 decimals (toFixed's cost per value shows in a log of every value). */
export const msText = (ms: number): string => String(Math.round(ms * 1000) / 1000);

/** The first lines of a client's log. */
export const clientLogHead = (clientNumber: number): string => `# client ${clientNumber}\n${LATENCY_LOG_HEADER}\n`;


/** One client log line: `count` values from `seq` on. */
export const clientLogLine = (seq: number, count: number, submitUnixMs: number, latencyMs: number): string =>
  `${seq}\t${count}\t${msText(submitUnixMs)}\t${msText(latencyMs)}\n`;

/** The first line of a learner's log. */
export const learnerLogHead = (): string => `${DELIVERY_LOG_HEADER}\n`;

/** One learner log line: `count` values from `seq` on; `at` is already formatted (one per step: see msText). */
export const learnerLogLine = (clientNumber: number, seq: number, count: number, at: string): string => `${clientNumber}\t${seq}\t${count}\t${at}\n`;

// Strict on purpose: Number("") is 0 and Number(" 1 ") is 1, which would hide a truncated line.
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const SEQ = /^\d+$/;

/** Parses one client's latency log, a sample per value; `#` lines and blank lines are skipped, anything else malformed throws. */
export function parseLatencyLog(text: string, client: number, fileName: string): LatencySample[] {
  const samples: LatencySample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) continue;
    const { seq, count, submitUnixMs, latencyMs } = parseLine(line, `${fileName} line ${i + 1}`);
    for (let k = 0; k < count; k++) samples.push({ client, seq: seq + k, submitUnixMs, latencyMs });
  }
  return samples;
}

function parseLine(line: string, where: string): { seq: number; count: number; submitUnixMs: number; latencyMs: number } {
  const fields = line.split("\t");
  const [seq, count, submit, latency] = fields.length === 3 ? [fields[0], "1", fields[1], fields[2]] : fields;
  if ((fields.length !== 3 && fields.length !== 4) || !SEQ.test(seq!) || !SEQ.test(count!) || !DECIMAL.test(submit!) || !DECIMAL.test(latency!)) {
    throw new LatencyLogError(`${where}: expected "seq<TAB>count<TAB>submit_unix_ms<TAB>latency_ms", found ${JSON.stringify(line)}`);
  }
  const sample = { seq: Number(seq), count: Number(count), submitUnixMs: Number(submit), latencyMs: Number(latency) };
  if (!Number.isSafeInteger(sample.seq) || !Number.isSafeInteger(sample.seq + sample.count) || sample.count < 1 || !Number.isFinite(sample.submitUnixMs) || !Number.isFinite(sample.latencyMs)) {
    throw new LatencyLogError(`${where}: number out of range in ${JSON.stringify(line)}`);
  }
  // The client measures with a monotonic clock, so a negative latency means a corrupt file.
  if (sample.latencyMs < 0) throw new LatencyLogError(`${where}: negative latency in ${JSON.stringify(line)}`);
  return sample;
}

/**
 * The latency of one client log line and how many values it stands for, cheaply (the live page
 * reads every line as it is written), or undefined for a header or a line that is not one: the
 * strict reader is parseLatencyLog.
 */
export function latencyOfLine(line: string): { ms: number; count: number } | undefined {
  if (line.startsWith("#")) return undefined;
  const fields = line.split("\t");
  if (fields.length !== 3 && fields.length !== 4) return undefined;
  const ms = Number(fields[fields.length - 1]);
  const count = fields.length === 4 ? Number(fields[1]) : 1;
  return Number.isFinite(ms) && ms >= 0 && Number.isSafeInteger(count) && count >= 1 ? { ms, count } : undefined;
}

/** Values a client log says were decided (the counts of its lines; lines that do not parse are left out). */
export function decidedInClientLog(text: string): number {
  let n = 0;
  for (const line of text.split("\n")) n += latencyOfLine(line)?.count ?? 0;
  return n;
}

/** The client number on the wire a client log names in its `# client W` line (older logs: none). */
export function clientNumberOf(text: string): number | undefined {
  const w = /^# client (\d+)$/m.exec(text)?.[1];
  return w === undefined ? undefined : Number(w);
}

/** A learner's deliveries: client number, seq and delivery time (unix ms) per value; malformed lines throw. */
export function parseDeliveryLog(text: string, fileName: string): { client: number; seq: number; deliveredUnixMs: number }[] {
  const out: { client: number; seq: number; deliveredUnixMs: number }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = line.split("\t");
    const [client, seq, count, at] = fields.length === 3 ? [fields[0], fields[1], "1", fields[2]] : fields;
    if ((fields.length !== 3 && fields.length !== 4) || !SEQ.test(client ?? "") || !SEQ.test(seq ?? "") || !SEQ.test(count ?? "") || !DECIMAL.test(at ?? "")) {
      throw new LatencyLogError(`${fileName} line ${i + 1}: expected "client<TAB>seq<TAB>count<TAB>delivered_unix_ms", found ${JSON.stringify(line)}`);
    }
    for (let k = 0; k < Number(count); k++) out.push({ client: Number(client), seq: Number(seq) + k, deliveredUnixMs: Number(at) });
  }
  return out;
}
