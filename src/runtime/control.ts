/**
 * Settings a supervisor changes while a process runs (`--control FILE`; the demo's page sets the
 * injected loss per process with it). The file is one JSON object, `{"loss": 0.1}`, written
 * atomically by `writeControl`; the process looks at it every CONTROL_EVERY_MS (a stat, and a read
 * only when it changed) and applies what it says. A missing file changes nothing; a malformed one
 * is said once and ignored. This module is the one place that knows the format.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";

export const CONTROL_EVERY_MS = 200;

export interface Control {
  /** Drop each received datagram with this probability, from now on. */
  readonly loss?: number;
}

/** Parses a control file's text; throws with a sentence when it is not one. */
export function parseControl(text: string): Control {
  const c = JSON.parse(text) as unknown;
  if (typeof c !== "object" || c === null || Array.isArray(c)) throw new Error("expected a JSON object such as {\"loss\": 0.1}");
  const unknown = Object.keys(c).filter((k) => k !== "loss");
  if (unknown.length > 0) throw new Error(`unknown setting ${unknown.map((k) => JSON.stringify(k)).join(", ")}: the control file takes {"loss": P}`);
  const loss = (c as { loss?: unknown }).loss;
  if (loss === undefined) return {};
  if (typeof loss !== "number" || !(loss >= 0 && loss <= 1)) throw new Error(`loss: expected a probability from 0 to 1, found ${JSON.stringify(loss)}`);
  return { loss };
}

/** Writes a control file atomically (temporary file, then rename): a process never reads half of it. */
export function writeControl(path: string, control: Control): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(control)}\n`);
  renameSync(tmp, path);
}

/**
 * Applies the control file now and whenever it changes; returns a stop function. Without a path
 * it does nothing (the option was not given).
 */
export function watchControl(path: string | undefined, apply: (c: Control) => void, warn: (message: string) => void): () => void {
  if (path === undefined) return () => {};
  let seen = "";
  const look = (): void => {
    let stamp: string;
    try {
      const st = statSync(path);
      stamp = `${st.mtimeMs}/${st.size}/${st.ino}`;
    } catch {
      return; // not written yet: nothing to change
    }
    if (stamp === seen) return;
    seen = stamp;
    try {
      apply(parseControl(readFileSync(path, "utf8")));
    } catch (e) {
      warn(`control file ${path}: ${(e as Error).message}; ignored until it changes`);
    }
  };
  look();
  const timer = setInterval(look, CONTROL_EVERY_MS);
  return () => clearInterval(timer);
}
