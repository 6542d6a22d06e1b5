/**
 * What a user sees when a command cannot go on: one line that names the cause and what to do,
 * and a documented exit code (src/exit-codes.ts). Never a stack, unless asked with --debug.
 * main.ts sends every error that ends a command here; `paxos demo` finds the line in its
 * children's logs with failureLineOf (src/runtime/log.ts).
 */
import { networkInterfaces } from "node:os";
import type { Config } from "../config.ts";
import { ConfigError } from "../config.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { isSystemError, reasonOf, type SystemError } from "../os-errors.ts";
import type { Group } from "../protocol/messages.ts";
import { FAILURE_PREFIX, jsonLogLine, type LogFormat } from "../runtime/log.ts";
import { UsageError } from "./errors.ts";

/** What to print and the code to exit with. */
interface Explained {
  readonly lines: readonly string[];
  readonly exitCode: ExitCode;
  /** Not a mistake of the user's nor of the system's: a bug, worth the stack. */
  readonly unexpected: boolean;
}

/** The sockets a role process sets up, as its config says: the words a network error needs. */
interface NetworkPlace {
  readonly config: Config;
  readonly group: Group;
}

let place: NetworkPlace | undefined;

/** Called once a role process knows its config, before it opens a socket. */
export function noteNetworkPlace(config: Config, group: Group): void {
  place = { config, group };
}

/** Syscalls of socket set-up and use (file syscalls are open, read, write, mkdir, ...). */
const SOCKET_SYSCALLS = new Set(["bind", "setsockopt", "addMembership", "dropMembership", "send", "sendmsg", "sendto", "connect", "listen", "recvmsg"]);

/** Codes that only a socket gives, for errors that do not say which call failed. */
const NETWORK_CODES = new Set(["EADDRNOTAVAIL", "EADDRINUSE", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "ENODEV"]);

function explain(e: unknown): Explained {
  if (e instanceof UsageError) return { lines: [e.message], exitCode: EXIT.usage, unexpected: false };
  if (e instanceof ConfigError) {
    return { lines: ["invalid configuration, nothing started:", ...e.problems.map((p) => `  ${p}`)], exitCode: EXIT.usage, unexpected: false };
  }
  if (isSystemError(e)) {
    const onSocket = e.syscall === undefined ? NETWORK_CODES.has(e.code) : SOCKET_SYSCALLS.has(e.syscall);
    if (place !== undefined && onSocket && e.path === undefined) {
      return { lines: [networkSentence(e, place)], exitCode: EXIT.network, unexpected: false };
    }
    return { lines: [systemSentence(e)], exitCode: EXIT.rejected, unexpected: false };
  }
  const message = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  return {
    lines: [`unexpected error: ${message.split("\n")[0]}; this is a bug`],
    exitCode: EXIT.invariant,
    unexpected: true,
  };
}

/** A file or other system failure outside the network: what was done to what, and why not. */
function systemSentence(e: SystemError): string {
  const verb: Record<string, string> = {
    open: "open",
    read: "read",
    write: "write",
    mkdir: "create directory",
    rename: "rename",
    unlink: "remove",
    fsync: "sync",
    scandir: "list directory",
    stat: "find",
  };
  const what = e.syscall ? `${verb[e.syscall] ?? e.syscall}${e.path ? ` ${e.path}` : ""}` : (e.path ?? "go on");
  return `cannot ${what}: ${reasonOf(e.code)} (${e.code})`;
}

/** This host's IPv4 addresses on interfaces that are up, for messages about network.interface. */
function addressesUp(): string {
  const up = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && a.family === "IPv4" ? [a.address] : []));
  return up.length === 0 ? "no IPv4 address is up here" : `up here: ${up.join(", ")}`;
}

function networkSentence(e: SystemError, { config, group }: NetworkPlace): string {
  const iface = config.network.interface;
  const g = config.network.groups[group];
  const where = `multicast group ${g.address}:${g.port} (network.groups.${group}) on interface ${iface}`;
  switch (e.code) {
    case "EADDRNOTAVAIL":
    case "ENODEV":
      if (e.syscall === "bind" && e.address === iface) {
        return `cannot use network.interface ${iface}: no such address on this host (${addressesUp()}); set network.interface to this host's address (ip -4 addr)`;
      }
      return `cannot join ${where}: ${iface} is not up on this host (${addressesUp()}); bring its network up (ip link) or set network.interface to an address of this host`;
    case "EADDRINUSE":
      return `cannot join ${where}: another program holds port ${g.port} without sharing it (SO_REUSEADDR); stop it (ss -ulpn 'sport = :${g.port}') or choose other ports in network.groups`;
    case "EACCES":
    case "EPERM":
      return `cannot use ${where}: ${reasonOf(e.code)}; check firewall rules for the group's port (nft list ruleset) and, for a port below 1024, the process's privileges`;
    case "ENETUNREACH":
    case "EHOSTUNREACH":
    case "ENETDOWN":
      return `cannot reach ${where}: ${reasonOf(e.code)}; bring the network up (ip link) and check network.interface`;
    default:
      return `network error on ${where}: ${reasonOf(e.code)} (${e.code} in ${e.syscall ?? "a socket call"})`;
  }
}

interface ReportOptions {
  readonly format: LogFormat;
  readonly debug: boolean;
  /** The process's log tag (role-id), or the command's name. */
  readonly tag: string;
}

/** Writes the explanation on stderr (one line per problem, as JSON objects in json format); returns the exit code. */
export function reportFailure(e: unknown, o: ReportOptions): ExitCode {
  const explained = explain(e);
  const hint = o.debug ? "please report it with the stack below" : "rerun with --debug to see the stack, and please report it";
  const x = explained.unexpected ? { ...explained, lines: [`${explained.lines[0]}: ${hint}`] } : explained;
  const stack = o.debug && e instanceof Error && e.stack !== undefined ? e.stack : undefined;
  if (o.format === "json") {
    const lines = x.lines.length > 1 ? x.lines.slice(1).map((l) => `${x.lines[0]} ${l.trim()}`) : x.lines;
    for (const [i, l] of lines.entries()) {
      process.stderr.write(jsonLogLine("fatal", o.tag, l, i === 0 && stack !== undefined ? { stack } : {}));
    }
  } else {
    process.stderr.write(`${x.lines.map((l, i) => (i === 0 ? `${FAILURE_PREFIX}${l}` : l)).join("\n")}\n`);
    if (stack !== undefined) process.stderr.write(`${stack}\n`);
  }
  return x.exitCode;
}
