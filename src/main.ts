#!/usr/bin/env bun
/**
 * Entry point: `paxos --role <role> --id <n> [options]` runs one process; `paxos <command>` runs
 * a tool. This file only wires commands; each lives in src/cli/.
 */
import { defineCommand, runCommand, type ArgsDef, type CommandDef, type CommandMeta } from "citty";
import { checkCommand } from "./cli/check.ts";
import { configCommand } from "./cli/config.ts";
import { demoCommand } from "./cli/demo.ts";
import { UsageError } from "./cli/errors.ts";
import { reportFailure } from "./cli/failure.ts";
import { reconfigureCommand } from "./cli/reconfigure.ts";
import { reportCommand } from "./cli/report.ts";
import { roleArgs, runRole } from "./cli/role.ts";
import { renderUsage } from "./cli/usage.ts";
import { VERSION, VERSION_LINE } from "./version.ts";

const subCommands = {
  demo: demoCommand,
  check: checkCommand,
  report: reportCommand,
  config: configCommand,
  reconfigure: reconfigureCommand,
};

/** What `paxos --help` shows: the options of a role process, and the commands. */
const main = defineCommand({
  meta: {
    name: "paxos",
    version: VERSION,
    description: "Multi-Paxos atomic broadcast over UDP IP multicast. Run one process per role: `paxos --role learner --id 1`",
  },
  args: roleArgs,
  subCommands,
});

/**
 * A command as this file handles it. Each keeps its own argument types inside these closures:
 * citty's CommandDef<T> takes T in and out, so no one type holds every command but `any`.
 */
interface Command {
  readonly name: string;
  readonly defs: ArgsDef;
  /** Positional arguments it takes at most (citty would ignore the others silently). */
  readonly positionalMax: number;
  usage(): Promise<string>;
  run(rawArgs: string[]): Promise<unknown>;
}

/** What every command's help lists beside its own options (main.ts handles it). */
const HELP: readonly [string, string] = ["-h, --help", "Show this help"];

function command<T extends ArgsDef>(name: string, cmd: CommandDef<T>, positionalMax?: number): Command {
  const defs: ArgsDef = (cmd.args ?? {}) as T; // every command here defines its options as a plain object
  const meta = (cmd.meta ?? {}) as CommandMeta; // a plain object too
  const positionals = Object.entries(defs).filter(([, d]) => d.type === "positional").map(([n]) => ` [${n.toUpperCase()}]`);
  return {
    name,
    defs,
    positionalMax: positionalMax ?? positionals.length,
    usage: async () =>
      renderUsage({ description: meta.description ?? "", title: `${name} v${VERSION}`, usage: [`${name} [OPTIONS]${positionals.join("")}`], args: defs, extra: [HELP] }),
    run: async (rawArgs) => (await runCommand(cmd, { rawArgs })).result,
  };
}

const commands: { readonly [K in keyof typeof subCommands]: Command } = {
  demo: command("paxos demo", demoCommand),
  check: command("paxos check", checkCommand, Infinity), // any number of files
  report: command("paxos report", reportCommand),
  config: command("paxos config", configCommand),
  reconfigure: command("paxos reconfigure", reconfigureCommand),
};

/** One process of the cluster: `paxos --role … --id …`; its help lists the commands too. */
const roleProcess: Command = {
  ...command("paxos", defineCommand({ args: roleArgs, run: ({ args }) => runRole(args) })),
  usage: async () =>
    renderUsage({
      description: (main.meta as CommandMeta).description ?? "",
      title: `paxos v${VERSION}`,
      usage: ["paxos --role <client|proposer|acceptor|learner> --id <n> [OPTIONS]", `paxos <${Object.keys(subCommands).join("|")}> [--help]`],
      args: roleArgs,
      extra: [HELP, ["-v, --version", "Print the version, the commit it was built from and when"]],
      commands: Object.entries(subCommands).map(([name, c]) => [name, (c.meta as CommandMeta).description ?? ""] as const),
      commandHelp: "paxos <command> --help",
    }),
};

/** Plain text unless stdout is a terminal that wants colour (https://no-color.org, TERM=dumb). */
function wantsColor(): boolean {
  return process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb";
}

async function printUsage(cmd: Command): Promise<void> {
  let text = await cmd.usage();
  // citty colours unless NO_COLOR is exactly "1", even into a pipe or a file.
  if (!wantsColor()) text = text.replace(/\x1b\[[0-9;]*m/g, "");
  process.stdout.write(`${text}\n`);
}

/**
 * Rejects options that the command does not define and arguments beyond those it takes: citty
 * would ignore both silently.
 */
function checkArgs(cmd: Command, rawArgs: string[]): void {
  const { defs, name, positionalMax: max } = cmd;
  const aliases = new Map<string, string>();
  for (const [key, d] of Object.entries(defs)) for (const a of [(d as { alias?: string | string[] }).alias ?? []].flat()) aliases.set(a, key);
  let positionals = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") {
      checkPositionals(positionals + rawArgs.length - i - 1, rawArgs[i + 1 + max - positionals] ?? "", max, name);
      return;
    }
    let key: string | undefined;
    let attached: boolean;
    if (a.startsWith("--") && a.length > 2) {
      const body = a.slice(2);
      key = body.split("=")[0]!.replace(/^no-/, "");
      attached = body.includes("=");
      if (defs[key] === undefined || defs[key]!.type === "positional") throw new UsageError(`unknown option --${key}; see \`${name} --help\``);
    } else if (a.startsWith("-") && a.length > 1) {
      key = aliases.get(a[1]!);
      attached = a.length > 2;
      if (key === undefined) throw new UsageError(`unknown option ${a.slice(0, 2)}; see \`${name} --help\``);
    } else {
      checkPositionals(++positionals, a, max, name);
      continue;
    }
    if (defs[key]!.type === "string" && !attached) i++; // the option's value
  }
}

function checkPositionals(count: number, extra: string, max: number, name: string): void {
  if (count <= max) return;
  const takes = max === 0 ? "takes no arguments, only options" : `takes at most ${max} argument${max === 1 ? "" : "s"}`;
  throw new UsageError(`unexpected argument '${extra}': ${name} ${takes}; see \`${name} --help\``);
}

async function run(argv: string[]): Promise<number> {
  const first = argv[0];
  // Own keys only: "constructor" or "toString" are no commands.
  const sub = first !== undefined && !first.startsWith("-") && Object.hasOwn(commands, first) ? commands[first as keyof typeof commands] : undefined;
  if (first !== undefined && !first.startsWith("-") && sub === undefined) {
    throw new UsageError(`unknown command '${first}'; commands: ${Object.keys(subCommands).join(", ")}`);
  }
  const cmd = sub ?? roleProcess;
  const rest = sub ? argv.slice(1) : argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    await printUsage(cmd);
    return 0;
  }
  if (!sub && (rest.includes("--version") || rest.includes("-v"))) {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  checkArgs(cmd, rest);
  const result = await cmd.run(rest);
  return typeof result === "number" ? result : 0; // `paxos config` returns nothing
}

/** The value of `--name v` or `--name=v` in argv, if given. */
function optionValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

const argv = process.argv.slice(2);

/** The last resort: anything that ends the command is said in one line (JSON in json log format). */
function fail(e: unknown): never {
  const role = optionValue(argv, "role");
  const id = optionValue(argv, "id");
  const code = reportFailure(e, {
    format: optionValue(argv, "log-format") === "json" ? "json" : "text",
    debug: argv.includes("--debug") || (argv[0] === "demo" && argv.includes("-d")),
    tag: role !== undefined && id !== undefined ? `${role}-${id}` : argv[0] !== undefined && Object.hasOwn(subCommands, argv[0]) ? argv[0] : "paxos",
  });
  process.exit(code);
}

process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);
// No top-level await: the binary is compiled with --bytecode.
run(argv).then((code) => process.exit(code), fail);
