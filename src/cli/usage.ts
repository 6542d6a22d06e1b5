/**
 * `--help` text, from the commands' citty definitions (so it cannot drift from the options they
 * take), laid out for a terminal: at most WIDTH columns, descriptions wrapped under themselves,
 * no trailing spaces, and the options main.ts handles itself (--help, --version) listed too.
 * Styled with ANSI codes; main.ts strips them unless stdout is a terminal that wants colour.
 */
import type { ArgDef, ArgsDef } from "citty";

/** Columns a help line may take. */
export const WIDTH = 100;
/** Descriptions start at most this far in; a longer option goes on a line of its own. */
const LABEL_COLUMNS_MAX = 34;

const style = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const cyan = style("36");
const gray = style("90");
const heading = style("1;4");

export interface UsageSpec {
  /** The command's description (its first line). */
  readonly description: string;
  /** "paxos 0.2.0", "paxos demo". */
  readonly title: string;
  /** The usage forms, one per line: "paxos demo [OPTIONS]". */
  readonly usage: readonly string[];
  readonly args: ArgsDef;
  /** Options handled outside the definitions, listed after them: [label, description]. */
  readonly extra?: readonly (readonly [string, string])[];
  /** Subcommands: [name, description]. */
  readonly commands?: readonly (readonly [string, string])[];
  /** How to get a command's help ("paxos <command> --help"). */
  readonly commandHelp?: string;
}

/**
 * Words of `text` in lines of at most `width` columns (a longer word gets a line of its own); a
 * `quoted command` is one word.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.match(/(?:`[^`]*`|\S)+/g) ?? []) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** Two columns: each label, and its description wrapped at WIDTH under itself. */
function columns(rows: readonly (readonly [string, string])[], style: (s: string) => string): string[] {
  const labelWidth = Math.min(LABEL_COLUMNS_MAX, Math.max(...rows.map(([label]) => label.length)));
  const descColumn = 2 + labelWidth + 2;
  const out: string[] = [];
  for (const [label, description] of rows) {
    const text = wrap(description, WIDTH - descColumn);
    if (label.length > labelWidth) out.push(`  ${style(label)}`);
    else if (text.length > 0) out.push(`  ${style(label)}${" ".repeat(labelWidth - label.length + 2)}${text.shift()}`);
    else out.push(`  ${style(label)}`);
    for (const l of text) out.push(`${" ".repeat(descColumn)}${l}`);
  }
  return out;
}

function optionLabel(name: string, def: ArgDef): string {
  const aliases = [(def as { alias?: string | string[] }).alias ?? []].flat().map((a) => `-${a}, `);
  const negatable = def.type === "boolean" && def.default === true;
  const hint = def.type === "string" ? `=<${def.valueHint ?? name}>` : "";
  return `${aliases.join("")}--${negatable ? "[no-]" : ""}${name}${hint}`;
}

function optionDescription(def: ArgDef): string {
  const shown = def.type === "string" && def.default !== undefined && def.default !== "";
  return `${def.description ?? ""}${shown ? ` (default: ${def.default})` : ""}`;
}

export function renderUsage(spec: UsageSpec): string {
  const lines: string[] = [];
  for (const l of wrap(`${spec.description} (${spec.title})`, WIDTH)) lines.push(gray(l));
  lines.push("");
  spec.usage.forEach((u, i) => lines.push(`${i === 0 ? `${heading("USAGE")} ` : "      "}${cyan(u)}`));
  const entries = Object.entries(spec.args);
  const positionals = entries.filter(([, d]) => d.type === "positional");
  if (positionals.length > 0) {
    lines.push("", heading("ARGUMENTS"), "");
    lines.push(...columns(positionals.map(([name, d]) => [name.toUpperCase(), optionDescription({ ...d, type: "string" } as ArgDef)] as const), cyan));
  }
  const options = entries.filter(([, d]) => d.type !== "positional").map(([name, d]) => [optionLabel(name, d), optionDescription(d)] as const);
  lines.push("", heading("OPTIONS"), "");
  lines.push(...columns([...options, ...(spec.extra ?? [])], cyan));
  if (spec.commands !== undefined && spec.commands.length > 0) {
    lines.push("", heading("COMMANDS"), "");
    lines.push(...columns(spec.commands, cyan));
    if (spec.commandHelp !== undefined) lines.push("", `Use ${cyan(spec.commandHelp)} for more information about a command.`);
  }
  return lines.map((l) => l.trimEnd()).join("\n");
}
