import { createConsola, type ConsolaInstance, type LogObject } from "consola";

export type LogFormat = "text" | "json";

/**
 * One consola instance per process, tagged with role and id, writing to stderr only. The json
 * format writes one object per line ({time, level, tag, msg}) for journald and log shippers.
 */
export function createLogger(tag: string, debug: boolean, format: LogFormat = "text"): ConsolaInstance {
  const base = {
    level: debug ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true },
  };
  if (format === "text") return createConsola(base).withTag(tag);
  const json = {
    log(o: LogObject): void {
      const msg = o.args.map((a) => (typeof a === "string" ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(" ");
      process.stderr.write(jsonLogLine(o.type, o.tag || tag, msg, {}, o.date));
    },
  };
  return createConsola({ ...base, reporters: [json] }).withTag(tag);
}

/** One json log line: {time, level, tag, msg}, and any extra fields (a stack). */
export function jsonLogLine(level: string, tag: string, msg: string, extra: Record<string, string> = {}, date = new Date()): string {
  return `${JSON.stringify({ time: date.toISOString(), level, tag, msg, ...extra })}\n`;
}

/** How a command's own failure line starts (src/cli/failure.ts writes it). */
export const FAILURE_PREFIX = "paxos: ";

/**
 * The line that says why a process ended, from its log (stderr): our own failure line, an error
 * or fatal log line (text or json), or else the first line of a runtime's error report.
 * Undefined when the log says nothing of the kind.
 */
export function failureLineOf(log: string): string | undefined {
  const lines = log.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  for (const l of lines) {
    if (l.startsWith("{")) {
      try {
        const o = JSON.parse(l) as { level?: unknown; msg?: unknown };
        if ((o.level === "fatal" || o.level === "error") && typeof o.msg === "string") return o.msg;
      } catch {
        // not a json log line
      }
      continue;
    }
    if (l.startsWith(FAILURE_PREFIX)) return l.slice(FAILURE_PREFIX.length);
    const tagged = /^\[[^\]]+\]\s+(?:ERROR|FATAL)\s+(.*)$/.exec(l);
    if (tagged) return tagged[1];
  }
  // A crash report of the runtime: "error: …", "TypeError: …", "EACCES: …"; skip the source it quotes.
  return lines.find((l) => /^(error|[A-Za-z]*Error|E[A-Z]+):\s/.test(l));
}

/**
 * A process's last word when it cannot go on: one `paxos: …` line (as the CLI's own failures), or
 * a `"level":"fatal"` object under the json format. Scripts and supervisors look for this line.
 */
export function fatalLine(tag: string, format: LogFormat, message: string): string {
  return format === "json" ? jsonLogLine("fatal", tag, message) : `${FAILURE_PREFIX}${message}\n`;
}
