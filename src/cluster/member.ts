/**
 * One incarnation of a process of a local cluster (a restart is a new Member under the same
 * name): its spawned process, its piped output, and its status file, from which its state is
 * read (src/runtime/status.ts), never from its log.
 */
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import type { RoleName } from "../runtime/role-names.ts";
import { readStatus, type ProcessStatus } from "../runtime/status.ts";

/** Where a member's standard stream goes: a file path (appended for stderr), a pipe kept in memory, or nowhere. */
export type Sink = { readonly file: string } | "pipe" | "ignore";
export type Source = { readonly file: string } | { readonly text: string } | "pipe" | "ignore";

export interface MemberSpec {
  readonly role: RoleName;
  readonly id: number;
  /** Its name (files: NAME.log, NAME.status.json); default `<role>-<id>`. */
  readonly name?: string;
  /** Arguments kept across restarts. */
  readonly args?: readonly string[];
  /** Arguments for the first start only (an acceptor's --init). */
  readonly once?: readonly string[];
  readonly config?: string;
  readonly prefix?: readonly string[];
  readonly stdin?: Source;
  /** A file is written from its start: a restarted member writes it anew. */
  readonly stdout?: Sink;
  /** Default: the run directory's `<name>.log`, appended (a restarted member keeps its predecessor's log). */
  readonly stderr?: Sink;
}

/** A member's name: its spec's, or `<role>-<id>`. */
export const nameOf = (spec: MemberSpec): string => spec.name ?? `${spec.role}-${spec.id}`;

export class Member {
  readonly name: string;
  /** Its exit code, once all piped output is read. */
  readonly done: Promise<number>;
  private out = "";
  private err = "";

  constructor(
    readonly spec: MemberSpec,
    readonly proc: Subprocess,
    readonly statusPath: string,
    /** The log file and where this incarnation's part of it starts, when stderr goes to a file. */
    readonly logFile: string | undefined,
    readonly logOffset: number,
  ) {
    this.name = nameOf(spec);
    const collect = async (s: unknown, into: "out" | "err") => {
      if (!(s instanceof ReadableStream)) return;
      const dec = new TextDecoder();
      for await (const chunk of s as ReadableStream<Uint8Array>) this[into] += dec.decode(chunk, { stream: true });
    };
    const streams = Promise.all([collect(proc.stdout, "out"), collect(proc.stderr, "err")]);
    this.done = proc.exited.then(async (code) => {
      await streams;
      return code;
    });
  }

  get role(): RoleName {
    return this.spec.role;
  }

  get id(): number {
    return this.spec.id;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  /** Piped stdout so far. */
  get stdout(): string {
    return this.out;
  }

  /** Piped stderr so far (or this incarnation's part of its log file). */
  get stderr(): string {
    if (this.logFile === undefined) return this.err;
    try {
      return readFileSync(this.logFile, "utf8").slice(this.logOffset);
    } catch {
      return "";
    }
  }

  /** Complete lines of piped stdout. */
  lines(): string[] {
    const lines = this.out.split("\n");
    lines.pop(); // the text after the last newline is not a complete line yet
    return lines;
  }

  /** Its last status, or undefined before it wrote one. */
  status(): ProcessStatus | undefined {
    try {
      return readStatus(readFileSync(this.statusPath, "utf8"));
    } catch {
      return undefined;
    }
  }

  /** Up: it joined its group and works (its status says so and it still runs). */
  get up(): boolean {
    return this.alive && this.status()?.state === "up";
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    if (this.alive) this.proc.kill(signal);
  }
}
