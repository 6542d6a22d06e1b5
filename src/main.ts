#!/usr/bin/env bun
/**
 * Entry point: `paxos --role <role> --id <n> [options]` runs one process; `paxos <command>` runs
 * a tool. This file only wires commands; each lives in src/cli/.
 */
import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { checkCommand } from "./cli/check.ts";
import { configCommand } from "./cli/config.ts";
import { demoCommand } from "./cli/demo.ts";
import { UsageError } from "./cli/errors.ts";
import { EXIT } from "./exit-codes.ts";
import { reportCommand } from "./cli/report.ts";
import { roleArgs, runRole, type RoleArgs } from "./cli/role.ts";
import { ConfigError } from "./config.ts";
import { VERSION, VERSION_LINE } from "./version.ts";

const subCommands: Record<string, CommandDef<any>> = {
  demo: demoCommand,
  check: checkCommand,
  report: reportCommand,
  config: configCommand,
};

const main = defineCommand({
  meta: {
    name: "paxos",
    version: VERSION,
    description: "Multi-Paxos atomic broadcast over UDP IP multicast. Run one process per role: `paxos --role learner --id 1`",
  },
  args: roleArgs,
  subCommands,
});

async function printUsage(cmd: CommandDef<any>, parent?: CommandDef<any>): Promise<void> {
  let text = await renderUsage(cmd, parent);
  if (cmd === main) {
    // citty would show "paxos [OPTIONS] demo|check|…": say the two real forms instead.
    const commands = Object.keys(subCommands).join("|");
    text = text.replace(
      /USAGE((?:\x1b\[[0-9;]*m)*)[^\n]*\n/, // keep the style resets that follow the word
      (_m, resets: string) => `USAGE${resets} paxos --role <client|proposer|acceptor|learner> --id <n> [OPTIONS]\n      paxos <${commands}> [--help]\n`,
    );
  }
  process.stdout.write(`${text}\n`);
}

/** Rejects options that no command defines (citty would ignore them silently). */
function checkKnownOptions(cmd: CommandDef<any>, rawArgs: string[]): void {
  const known = new Set(Object.keys((cmd.args ?? {}) as object));
  for (const a of rawArgs) {
    if (!a.startsWith("--")) continue;
    const name = a.slice(2).split("=")[0]!.replace(/^no-/, "");
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
  }
}

async function run(argv: string[]): Promise<number> {
  const first = argv[0];
  const sub = first !== undefined && !first.startsWith("-") ? subCommands[first] : undefined;
  if (first !== undefined && !first.startsWith("-") && sub === undefined) {
    throw new UsageError(`unknown command '${first}'; commands: ${Object.keys(subCommands).join(", ")}`);
  }
  const cmd = sub ?? main;
  const rest = sub ? argv.slice(1) : argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    await printUsage(cmd, sub ? main : undefined);
    return 0;
  }
  if (!sub && (rest.includes("--version") || rest.includes("-v"))) {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  checkKnownOptions(cmd, rest);
  if (sub) {
    const { result } = await runCommand(sub, { rawArgs: rest });
    return typeof result === "number" ? result : 0;
  }
  const { result } = await runCommand(defineCommand({ args: roleArgs, run: ({ args }) => runRole(args as RoleArgs) }), { rawArgs: rest });
  return result as number;
}

// No top-level await: the binary is compiled with --bytecode.
run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`paxos: ${e.message}\n`);
    } else if (e instanceof ConfigError) {
      process.stderr.write(`paxos: invalid configuration, nothing started:\n${e.problems.map((p) => `  ${p}`).join("\n")}\n`);
    } else throw e;
    process.exit(EXIT.usage);
  },
);
