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
