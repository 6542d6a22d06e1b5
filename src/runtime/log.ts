import { createConsola, type ConsolaInstance } from "consola";

/** One consola instance per process, tagged with role and id, writing to stderr only. */
export function createLogger(tag: string, debug: boolean): ConsolaInstance {
  return createConsola({
    level: debug ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true },
  }).withTag(tag);
}
