/**
 * Deterministic simulation of a whole cluster in one process (FoundationDB's simulator and
 * TigerBeetle's VOPR are the models). The four roles run through the production Driver over an
 * in-memory multicast network, with per-process clocks and simulated disks that run the real
 * acceptor-log code. Faults during the chaos period: loss, duplication, reordering, long delays,
 * replays of authentic datagrams, one-way and two-way partitions (the leader isolated with a
 * minority too), clock skew and jumps, crashes and restarts of every role (all acceptors at once
 * too), torn, lost and zero-filled disk writes, two live proposers with one id. A run is a
 * function of its seed (and mutant): the same seed replays bit for bit.
 */
import { decodeStamped, encode, type WireId } from "../../src/net/codec.ts";
import { RECONFIG_CLIENT, type ConfigStamp } from "../../src/protocol/configuration.ts";
import { InvariantError } from "../../src/protocol/assert.ts";
import { Acceptor, type AcceptorOptions } from "../../src/protocol/acceptor.ts";
import { Client } from "../../src/protocol/client.ts";
import { Learner, type LearnerOptions } from "../../src/protocol/learner.ts";
import { CATCHUP_INSTANCES_MAX, INSTANCES_AHEAD_MAX, type Effects, type Group, type Input, type Message, type Role } from "../../src/protocol/messages.ts";
import { ROUND_STRIDE } from "../../src/protocol/id-limits.ts";
import { Proposer, type ProposerOptions } from "../../src/protocol/proposer.ts";
import { batchBytesLimit } from "../../src/protocol/wire-budget.ts";
import { linesOf } from "../../src/protocol/batch.ts";
import { valuesOfRuns } from "../protocol/values.ts";
import { Prng } from "../../src/prng.ts";
import { Driver, type DriverHost, type DurableLog } from "../../src/runtime/driver.ts";
import { AcceptorLog } from "../../src/storage/acceptor-log.ts";
import { SafetyChecker, type Violation } from "./checker.ts";
import { MemoryArchive } from "./archive.ts";
import { MachineCrash, SimDisk } from "./disk.ts";
import { buildHistory, type History } from "./history.ts";
import {
  AcceptLowerRound,
  AccountsWithoutProof,
  AckOnPropose,
  ForgetDecidedHint,
  GiveUpOnOneTrimmed,
  IgnoreSeenTo,
  CapDropsVotes,
  IgnoreEchoedNonce,
  IgnoreVRnd,
  KeepDelivered,
  LearnFromOne,
  NoRoundBinding,
  OldConfigQuorum,
  PromiseOldConfig,
  SendBeforePersist,
  StaleProbe,
  type MutantName,
} from "./mutants.ts";
import { LONG_DELAY_MAX_MS, randomScenario, type Family, type Scenario } from "./scenario.ts";

export { randomScenario, type Scenario } from "./scenario.ts";

/** Protocol timers in the simulation; the runtime's defaults differ. */
export const SIM_TIMING = {
  clientRetransmitMs: 100,
  catchupMs: 30,
  idleProbeMaxMs: 400,
  tickMs: 5,
} as const;

const DATAGRAM_BYTES_MAX = 1400;
const WIRE_CLUSTER = 7;
/** After healing, everything must be delivered within this much simulated time. */
const HEALED_LIMIT_MS = 30_000;
/** Wall clocks read about 2024 (rounds start above them). */
const SIM_EPOCH_MS = 1.7e12;
/** Replays copy datagrams sent at most this long before. */
const REPLAY_WINDOW_MS = 2000;
const REPLAY_BUFFER = 256;
const ACCEPTOR_DIR = "/var/lib/paxos";

type Kind = "acceptor" | "proposer" | "learner" | "client";
const GROUP: Record<Kind, Group> = { acceptor: "acceptors", proposer: "proposers", learner: "learners", client: "clients" };

interface Proc {
  readonly name: string;
  readonly kind: Kind;
  /** Id within its role (a twin proposer shares proposer 1's). */
  readonly id: number;
  alive: boolean;
  /** Incarnation: bumped at each restart, so that stale timers and commits of the last one are ignored. */
  gen: number;
  role: Role;
  driver: Driver;
  /** Simulated clock: local = global + offset (backward jumps lower it). */
  clockOffsetMs: number;
  /** Wall clock (for a proposer's round floor) = local + this: skewed, and jumps both ways. */
  wallOffsetMs: number;
  tickAtMs: number;
  /** The learner incarnation's name in the checker. */
  learnerKey: string;
  readonly disk: SimDisk | undefined;
  log: AcceptorLog | undefined;
  /** Client: its current client number (a restarted client is a new one). */
  clientNumber: number;
  /** A crash waiting for a bad moment: an acceptor's next commit, a proposer's next send. */
  crashAtBadMoment: (() => void) | undefined;
  /** Learner: its archive, when the scenario keeps archives (it outlives restarts, as a file does). */
  readonly archive: MemoryArchive | undefined;
}

interface Event {
  readonly atMs: number;
  readonly order: number;
  readonly run: () => void;
}

/** A binary min-heap of events, ordered by time then by scheduling order (deterministic). */
class EventQueue {
  private readonly heap: Event[] = [];
  private order = 0;

  push(atMs: number, run: () => void): void {
    const h = this.heap;
    h.push({ atMs, order: this.order++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  get size(): number {
    return this.heap.length;
  }
}

const before = (a: Event, b: Event): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);

/** Links cut from every process of `from` to every process of `to`, for a time. */
interface Cut {
  readonly from: Set<Proc>;
  readonly to: Set<Proc>;
}

/** What the faults did in a run (for the statistics `bun run sim` prints). */
export interface FaultCounts {
  replays: number;
  longDelays: number;
  partitions: number;
  clockJumps: number;
  restarts: number;
  wholeClusterRestarts: number;
  diskFaults: number;
  twinProposers: number;
  histories: number;
  duplicateIdStops: number;
  duplicateIdAlerts: number;
  takeovers: number;
  /** 1B answers in several pieces. */
  multiPiece1Bs: number;
  /** Catchup requests as long as the bound allows. */
  catchupsAtLimit: number;
  /** 2A proposals more than instancesAheadMax above the decided prefix the 2A reports. */
  proposalsBeyondAheadMax: number;
  /** Decisions a learner served from its archive. */
  archiveDecisions: number;
  /** Configuration changes submitted (the reconfig family), and acceptors that stopped as removed. */
  reconfigurations: number;
  /** Configuration epochs the decided log reached (changes applied). */
  epochs: number;
  /** Learners excused for instances whose configuration's acceptors are all gone (see strandedByRemoval). */
  strandedByRemoval: number;
  removedStops: number;
}

/**
 * Sees a run as it happens (scripts/diagrams.ts draws the docs' message-sequence charts from it):
 * every datagram sent and every copy handed to a live process, with the simulated time.
 */
export interface SimObserver {
  /** `from` sent `msg` to `group` (one call per group: a 2A sent to three groups is one object, three calls). */
  sent(atMs: number, from: string, group: Group, msg: Message): void;
  /** `by` (alive) is handed a copy of `msg` that `from` sent to `group` (the object sent, whatever the wire did). */
  received(atMs: number, by: string, from: string, group: Group, msg: Message): void;
  /** After each step of `role`: its effects beyond the sends (learners' deliveries, clients' acks), and its state. */
  effects(atMs: number, proc: string, fx: Effects, role: Role): void;
  crashed(atMs: number, proc: string): void;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly delivered: number;
  readonly submitted: number;
  readonly simMs: number;
  readonly events: number;
  /** Learners that gave up because acceptors had trimmed what they needed. */
  readonly gaveUp: number;
  readonly faults: FaultCounts;
}

export class World {
  readonly rng: Prng;
  readonly checker = new SafetyChecker();
  private readonly queue = new EventQueue();
  private readonly procs: Proc[] = [];
  private readonly byGroup: Record<Group, Proc[]> = { clients: [], proposers: [], acceptors: [], learners: [] };
  private readonly cuts: Cut[] = [];
  private readonly recent: { atMs: number; from: Proc; group: Group; msg: Message; stamp: ConfigStamp; bytes: Uint8Array | undefined }[] = [];
  private readonly faults: FaultCounts = {
    replays: 0,
    longDelays: 0,
    partitions: 0,
    clockJumps: 0,
    restarts: 0,
    wholeClusterRestarts: 0,
    diskFaults: 0,
    twinProposers: 0,
    histories: 0,
    duplicateIdStops: 0,
    duplicateIdAlerts: 0,
    takeovers: 0,
    multiPiece1Bs: 0,
    catchupsAtLimit: 0,
    proposalsBeyondAheadMax: 0,
    archiveDecisions: 0,
    reconfigurations: 0,
    epochs: 0,
    strandedByRemoval: 0,
    removedStops: 0,
  };
  private history: History | undefined;
  /** Changes the reconfig family's operator submitted. */
  private reconfigsSubmitted = 0;
  /** Acceptors that stopped as removed (checked against the decided log at the end). */
  private readonly removed: { proc: Proc; reason: string }[] = [];
  /** Processes down between a crash and their restart. */
  private readonly restarting = new Set<Proc>();
  private readonly wireId: WireId;
  private gaveUp = 0;
  private nowMs = 0;
  private healed = false;
  private events = 0;
  private readonly trace: ((line: string) => void) | undefined;

  constructor(
    readonly seed: number,
    readonly scenario: Scenario,
    readonly mutant?: MutantName,
    trace?: (line: string) => void,
    private readonly observer?: SimObserver,
    /** Check every role's invariants after every step (false only to show what else a mutant breaks). */
    readonly checkInvariants = true,
  ) {
    this.rng = new Prng(seed ^ 0x5eed);
    this.trace = trace;
    this.wireId = { cluster: WIRE_CLUSTER, acceptors: scenario.acceptors };
  }

  run(): RunResult {
    this.build();
    const s = this.scenario;
    this.queue.push(s.chaosMs, () => {
      this.healed = true;
      this.cuts.length = 0;
      this.trace?.(`${this.nowMs.toFixed(2)} HEALED`);
    });
    const limitMs = s.chaosMs + HEALED_LIMIT_MS;
    while (this.queue.size > 0) {
      const ev = this.queue.pop()!;
      if (ev.atMs > limitMs) break;
      this.nowMs = ev.atMs;
      this.events++;
      ev.run();
      if (this.checker.violations.length > 0) break;
      // A run may end once everything is delivered: after healing, or after the load (in the
      // stranded family, once its crash happened and its late learners started).
      const quietFromMs = s.stranded !== undefined ? s.stranded.crashAtMs + 400 : (s.loadMs ?? Infinity);
      if ((this.healed || this.nowMs >= quietFromMs) && this.settled()) break;
    }
    // Progress is owed while a proposer is up; only twins that found each other may all have stopped.
    const canProgress = this.byGroup.proposers.some((p) => p.alive) || this.faults.duplicateIdStops === 0;
    this.checker.checkChosenAtEnd();
    this.faults.epochs = this.checker.epoch;
    // Checked where the learners delivered as far as the change the acceptor names (it may learn a
    // change from the proposers before any learner delivers it, and learners may be stranded).
    for (const r of this.removed) {
      const epoch = Number(/configuration epoch (\d+)/.exec(r.reason)?.[1] ?? NaN);
      if (!(this.checker.epoch >= epoch)) continue;
      if (this.checker.stillMember(r.proc.id)) this.checker.fail("false-alarm", `${r.proc.name} stopped though the decided log keeps it a member: ${r.reason}`);
    }
    if (this.checker.violations.length === 0 && !this.settled() && canProgress) {
      this.checker.checkLiveness(this.checkedLearners());
      const pending = this.reconfigPending();
      if (pending !== undefined) this.checker.fail("liveness", `configuration changes not in force after the network healed: ${pending}`);
    }
    for (const p of this.byGroup.proposers) if (p.alive) this.faults.takeovers += (p.role as Proposer).counters.takeovers;
    for (const p of this.byGroup.acceptors) if (p.disk) this.faults.diskFaults += Object.values(p.disk.faults).reduce((a, b) => a + b, 0);
    const live = this.liveLearnerKeys();
    return {
      seed: this.seed,
      scenario: s,
      violations: this.checker.violations,
      delivered: live.length === 0 ? 0 : Math.min(...live.map((l) => this.checker.deliveredCount(l))),
      submitted: this.checker.submittedCount,
      simMs: this.nowMs,
      events: this.events,
      gaveUp: this.gaveUp,
      faults: this.faults,
    };
  }

  // ---- building the cluster ----

  private build(): void {
    const s = this.scenario;
    const rng = this.rng;
    this.checker.quorum = Math.floor(s.acceptors / 2) + 1;
    if (s.history !== undefined) {
      this.history = buildHistory(s.history, s.acceptors, rng);
      this.faults.histories++;
      for (const [inst, batch] of this.history.chosen) this.checker.expectChosen(inst, batch);
      for (const v of this.history.values) this.checker.submit(v, false);
    }
    for (let i = 1; i <= s.acceptors; i++) this.addProc("acceptor", i, 0);
    if (s.reconfig !== undefined) {
      // Spare acceptors start empty and take part once a change names them (`--join`).
      for (let i = s.acceptors + 1; i <= s.acceptors + s.reconfig.spares; i++) this.addProc("acceptor", i, 0);
      this.checker.trackConfigurations(s.acceptors, s.reconfig.alpha);
    }
    // In the stranded family proposer 1 leads: the others start once it does (they see its votes).
    const proposerStartMs = (i: number): number =>
      s.stranded !== undefined ? (i === 1 ? 0 : 2 * s.helloEveryMs + 50 + rng.next() * 20) : i === 1 && s.twinProposer ? 0 : rng.next() * 20;
    for (let i = 1; i <= s.proposers; i++) this.addProc("proposer", i, proposerStartMs(i));
    if (s.twinProposer) {
      this.faults.twinProposers++;
      // A copy of proposer 1's unit on another machine: the same id, clocks in step (NTP).
      const twin = this.addProc("proposer", 1, s.twinStartMs, "proposer-1-twin");
      const original = this.byGroup.proposers[0]!;
      twin.clockOffsetMs = original.clockOffsetMs;
      twin.wallOffsetMs = original.wallOffsetMs;
    }
    for (let i = 1; i <= s.learners; i++) {
      const late = i > s.learners - s.lateLearners;
      const lateAtMs = s.stranded !== undefined ? s.stranded.crashAtMs + 50 + rng.next() * 300 : rng.next() * s.chaosMs * 1.5;
      this.addProc("learner", i, late ? lateAtMs : 0);
    }
    for (let i = 1; i <= s.clients; i++) this.addClientLoad(this.addProc("client", i, 0));
    if (s.script !== undefined) this.scheduleScript(s.script);
    if (s.reconfig !== undefined) this.scheduleReconfig(s.reconfig);
    this.scheduleFaults();
  }

  /**
   * The `reconfig` family's operator: submits change k (under RECONFIG_CLIENT, seq k: the epoch it
   * replaces) once configuration k governs at some live learner (as `paxos reconfigure` waits for
   * the previous change), resubmitting through its client until it is decided; a failed acceptor
   * crashes for good first, when the scenario says so.
   */
  private scheduleReconfig(r: NonNullable<Scenario["reconfig"]>): void {
    const operator = this.addProc("client", RECONFIG_CLIENT, 0, "operator");
    if (r.crashForGood !== undefined) {
      const failed = this.byGroup.acceptors.find((p) => p.id === r.crashForGood)!;
      this.queue.push(r.crashAtMs, () => this.crash(failed));
    }
    const poll = (): void => {
      const submitted = this.reconfigsSubmitted;
      if (submitted >= r.changes.length) return;
      this.queue.push(this.nowMs + 20 + this.rng.next() * 60, poll);
      if (!operator.alive) return;
      // The configuration in force as a live proposer sees it (what `paxos reconfigure` asks):
      // its latest, once its decided prefix reached where that governs. (Not a learner's: one
      // stranded behind removed acceptors may never get there.)
      const inForce = Math.max(-1, ...this.byGroup.proposers.filter((p) => p.alive).map((p) => {
        const q = p.role as Proposer;
        return q.config.latest.from <= q.decidedPrefix ? q.config.epoch : q.config.epoch - 1;
      }));
      if (inForce !== submitted) return;
      const line = r.changes[submitted]!.join(",");
      this.trace?.(`${this.nowMs.toFixed(2)} RECONFIGURE epoch ${submitted} -> [${line}]`);
      this.faults.reconfigurations++;
      this.submit(operator, [line], false);
      this.reconfigsSubmitted++;
      // Often the leader dies soon after: a new one then takes over with the change being
      // decided, or decided and not yet governing (its Phase 1 spans two configurations).
      if (this.rng.chance(r.leaderCrashAfterChange)) {
        this.queue.push(this.nowMs + this.rng.next() * 40, () => {
          const leader = this.byGroup.proposers.find((p) => p.alive && (p.role as Proposer).isLeader);
          if (leader === undefined) return;
          this.crash(leader, true);
          this.faults.restarts++;
          // Back at once (it restarts empty), or after a standby took over (which knows the history).
          this.queue.push(this.nowMs + (this.rng.chance(0.5) ? 1 + this.rng.next() * 100 : 300 + this.rng.next() * 500), () => this.boot(leader));
        });
      }
    };
    this.queue.push(r.firstAtMs, poll);
  }

  private addProc(kind: Kind, id: number, startMs: number, name = `${kind}-${id}`): Proc {
    const s = this.scenario;
    const skew = s.clockSkewMs > 0 ? (this.rng.next() * 2 - 1) * s.clockSkewMs : 0;
    const proc: Proc = {
      name,
      kind,
      id,
      alive: false,
      gen: 0,
      role: undefined as unknown as Role,
      driver: undefined as unknown as Driver,
      clockOffsetMs: this.rng.next() * 1000,
      wallOffsetMs: skew,
      tickAtMs: Infinity,
      learnerKey: `${name}#0`,
      disk: kind === "acceptor" && (s.durable || s.history !== undefined) ? new SimDisk() : undefined,
      log: undefined,
      clientNumber: id,
      crashAtBadMoment: undefined,
      archive: kind === "learner" && s.archives ? new MemoryArchive() : undefined,
    };
    if (proc.disk !== undefined) {
      // The acceptor's first start: its log is created (with the earlier life's records, if any).
      const { log } = AcceptorLog.open(ACCEPTOR_DIR, WIRE_CLUSTER, id, { create: true, newIdent: () => this.newIdent(), io: proc.disk });
      if (this.history !== undefined) log.append(this.history.records.get(id)!);
      log.close();
    }
    this.procs.push(proc);
    this.byGroup[GROUP[kind]].push(proc);
    this.queue.push(startMs, () => this.boot(proc));
    return proc;
  }

  /** Starts (or restarts) a process: a new role from what it kept (a durable acceptor's disk), a new driver. */
  private boot(proc: Proc): void {
    this.restarting.delete(proc);
    proc.gen++;
    proc.alive = true;
    proc.tickAtMs = Infinity;
    proc.role = this.newRole(proc);
    const durable = this.durableLog(proc);
    const host = this.host(proc);
    const onEffects = (fx: Effects) => this.onEffects(proc, fx);
    const every = this.checkInvariants ? 1 : 0;
    proc.driver = this.mutant === "send-before-persist" ? new SendBeforePersist(proc.role, host, durable, onEffects, every) : new Driver(proc.role, host, durable, onEffects, every);
    if (proc.gen > 1) this.trace?.(`${this.nowMs.toFixed(2)} RESTART ${proc.name}`);
    this.guard(proc, () => proc.driver.step({ kind: "tick" }));
  }

  private host(proc: Proc): DriverHost {
    const gen = proc.gen;
    return {
      now: () => this.localNow(proc),
      send: (to, msg) => this.send(proc, to, msg),
      scheduleCommit: () => {
        // An fsync takes a while; steps meanwhile join the same group commit. A crash may strike
        // before it is done: records written, not synced, replies still held.
        this.queue.push(this.nowMs + 0.05 + this.rng.next() * 1.5, () => {
          if (!proc.alive || proc.gen !== gen) return;
          const crash = proc.crashAtBadMoment;
          proc.crashAtBadMoment = undefined;
          if (crash === undefined) return this.guard(proc, () => proc.driver.commit());
          // The records are written, the sync never completes, the held replies never leave.
          if (proc.disk !== undefined && proc.log !== undefined) {
            proc.disk.crashing = true;
            try {
              proc.log.commit();
            } catch (e) {
              if (!(e instanceof MachineCrash)) throw e;
            }
          }
          crash();
        });
      },
      // The end of the process's event-loop turn, a little later: inputs delivered meanwhile join
      // the turn, and what the role gathered across them goes out then (lost if it crashes first).
      scheduleEndTurn: () => {
        this.queue.push(this.nowMs + this.rng.next() * 0.3, () => {
          if (proc.gen === gen && proc.alive) this.guard(proc, () => proc.driver.endTurn());
        });
      },
      scheduleWake: (localAtMs) => {
        const atMs = Math.max(localAtMs - proc.clockOffsetMs, this.nowMs + SIM_TIMING.tickMs);
        if (atMs >= proc.tickAtMs && proc.tickAtMs > this.nowMs) return;
        proc.tickAtMs = atMs;
        this.queue.push(atMs, () => {
          if (proc.gen !== gen || proc.tickAtMs !== atMs) return; // superseded
          proc.tickAtMs = Infinity;
          this.deliverTo(proc, { kind: "tick" });
        });
      },
    };
  }

  /** A random proposer incarnation or acceptor identity. */
  private newIdent(): number {
    return 1 + Math.floor(this.rng.next() * 2 ** 40);
  }

  private localNow(proc: Proc): number {
    return this.nowMs + proc.clockOffsetMs;
  }

  private durableLog(proc: Proc): DurableLog | undefined {
    if (proc.kind !== "acceptor" || proc.disk === undefined) return undefined;
    const log = proc.log!;
    return {
      append: (records) => log.append(records),
      commit: () => {
        log.commit();
        // Now and then the runtime's compaction: the log rewritten from a snapshot.
        if (this.rng.chance(0.01)) log.compact((proc.role as Acceptor).snapshot());
      },
    };
  }

  private newRole(proc: Proc): Role {
    switch (proc.kind) {
      case "acceptor":
        return this.newAcceptor(proc);
      case "proposer":
        return this.newProposer(proc);
      case "learner":
        return this.newLearner(proc);
      case "client":
        return this.newClient(proc);
    }
  }

  private newAcceptor(proc: Proc): Acceptor {
    const s = this.scenario;
    let loaded: ReturnType<typeof AcceptorLog.open> | undefined;
    if (proc.disk !== undefined) {
      loaded = AcceptorLog.open(ACCEPTOR_DIR, WIRE_CLUSTER, proc.id, { create: false, newIdent: () => this.newIdent(), io: proc.disk });
      proc.log = loaded.log;
    }
    const opts: AcceptorOptions = {
      id: proc.id,
      reconfigAlpha: s.reconfig?.alpha,
      acceptors: s.acceptors,
      ident: loaded?.loaded.ident ?? this.newIdent(),
      datagramBytesMax: DATAGRAM_BYTES_MAX,
      catchupDatagramsMax: 8,
      retainInstances: s.retainInstances,
      ...(s.history ? { instancesAheadMax: s.history.instancesAheadMax } : {}),
      gather: this.rng.chance(0.7),
    };
    const m = this.mutant;
    const acceptor =
      m === "accept-lower-round"
        ? new AcceptLowerRound(opts)
        : m === "no-round-binding" || m === "stale-probe"
          ? new NoRoundBinding(opts)
          : m === "forget-decided-hint"
            ? new ForgetDecidedHint(opts)
            : new Acceptor(opts);
    if (loaded !== undefined && (m !== "forget-on-restart" || proc.gen === 1)) acceptor.restore(loaded.loaded.records);
    return acceptor;
  }

  /** A proposer in a fresh incarnation: no memory, a new nonce, rounds above its (skewed) wall clock. */
  private newProposer(proc: Proc): Proposer {
    const s = this.scenario;
    const opts: ProposerOptions = {
      id: proc.id,
      reconfigAlpha: s.reconfig?.alpha,
      acceptors: s.acceptors,
      batchValuesMax: s.batchValuesMax,
      batchBytesMax: batchBytesLimit(DATAGRAM_BYTES_MAX),
      datagramBytesMax: DATAGRAM_BYTES_MAX,
      pipelineWindow: s.pipelineWindow,
      pendingValuesMax: 10_000,
      retransmitMs: s.retransmitMs,
      takeoverMs: s.takeoverMs,
      clientRetransmitMs: SIM_TIMING.clientRetransmitMs,
      catchupDatagramsMax: 8,
      random: () => this.rng.next(),
      roundFloor: Math.max(0, Math.floor(SIM_EPOCH_MS + this.localNow(proc) + proc.wallOffsetMs)) * ROUND_STRIDE,
      retainInstances: s.retainInstances,
      incarnation: this.newIdent(),
      // How long datagrams of an earlier incarnation may still arrive: the longest delay, or until
      // long delays and replays have ended with the faults.
      duplicateGraceMs: Math.max(200, 4 * s.delayMaxMs, s.longDelays > 0 || s.replaysPerSec > 0 ? s.chaosMs + LONG_DELAY_MAX_MS + REPLAY_WINDOW_MS - this.nowMs : 0),
      ...(s.history ? { instancesAheadMax: s.history.instancesAheadMax, catchupInstancesMax: s.history.catchupInstancesMax } : {}),
      gather: this.rng.chance(0.7),
      // Clients learn decisions from the 2Bs (notify) always, never, or under light load.
      notifyBelowInflight: this.rng.pick([0, 2, 8, Infinity]),
      thriftyReports: this.rng.chance(0.5),
      // Hellos on the simulation's time scale (its timers are tens of milliseconds).
      helloEveryMs: s.helloEveryMs,
    };
    switch (this.mutant) {
      case "ignore-vrnd":
        return new IgnoreVRnd(opts);
      case "ignore-echoed-nonce":
        return new IgnoreEchoedNonce(opts);
      case "stale-probe":
        return new StaleProbe(opts);
      case "cap-drops-votes":
        return new CapDropsVotes(opts);
      case "ignore-seen-to":
        return new IgnoreSeenTo(opts);
      case "ack-on-propose":
        return new AckOnPropose(opts);
      case "promise-old-config":
        return new PromiseOldConfig(opts);
      default:
        return new Proposer(opts);
    }
  }

  private newLearner(proc: Proc): Learner {
    const s = this.scenario;
    proc.learnerKey = `${proc.name}#${proc.gen}`;
    const opts: LearnerOptions = {
      id: proc.id,
      reconfigAlpha: s.reconfig?.alpha,
      acceptors: s.acceptors,
      catchupMs: SIM_TIMING.catchupMs,
      idleProbeMaxMs: SIM_TIMING.idleProbeMaxMs,
      ...(s.history ? { startAt: s.history.base, catchupInstancesMax: s.history.catchupInstancesMax } : {}),
      ...(proc.archive ? { archives: true, archive: { store: proc.archive, datagramBytesMax: DATAGRAM_BYTES_MAX, datagramsMax: 8 } } : {}),
    };
    if (this.mutant === "learn-from-one") return new LearnFromOne(opts);
    if (this.mutant === "accounts-without-proof") return new AccountsWithoutProof(opts);
    if (this.mutant === "give-up-on-one-trimmed") return new GiveUpOnOneTrimmed(opts);
    if (this.mutant === "keep-delivered") return new KeepDelivered(opts);
    if (this.mutant === "old-config-quorum") return new OldConfigQuorum(opts);
    return new Learner(opts);
  }

  /** A client; a restarted one is a new client (a new number, seqs from 0), as in the runtime. */
  private newClient(proc: Proc): Client {
    if (proc.gen > 1) this.checker.retireClient(proc.clientNumber);
    proc.clientNumber = proc.id === RECONFIG_CLIENT ? RECONFIG_CLIENT : proc.id + 1000 * (proc.gen - 1);
    const client = new Client({
      id: proc.clientNumber,
      reconfigAlpha: this.scenario.reconfig?.alpha,
      acceptors: this.scenario.acceptors,
      outstandingMax: this.scenario.outstandingMax,
      batchBytesMax: batchBytesLimit(DATAGRAM_BYTES_MAX),
      retransmitMs: SIM_TIMING.clientRetransmitMs,
      gather: this.rng.chance(0.7),
      retransmitMinMs: 10,
      seqBase: 0,
    });
    return client;
  }

  /** Values arrive over time, some during faults; equal contents across clients on purpose. */
  private addClientLoad(proc: Proc): void {
    const s = this.scenario;
    for (let k = 0; k < s.valuesPerClient; k++) {
      const atMs = this.rng.next() * (s.loadMs ?? s.chaosMs);
      const text = this.rng.chance(0.3) ? "same" : `v${proc.id}.${k}`.padEnd(this.rng.chance(0.2) ? this.rng.int(0, 400) : 0, ".");
      this.queue.push(atMs, () => this.submit(proc, [text]));
    }
  }

  /** Values handed to a client (one step); lost when the client is down. */
  private submit(proc: Proc, texts: readonly string[], required = true): void {
    if (!proc.alive) return;
    const client = proc.role as Client;
    const data = texts.map((t) => new TextEncoder().encode(t));
    for (const [k, d] of data.entries()) this.checker.submit({ client: proc.clientNumber, seq: client.seqNext + k, floor: 0, data: d }, required);
    this.guard(proc, () => proc.driver.step({ kind: "submit", lines: linesOf(data), count: data.length }));
  }

  /** A scripted scenario's events: values submitted, the leader crashed for good. */
  private scheduleScript(script: NonNullable<Scenario["script"]>): void {
    for (const e of script) {
      this.queue.push(e.atMs, () => {
        if ("crashLeader" in e) {
          const leader = this.byGroup.proposers.find((p) => p.alive && (p.role as Proposer).isLeader);
          if (leader !== undefined) this.crash(leader);
        } else this.submit(this.byGroup.clients[e.client - 1]!, e.values);
      });
    }
  }

  // ---- faults ----

  private scheduleFaults(): void {
    const s = this.scenario;
    if (s.stranded !== undefined) this.scheduleStranded(s.stranded);
    const at = () => this.rng.next() * s.chaosMs;
    const pick = (kind: Kind, count: number): Proc[] => {
      const members = this.procs.filter((p) => p.kind === kind && !p.name.endsWith("twin") && p.name !== "operator");
      const out: Proc[] = [];
      for (let k = 0; k < count && members.length > 0; k++) out.push(members.splice(this.rng.int(0, members.length - 1), 1)[0]!);
      return out;
    };
    for (const p of pick("acceptor", s.acceptorCrashes)) this.queue.push(at(), () => this.crash(p));
    for (const p of pick("proposer", s.proposerCrashes)) this.queue.push(at(), () => this.crash(p));
    const restart = (p: Proc, downAtMs: number, downForMs: number): void => {
      this.queue.push(downAtMs, () => {
        if (!p.alive) return; // crashed for good meanwhile
        const down = () => {
          this.crash(p, true);
          this.faults.restarts++;
          this.queue.push(this.nowMs + downForMs, () => this.boot(p));
        };
        if (!s.crashAtBadMoments || this.rng.chance(0.5)) return down();
        p.crashAtBadMoment = down;
        this.queue.push(this.nowMs + 200, () => {
          if (p.crashAtBadMoment !== down) return; // struck already
          p.crashAtBadMoment = undefined;
          down();
        });
      });
    };
    const restarts = (p: Proc): void => {
      for (let k = 0; k < s.restartsEach; k++) restart(p, at(), 1 + this.rng.next() * (s.restartsEach > 1 ? 50 : 200));
    };
    for (const p of pick("proposer", s.proposerRestarts)) restarts(p);
    for (const p of pick("learner", s.learnerRestarts)) restarts(p);
    for (const p of pick("client", s.clientRestarts)) restarts(p);
    if (s.durable) {
      const acceptors = this.procs.filter((p) => p.kind === "acceptor");
      for (const p of acceptors.slice(0, s.acceptorRestarts)) restarts(p);
      if (s.wholeClusterRestart) {
        const t = at();
        this.queue.push(t, () => this.faults.wholeClusterRestarts++);
        for (const p of acceptors) restart(p, t + this.rng.next() * 5, 20 + this.rng.next() * 300);
      }
    }
    for (let k = 0; k < s.partitions; k++) this.schedulePartition();
    for (let k = 0; k < s.clockJumps; k++) {
      const p = this.rng.pick(this.procs);
      this.queue.push(at(), () => {
        this.faults.clockJumps++;
        const jump = this.rng.next() * 3000;
        p.clockOffsetMs -= jump; // monotonic clocks only go back by being stepped: seconds at most
        p.wallOffsetMs += this.rng.chance(0.7) ? -jump : 2 * jump;
        this.trace?.(`${this.nowMs.toFixed(2)} CLOCK ${p.name} back ${jump.toFixed(0)} ms`);
      });
    }
    if (s.replaysPerSec > 0) this.scheduleReplays();
  }

  private crash(p: Proc, restarts = false): void {
    if (!p.alive) return;
    if (restarts) this.restarting.add(p);
    else this.restarting.delete(p);
    p.crashAtBadMoment = undefined;
    p.alive = false;
    p.gen++; // its pending timers and commits die with it
    p.disk?.crash(this.rng);
    this.observer?.crashed(this.nowMs, p.name);
    this.trace?.(`${this.nowMs.toFixed(2)} CRASH ${p.name}${restarts ? " (restarts)" : ""}`);
  }

  /** The `stranded` family: proposers other than 1 miss the leader (or everything), then the leader and acceptor 1 crash. */
  private scheduleStranded(st: NonNullable<Scenario["stranded"]>): void {
    const leader = this.byGroup.proposers[0]!;
    const standbys = new Set(this.byGroup.proposers.slice(1));
    const cuts: Cut[] =
      st.standbyCut === "all"
        ? [
            { from: standbys, to: new Set(this.procs.filter((p) => !standbys.has(p))) },
            { from: new Set(this.procs.filter((p) => !standbys.has(p))), to: standbys },
          ]
        : [{ from: new Set([leader]), to: standbys }];
    this.cuts.push(...cuts);
    this.faults.partitions++;
    // Acceptor 3 misses the leader's last 2As: their instances are decided by acceptors 1 and 2
    // alone, and acceptor 1 dies with the leader.
    const lastTwoAs: Cut = { from: new Set([leader]), to: new Set([this.byGroup.acceptors[2]!]) };
    this.queue.push(st.lastTwoAsFromMs, () => this.cuts.push(lastTwoAs));
    cuts.push(lastTwoAs);
    this.queue.push(st.crashAtMs, () => {
      this.crash(leader);
      this.crash(this.byGroup.acceptors[0]!);
      for (const c of cuts) this.cuts.splice(this.cuts.indexOf(c), 1);
    });
  }

  /** A one-way cut, a two-way split, or the current leader isolated with a minority of acceptors. */
  private schedulePartition(): void {
    const s = this.scenario;
    const startMs = this.rng.next() * s.chaosMs;
    const endMs = startMs + this.rng.next() * (s.chaosMs - startMs);
    const kind = this.rng.int(0, 2);
    this.queue.push(startMs, () => {
      if (this.healed) return;
      let cuts: Cut[];
      const others = (set: Set<Proc>) => new Set(this.procs.filter((p) => !set.has(p)));
      if (kind === 0) {
        const from = new Set(this.procs.filter(() => this.rng.chance(0.3)));
        cuts = [{ from, to: new Set([...others(from)].filter(() => this.rng.chance(0.5))) }];
      } else {
        let side: Set<Proc>;
        if (kind === 1) side = new Set(this.procs.filter(() => this.rng.chance(0.4)));
        else {
          const leader = this.byGroup.proposers.find((p) => p.alive && (p.role as Proposer).isLeader);
          const acceptors = this.byGroup.acceptors.slice();
          const minority: Proc[] = [];
          for (let k = 0; k < Math.floor((s.acceptors - 1) / 2); k++) minority.push(acceptors.splice(this.rng.int(0, acceptors.length - 1), 1)[0]!);
          side = new Set([...(leader ? [leader] : []), ...minority]);
        }
        cuts = [
          { from: side, to: others(side) },
          { from: others(side), to: side },
        ];
      }
      this.faults.partitions++;
      this.cuts.push(...cuts);
      this.trace?.(`${this.nowMs.toFixed(2)} PARTITION ${cuts.map((c) => `[${[...c.from].map((p) => p.name)}] -/-> [${[...c.to].map((p) => p.name)}]`).join(" ")}`);
      this.queue.push(endMs, () => {
        for (const c of cuts) this.cuts.splice(this.cuts.indexOf(c), 1);
      });
    });
  }

  /** Copies of authentic datagrams sent in the last seconds, delivered again. */
  private scheduleReplays(): void {
    const s = this.scenario;
    const count = Math.round((s.replaysPerSec * s.chaosMs) / 1000);
    for (let k = 0; k < count; k++) {
      this.queue.push(this.rng.next() * s.chaosMs, () => {
        const fresh = this.recent.filter((r) => this.nowMs - r.atMs <= REPLAY_WINDOW_MS);
        if (fresh.length === 0 || this.healed) return;
        const r = this.rng.pick(fresh);
        this.faults.replays++;
        this.trace?.(`${this.nowMs.toFixed(2)} REPLAY ${r.from.name} -> ${r.group} ${describe(r.msg)}`);
        this.deliverCopies(r.from, r.group, r.msg, r.stamp, r.bytes);
      });
    }
  }

  // ---- the network ----

  private send(from: Proc, group: Group, msg: Message): void {
    const s = this.scenario;
    if (from.crashAtBadMoment !== undefined && from.kind !== "acceptor") {
      // Right after this send (a proposer's 1A or 2A, a client's Submit, a learner's Catchup).
      const crash = from.crashAtBadMoment;
      from.crashAtBadMoment = undefined;
      this.queue.push(this.nowMs, crash);
    }
    this.trace?.(`${this.nowMs.toFixed(2)} ${from.name} -> ${group} ${describe(msg)}`);
    this.observe(msg);
    this.observer?.sent(this.nowMs, from.name, group, msg);
    if (from.kind === "learner" && msg.t === "decision") this.faults.archiveDecisions++;
    const stamp = from.role.stamp(); // what the datagram's header says
    const bytes = s.wire ? encode(msg, this.wireId, stamp) : undefined;
    if (bytes && bytes.length > DATAGRAM_BYTES_MAX) {
      this.checker.fail("datagram-size", `${from.name} sent a ${bytes.length}-byte ${msg.t} (max ${DATAGRAM_BYTES_MAX})`);
    }
    if (s.replaysPerSec > 0 && !this.healed) {
      this.recent.push({ atMs: this.nowMs, from, group, msg, stamp, bytes });
      if (this.recent.length > REPLAY_BUFFER) this.recent.shift();
    }
    this.deliverCopies(from, group, msg, stamp, bytes);
  }

  private deliverCopies(from: Proc, group: Group, msg: Message, stamp: ConfigStamp, bytes: Uint8Array | undefined): void {
    const s = this.scenario;
    for (const proc of this.byGroup[group]) {
      if (proc === from) continue; // a process drops its own datagrams, looped back by multicast
      if (!this.healed && this.cut(from, proc)) continue;
      const copies = this.healed ? 1 : this.rng.chance(s.duplication) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (!this.healed && this.rng.chance(s.loss)) continue;
        let delay = 0.05 + this.rng.next() * (this.healed ? 1 : s.delayMaxMs);
        if (!this.healed && this.rng.chance(s.longDelays)) {
          delay = this.rng.next() * LONG_DELAY_MAX_MS;
          this.faults.longDelays++;
        }
        const received = bytes ? () => decodeStamped(bytes, this.wireId) : () => ({ msg, stamp });
        this.queue.push(this.nowMs + delay, () => {
          if (proc.alive) this.observer?.received(this.nowMs, proc.name, from.name, group, msg);
          this.deliverTo(proc, { kind: "msg", ...received() });
        });
      }
    }
  }

  private cut(from: Proc, to: Proc): boolean {
    for (const c of this.cuts) if (c.from.has(from) && c.to.has(to)) return true;
    return false;
  }

  /** Every vote on the network goes to the checker: one batch per (instance, round). Bounds reached are counted. */
  private observe(msg: Message): void {
    if (msg.t === "1b" || msg.t === "votes") for (const v of msg.votes) this.checker.observeVote(v.inst, v.vRnd, v.vVal, msg.acc);
    else if (msg.t === "2a") for (const p of msg.proposals) this.checker.observeVote(p.inst, msg.cRnd, p.cVal);
    else if (msg.t === "2b") for (const inst of msg.insts) this.checker.observe2B(msg.acc, inst, msg.vRnd);
    const h = this.scenario.history;
    if (msg.t === "1b" && !msg.done) this.faults.multiPiece1Bs++;
    else if (msg.t === "catchup" && msg.to - msg.from === (h?.catchupInstancesMax ?? CATCHUP_INSTANCES_MAX) && msg.seenTo > msg.to) this.faults.catchupsAtLimit++;
    else if (msg.t === "2a" && msg.proposals.some((p) => p.inst >= msg.decidedBelow + (h?.instancesAheadMax ?? INSTANCES_AHEAD_MAX))) this.faults.proposalsBeyondAheadMax++;
  }

  private deliverTo(proc: Proc, input: Input): void {
    if (!proc.alive) return;
    this.guard(proc, () => proc.driver.step(input));
  }

  /** A broken invariant inside a role is a violation of the run (a real process would stop). */
  private guard(proc: Proc, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof InvariantError)) throw e;
      this.checker.fail("invariant", `${proc.name}: ${e.message}`);
    }
  }

  private onEffects(proc: Proc, fx: Effects): void {
    this.observer?.effects(this.nowMs, proc.name, fx, proc.role);
    for (const v of fx.violations) this.checker.fail("violation-report", `${proc.name}: ${v}`);
    for (const a of fx.alerts) {
      this.faults.duplicateIdAlerts++;
      // Acceptor identities never change in a run (durable ones keep theirs in their log), and
      // twin proposers are the only duplicate ids.
      if (a.cause !== "duplicate-id" || !this.scenario.twinProposer) this.checker.fail("false-alarm", `${proc.name}: ${a.reason}`);
    }
    for (const d of fx.deliveredInstances) this.checker.decide(proc.learnerKey, d.inst, d.cVal);
    for (const a of fx.acked) for (let k = 0; k < a.count; k++) this.checker.ack(proc.clientNumber, a.first + k);
    for (const v of valuesOfRuns(fx.delivered)) {
      this.trace?.(`${this.nowMs.toFixed(2)} ${proc.name} DELIVER ${v.client}:${v.seq}`);
      this.checker.deliver(proc.learnerKey, v);
    }
    if (fx.fatal === undefined) return;
    this.trace?.(`${this.nowMs.toFixed(2)} ${proc.name} STOPS: ${fx.fatal.reason}`);
    if (fx.fatal.cause === "trimmed") {
      // What it needs was trimmed: legitimate only when a majority of acceptors really dropped it.
      const next = (proc.role as Learner).nextInstance;
      const trimmed = this.byGroup.acceptors.filter((a) => (a.role as unknown as { trimmedBelow: number }).trimmedBelow > next).length;
      if (trimmed < this.checker.quorum) this.checker.fail("false-alarm", `${proc.name} gave up though only ${trimmed} acceptor(s) dropped instance ${next}: ${fx.fatal.reason}`);
      const server = this.archiveServes(proc, next);
      if (server !== undefined) this.checker.fail("false-alarm", `${proc.name} gave up though ${server}'s archive has instance ${next}: ${fx.fatal.reason}`);
      this.gaveUp++;
    } else if (fx.fatal.cause === "removed") {
      // Legitimate once a change that leaves it out governs every undecided instance: checked at
      // the end, against the decided log (the acceptor may know the decided prefix before any learner).
      if (proc.kind !== "acceptor") this.checker.fail("false-alarm", `${proc.name}: ${fx.fatal.reason}`);
      this.removed.push({ proc, reason: fx.fatal.reason });
      this.faults.removedStops++;
    } else {
      if (fx.fatal.cause !== "duplicate-id" || !this.scenario.twinProposer) this.checker.fail("false-alarm", `${proc.name}: ${fx.fatal.reason}`);
      this.faults.duplicateIdStops++;
    }
    proc.alive = false;
    proc.gen++;
  }

  // ---- when a run is done ----

  private liveLearnerKeys(): string[] {
    return this.byGroup.learners.filter((p) => p.alive).map((p) => p.learnerKey);
  }

  /** Live learners that must have everything (not the ones stranded by a retention limit). */
  private checkedLearners(): string[] {
    return this.byGroup.learners.filter((p) => p.alive && !this.strandedByTrim(p) && !this.strandedByRemoval(p)).map((p) => p.learnerKey);
  }

  /**
   * A learner that needs an instance whose configuration's acceptors are gone (removed by later
   * changes, or crashed for good) cannot get it from the acceptors, as one behind a retention
   * limit cannot (OPERATIONS.md: a learner that must read from the start keeps up, or another's
   * archive serves it). Excused only then, and only when no live learner's archive has it.
   */
  private strandedByRemoval(p: Proc): boolean {
    if (this.scenario.reconfig === undefined) return false;
    const next = (p.role as Learner).nextInstance;
    if (this.archiveServes(p, next) !== undefined) return false;
    const config = this.checker.configOf(next);
    if (config === undefined) return false;
    const serving = this.byGroup.acceptors.filter((a) => (a.alive || this.restarting.has(a)) && config.members.includes(a.id)).length;
    const stranded = serving < Math.floor(config.members.length / 2) + 1;
    if (stranded) this.faults.strandedByRemoval++;
    return stranded;
  }

  private settled(): boolean {
    if (this.byGroup.clients.some((p) => p.alive && (p.role as Client).undecided > 0)) return false;
    if (this.reconfigPending() !== undefined) return false;
    return this.checker.settled(this.liveLearnerKeys());
  }

  /**
   * In the reconfig family: why the operator's changes are not all in force at every live learner
   * yet (all submitted, each one governing where the learner is), or undefined when they are.
   * An idle cluster must still bring a decided change into force.
   */
  private reconfigPending(): string | undefined {
    const r = this.scenario.reconfig;
    if (r === undefined) return undefined;
    if (this.reconfigsSubmitted < r.changes.length) return `the operator submitted ${this.reconfigsSubmitted} of ${r.changes.length} changes (each waits for the one before to govern)`;
    for (const p of this.byGroup.learners) {
      if (!p.alive || this.strandedByRemoval(p)) continue;
      const l = p.role as Learner;
      if (l.config.epoch < r.changes.length || l.nextInstance < l.config.latest.from) {
        return `${p.name} has configuration epoch ${l.config.epoch} (of ${r.changes.length}) and delivered below ${l.nextInstance} (the latest governs from ${l.config.latest.from})`;
      }
    }
    return undefined;
  }

  /** A live learner other than `p` whose archive has instance `inst` (it serves p's Catchups), if any. */
  private archiveServes(p: Proc, inst: number): string | undefined {
    return this.byGroup.learners.find((q) => q !== p && q.alive && q.archive !== undefined && q.archive.size > inst)?.name;
  }

  /**
   * A learner behind what live acceptors retain may be unable to ever catch up: with a dead
   * acceptor, the accounts of a majority may not exist, and no majority says "trimmed" for it to
   * give up (a retention limit the docs state, not a protocol failure). Only then is it excused,
   * and only when no live learner's archive has what it needs (it would serve it).
   */
  private strandedByTrim(p: Proc): boolean {
    if (this.scenario.retainInstances >= 1_000_000) return false;
    const next = (p.role as Learner).nextInstance;
    if (this.archiveServes(p, next) !== undefined) return false;
    // Every acceptor that is not crashed for good (one restarting counts: it comes back).
    const acceptors = this.byGroup.acceptors.filter((a) => a.alive || this.restarting.has(a)).map((a) => a.role as unknown as { trimmedBelow: number });
    const stranded = acceptors.some((a) => a.trimmedBelow > next) && acceptors.filter((a) => a.trimmedBelow <= next).length < Math.floor(this.scenario.acceptors / 2) + 1;
    if (stranded) this.gaveUp++;
    return stranded;
  }
}

function describe(msg: Message): string {
  switch (msg.t) {
    case "submit":
      return `submit ${msg.runs.runList().map((r) => `${r.client}:${r.first}+${r.count}`).join(",")}`;
    case "ack":
      return `ack ${msg.ranges.length / 3} ranges`;
    case "1a":
      return `1a cRnd=${msg.cRnd} nonce=${msg.nonce} from=${msg.from} acc=${msg.acc}`;
    case "1b":
      return `1b acc=${msg.acc} rnd=${msg.rnd} nonce=${msg.nonce} [${msg.from},${msg.to}) done=${msg.done} decidedBelow=${msg.decidedBelow} votes=${msg.votes.map((v) => `${v.inst}@${v.vRnd}`).join(",")}`;
    case "nack":
      return `nack acc=${msg.acc} rnd=${msg.rnd} nonce=${msg.nonce}`;
    case "2a":
      return `2a cRnd=${msg.cRnd} nonce=${msg.nonce} ${msg.proposals.map((p) => `${p.inst}:${p.cVal.length}`).join(",")}`;
    case "2b":
      return `2b acc=${msg.acc} rnd=${msg.vRnd} ${msg.insts.join(",")} decidedBelow=${msg.decidedBelow}${msg.notify.length > 0 ? " notify" : ""}`;
    case "catchup":
      return `catchup [${msg.from},${msg.to}) decidedBelow=${msg.decidedBelow} seenTo=${msg.seenTo}`;
    case "trimmed":
      return `trimmed acc=${msg.acc} below=${msg.below}`;
    case "votes":
      return `votes acc=${msg.acc} [${msg.from},${msg.to}) decidedBelow=${msg.decidedBelow} ${msg.votes.map((v) => `${v.inst}@${v.vRnd}`).join(",")}`;
    case "decision":
      return `decision ${msg.decided.map((d) => d.inst).join(",")}`;
    case "refuse":
      return `refuse acc=${msg.acc} ident=${msg.ident}`;
    case "hello":
      return `hello id=${msg.id} nonce=${msg.nonce}${msg.leading ? " leading" : ""} up=${msg.startedMs}`;
    case "config":
      return `config ${msg.history.map((c) => `e${c.epoch}=[${c.members.join(",")}]@${c.from}`).join(" ")} knownTo=${msg.knownTo}${msg.ask ? " ask" : ""}`;
  }
}

/** One run from its seed; `family` draws the scenario from that family only (see FAMILIES in scenario.ts). */
export function runSeed(seed: number, mutant?: MutantName, trace?: (line: string) => void, family?: Family): RunResult {
  const scenario = randomScenario(new Prng(seed), family);
  return new World(seed, scenario, mutant, trace).run();
}

export function replayCommand(seed: number, mutant?: MutantName, family?: Family): string {
  return `bun run sim -- --seed ${seed} --runs 1${mutant ? ` --mutant ${mutant}` : ""}${family ? ` --family ${family}` : ""}`;
}
