/**
 * Command-line arguments: their types, derived from each command's citty definitions, and the
 * parsers of numeric options, so that every command words a bad value the same way.
 */
import type { ArgsDef, ParsedArgs } from "citty";
import { UsageError } from "./errors.ts";

/**
 * The options of a command as citty parses them: one key per definition, typed by it (a string
 * option without a default may be undefined). Without ParsedArgs' catch-all index signature, so
 * a misspelt option name is a type error.
 */
export type ArgsOf<T extends ArgsDef> = { [K in keyof T]: ParsedArgs<T>[K] };

/** `--name`'s integer value from min to max; undefined when the option was not given. */
export function intArg(name: string, raw: string, min: number, max: number): number;
export function intArg(name: string, raw: string | undefined, min: number, max: number): number | undefined;
export function intArg(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, found '${raw}'`);
  }
  return n;
}

/** `--name`'s numeric value from min to max; undefined when the option was not given. */
export function numberArg(name: string, raw: string, min: number, max: number): number;
export function numberArg(name: string, raw: string | undefined, min: number, max: number): number | undefined;
export function numberArg(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !(n >= min && n <= max)) {
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, found '${raw}'`);
  }
  return n;
}
