/**
 * A process's state for supervisors and people (`--status FILE`): one JSON object, rewritten
 * atomically (temporary file, then rename) every STATUS_EVERY_MS while it changes and at once on
 * a change of state or leadership. Readers never see a half-written file, and never need its log.
 *
 * The format is versioned (`v`); fields are added, never renamed or retyped, within a version.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { isSystemError, reasonOf } from "../os-errors.ts";
import type { RecentInstance } from "./recent.ts";
import type { RoleName } from "./role-names.ts";

export const STATUS_VERSION = 1;

/** A proposer's modes, as its status says them (OPERATIONS.md lists them; the docs test holds it to this list). */
export const PROPOSER_MODES = ["probing", "standby", "phase1", "leader", "stopped"] as const;
export type ProposerStatusMode = (typeof PROPOSER_MODES)[number];
export const STATUS_EVERY_MS = 100;

/** starting: not joined its group yet; up: working; stopping: shutting down; stopped: ended (exit code known). */
export type ProcessState = "starting" | "up" | "stopping" | "stopped";

export interface ProcessStatus {
  readonly v: typeof STATUS_VERSION;
  readonly role: RoleName;
  readonly id: number;
  readonly pid: number;
  readonly state: ProcessState;
  /** Set with state "stopped". */
  readonly exitCode?: number;
  readonly startedUnixMs: number;
  readonly updatedUnixMs: number;
  readonly datagrams: { readonly received: number; readonly sent: number; readonly dropped: Readonly<Record<string, number>> };
  /** Acceptors heard in the last few seconds. */
  readonly acceptorsHeard: number;
  /** The injected loss now (--loss, or what --control FILE set since). */
  readonly loss?: number;
  /**
   * The acceptor set this process knows (configuration history, `paxos reconfigure`): the
   * latest configuration's epoch, members and first instance; and how far it knows the history.
   */
  readonly configuration?: { readonly epoch: number; readonly acceptors: readonly number[]; readonly from: number; readonly knownTo: number };
  readonly proposer?: {
    readonly mode: ProposerStatusMode;
    readonly leader: boolean;
    readonly round: number;
    /** Instances below this are known decided. */
    readonly decidedPrefix: number;
    readonly phase1Runs: number;
    readonly takeovers: number;
    /** Client values waiting to be proposed. */
    readonly pending: number;
  };
  readonly acceptor?: { readonly promised: number; readonly votes: number; readonly durable: boolean };
  readonly learner?: {
    /** Instances delivered (the decided prefix this learner has written). */
    readonly decidedPrefix: number;
    /** Values delivered. */
    readonly delivered: number;
    /** Instances heard decided or voted beyond the prefix, waiting for a hole to fill. */
    readonly waiting: number;
    /** The latest instances heard of, oldest first (see recent.ts). */
    readonly recent?: readonly RecentInstance[];
  };
  readonly client?: {
    /** The client number on the wire (the id in its low bits). */
    readonly number: number;
    readonly read: number;
    readonly submitted: number;
    readonly retransmitted: number;
    readonly decided: number;
    readonly undecided: number;
  };
}

/** What a role adds to its status (called at each write). */
export type RoleStatus = () => Pick<ProcessStatus, "proposer" | "acceptor" | "learner" | "client">;

export interface StatusSource {
  readonly role: RoleName;
  readonly id: number;
  readonly datagrams: () => ProcessStatus["datagrams"];
  readonly acceptorsHeard: () => number;
  readonly loss?: () => number;
  readonly configuration?: () => NonNullable<ProcessStatus["configuration"]>;
  readonly roleStatus: RoleStatus;
}

/** Writes a process's status file; without a path it does nothing (the option was not given). */
export class StatusFile {
  private state: ProcessState = "starting";
  private exitCode: number | undefined;
  private last = "";
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly startedUnixMs = Date.now();
  private failed = false;

  constructor(
    readonly path: string | undefined,
    private readonly source: StatusSource,
    private readonly onError: (message: string) => void,
  ) {}

  /** Writes now, and then every STATUS_EVERY_MS while anything changed. */
  start(): void {
    this.write();
    if (this.path !== undefined) this.timer = setInterval(() => this.write(), STATUS_EVERY_MS);
  }

  setState(state: ProcessState, exitCode?: number): void {
    this.state = state;
    if (exitCode !== undefined) this.exitCode = exitCode;
    if (state === "stopped" && this.timer !== undefined) clearInterval(this.timer);
    this.write();
  }

  snapshot(): ProcessStatus {
    const s = this.source;
    return {
      v: STATUS_VERSION,
      role: s.role,
      id: s.id,
      pid: process.pid,
      state: this.state,
      ...(this.exitCode !== undefined ? { exitCode: this.exitCode } : {}),
      startedUnixMs: this.startedUnixMs,
      updatedUnixMs: Date.now(),
      datagrams: s.datagrams(),
      acceptorsHeard: s.acceptorsHeard(),
      ...(s.loss !== undefined ? { loss: s.loss() } : {}),
      ...(s.configuration !== undefined ? { configuration: s.configuration() } : {}),
      ...s.roleStatus(),
    };
  }

  /** Writes the status if it changed (beyond its timestamp); errors are reported once, never fatal. */
  write(): void {
    if (this.path === undefined || this.failed) return;
    const status = this.snapshot();
    const key = JSON.stringify({ ...status, updatedUnixMs: 0 });
    if (key === this.last) return;
    this.last = key;
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(status)}\n`);
      renameSync(tmp, this.path);
    } catch (e) {
      this.failed = true;
      try {
        unlinkSync(tmp);
      } catch {
        // it was never written
      }
      const why = isSystemError(e) ? reasonOf(e.code) : (e as Error).message; // not the temporary file's name
      this.onError(`cannot write the status file ${this.path}: ${why}; not writing it again`);
    }
  }
}

/** Reads a status file; undefined while it does not exist yet or is not a status (never throws). */
export function readStatus(text: string): ProcessStatus | undefined {
  try {
    const s = JSON.parse(text) as ProcessStatus;
    return typeof s === "object" && s !== null && s.v === STATUS_VERSION && typeof s.role === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}
