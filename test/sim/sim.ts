/**
 * Deterministic simulation of a whole cluster in one process: the four roles over an in-memory
 * multicast network with seeded loss, duplication, reordering and delay, crashes and late
 * learners. A run is a function of its seed (and mutant): the same seed replays bit for bit.
 */
import { decode, encode } from "../../src/net/codec.ts";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Client } from "../../src/protocol/client.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Effects, Group, Input, Message, PersistRecord, Role } from "../../src/protocol/messages.ts";
import { Proposer, ROUND_STRIDE } from "../../src/protocol/proposer.ts";
import { Prng } from "../../src/prng.ts";
import { SafetyChecker, type Violation } from "./checker.ts";
import { AcceptLowerRound, IgnoreVRnd, LearnFromOne, type MutantName } from "./mutants.ts";

export interface Scenario {
  readonly acceptors: number;
  readonly proposers: number;
  readonly learners: number;
  readonly clients: number;
  readonly valuesPerClient: number;
  readonly batchValuesMax: number;
  readonly pipelineWindow: number;
  readonly outstandingMax: number;
  readonly loss: number;
  readonly duplication: number;
  readonly delayMaxMs: number;
  /** Acceptors that crash (a minority), proposers that crash (never all), at random times. */
  readonly acceptorCrashes: number;
  /** Durable acceptors that crash and restart from what they persisted (any number of them). */
  readonly acceptorRestarts: number;
  readonly proposerCrashes: number;
  /** Proposers that crash and come back with empty memory under the same id. */
  readonly proposerRestarts: number;
  readonly lateLearners: number;
  /** Faults last this long; then the network heals and the run must finish. */
  readonly chaosMs: number;
  /** Short takeover timeouts make proposers compete (and expose more interleavings). */
  readonly takeoverMs: number;
  readonly retransmitMs: number;
  /** Instances acceptors (and proposers) keep below the decided prefix; small values trim. */
  readonly retainInstances: number;
  /** Every datagram goes through the real wire codec (encode, then decode at each receiver). */
  readonly wire: boolean;
}

export function randomScenario(rng: Prng): Scenario {
  const acceptors = rng.pick([3, 3, 5]);
  const proposers = rng.int(1, 3);
  const learners = rng.int(1, 3);
  const lossy = rng.chance(0.75);
  return {
    acceptors,
    proposers,
    learners,
    clients: rng.int(1, 3),
    valuesPerClient: rng.int(1, 12),
    batchValuesMax: rng.pick([1, 1, 2, 3, 8, 100]),
    pipelineWindow: rng.pick([1, 2, 4, 16]),
    outstandingMax: rng.pick([1, 4, 100]),
    loss: lossy ? rng.next() * 0.3 : 0,
    duplication: rng.chance(0.5) ? rng.next() * 0.2 : 0,
    delayMaxMs: rng.pick([0.5, 2, 10, 30]),
    acceptorCrashes: rng.int(0, Math.floor((acceptors - 1) / 2)),
    acceptorRestarts: rng.chance(0.3) ? rng.int(1, acceptors) : 0,
    proposerCrashes: rng.int(0, proposers - 1),
    proposerRestarts: rng.chance(0.3) ? rng.int(1, proposers) : 0,
    lateLearners: rng.int(0, learners - 1),
    chaosMs: rng.int(200, 2000),
    takeoverMs: rng.pick([20, 60, 120]),
    retransmitMs: rng.pick([10, 40]),
    wire: rng.chance(0.125),
    retainInstances: rng.chance(0.25) ? rng.int(1, 8) : 1_000_000,
  };
}

/** Protocol timers in the simulation; the runtime's defaults differ. */
export const SIM_TIMING = {
  clientRetransmitMs: 100,
  catchupMs: 30,
  idleProbeMaxMs: 400,
  tickMs: 5,
} as const;

const DATAGRAM_BYTES_MAX = 1400;
const WIRE_CLUSTER = 7;
const HEALED_LIMIT_MS = 30_000;

interface Proc {
  readonly name: string;
  readonly group: Group;
  role: Role;
  readonly index: number;
  alive: boolean;
  tickAtMs: number;
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
}

export class World {
  readonly rng: Prng;
  readonly checker = new SafetyChecker();
  private readonly queue = new EventQueue();
  private readonly procs: Proc[] = [];
  private readonly clients: Client[] = [];
  /** Each acceptor's durable records, by id. */
  private readonly disks = new Map<number, PersistRecord[]>();
  /** Learners that gave up because what they needed was trimmed. */
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
  ) {
    this.rng = new Prng(seed ^ 0x5eed);
    this.trace = trace;
  }

  run(): RunResult {
    this.build();
    const s = this.scenario;
    this.queue.push(s.chaosMs, () => {
      this.healed = true;
    });
    const limitMs = s.chaosMs + HEALED_LIMIT_MS;
    while (this.queue.size > 0) {
      const ev = this.queue.pop()!;
      if (ev.atMs > limitMs) break;
      this.nowMs = ev.atMs;
      this.events++;
      ev.run();
      if (this.checker.violations.length > 0) break;
      if (this.healed && this.allDelivered()) break;
    }
    if (this.checker.violations.length === 0) this.checker.checkAgreement(this.liveLearners().filter((l) => !this.strandedByTrim(l)));
    return {
      seed: this.seed,
      scenario: s,
      violations: this.checker.violations,
      delivered: Math.min(...this.liveLearners().map((l) => this.checker.deliveredCount(l))),
      submitted: this.checker.submittedCount,
      simMs: this.nowMs,
      events: this.events,
      gaveUp: this.gaveUp,
    };
  }

  private build(): void {
    const s = this.scenario;
    const rng = this.rng;
    const T = SIM_TIMING;
    for (let i = 1; i <= s.acceptors; i++) this.addProc(`acceptor-${i}`, "acceptors", this.newAcceptor(i), i, 0);
    for (let i = 1; i <= s.proposers; i++) this.addProc(`proposer-${i}`, "proposers", this.newProposer(i), i, rng.next() * 20);
    for (let i = 1; i <= s.learners; i++) {
      const opts = { id: i, acceptors: s.acceptors, catchupMs: T.catchupMs, idleProbeMaxMs: T.idleProbeMaxMs };
      const role = this.mutant === "learn-from-one" ? new LearnFromOne(opts) : new Learner(opts);
      const late = i > s.learners - s.lateLearners;
      this.addProc(`learner-${i}`, "learners", role, i, late ? rng.next() * s.chaosMs * 1.5 : 0);
    }
    for (let i = 1; i <= s.clients; i++) this.addClient(i);
    this.scheduleCrashes();
  }

  private addProc(name: string, group: Group, role: Role, index: number, startMs: number): Proc {
    const proc: Proc = { name, group, role, index, alive: false, tickAtMs: Infinity };
    this.procs.push(proc);
    this.queue.push(startMs, () => {
      proc.alive = true;
      this.apply(proc, proc.role.step({ kind: "tick" }, this.nowMs));
    });
    return proc;
  }

  private addClient(id: number): void {
    const s = this.scenario;
    const client = new Client({
      id,
      outstandingMax: s.outstandingMax,
      datagramBytesMax: DATAGRAM_BYTES_MAX,
      retransmitMs: SIM_TIMING.clientRetransmitMs,
      retransmitMinMs: 10,
      seqBase: 0,
    });
    this.clients.push(client);
    const proc = this.addProc(`client-${id}`, "clients", client, id, 0);
    // Values arrive over time, some during faults; equal contents across clients on purpose.
    for (let k = 0; k < s.valuesPerClient; k++) {
      const atMs = this.rng.next() * s.chaosMs;
      const text = this.rng.chance(0.3) ? "same" : `v${id}.${k}`.padEnd(this.rng.chance(0.2) ? this.rng.int(0, 400) : 0, ".");
      const data = new TextEncoder().encode(text);
      this.queue.push(atMs, () => {
        const { seq, fx } = client.submit([data], this.nowMs);
        this.checker.submit({ client: id, seq, floor: 0, data });
        this.apply(proc, fx);
      });
    }
  }

  private scheduleCrashes(): void {
    const s = this.scenario;
    const crash = (group: Group, count: number): void => {
      const members = this.procs.filter((p) => p.group === group);
      for (let k = 0; k < count; k++) {
        const victim = members.splice(this.rng.int(0, members.length - 1), 1)[0]!;
        this.queue.push(this.rng.next() * s.chaosMs, () => {
          victim.alive = false;
          this.trace?.(`${this.nowMs.toFixed(2)} CRASH ${victim.name}`);
        });
      }
    };
    crash("acceptors", s.acceptorCrashes);
    crash("proposers", s.proposerCrashes);
    this.scheduleRestarts();
  }

  /** A proposer in a fresh incarnation: no memory, rounds above the clock (the runtime's rule). */
  private newProposer(id: number): Proposer {
    const s = this.scenario;
    const opts = {
      id,
      acceptors: s.acceptors,
      batchValuesMax: s.batchValuesMax,
      batchBytesMax: DATAGRAM_BYTES_MAX - 100,
      datagramBytesMax: DATAGRAM_BYTES_MAX,
      pipelineWindow: s.pipelineWindow,
      pendingValuesMax: 10_000,
      retransmitMs: s.retransmitMs,
      takeoverMs: s.takeoverMs,
      catchupDatagramsMax: 8,
      random: () => this.rng.next(),
      roundFloor: Math.floor(this.nowMs) * ROUND_STRIDE,
      retainInstances: s.retainInstances,
    };
    return this.mutant === "ignore-vrnd" ? new IgnoreVRnd(opts) : new Proposer(opts);
  }

  /** A durable acceptor restarted from its disk: everything it persisted before it crashed. */
  private newAcceptor(id: number): Acceptor {
    const opts = { id, datagramBytesMax: DATAGRAM_BYTES_MAX, catchupDatagramsMax: 8, retainInstances: this.scenario.retainInstances };
    const acceptor = this.mutant === "accept-lower-round" ? new AcceptLowerRound(opts) : new Acceptor(opts);
    if (this.mutant !== "forget-on-restart") acceptor.restore(this.disks.get(id) ?? []);
    return acceptor;
  }

  /**
   * Crash-restarts: proposers come back with empty memory, durable acceptors with their disk;
   * both under the same id, during the faults.
   */
  private scheduleRestarts(): void {
    const s = this.scenario;
    const restart = (group: Group, count: number, make: (id: number) => Role): void => {
      const members = this.procs.filter((p) => p.group === group);
      for (let k = 0; k < count; k++) {
        const p = members[k]!;
        const downAtMs = this.rng.next() * s.chaosMs;
        const upAtMs = downAtMs + 1 + this.rng.next() * 200;
        this.queue.push(downAtMs, () => {
          if (!p.alive) return; // crashed for good meanwhile
          p.alive = false;
          this.trace?.(`${this.nowMs.toFixed(2)} CRASH ${p.name} (restarts)`);
          this.queue.push(upAtMs, () => {
            p.role = make(p.index);
            p.alive = true;
            p.tickAtMs = Infinity;
            this.trace?.(`${this.nowMs.toFixed(2)} RESTART ${p.name}`);
            this.apply(p, p.role.step({ kind: "tick" }, this.nowMs));
          });
        });
      }
    };
    restart("proposers", s.proposerRestarts, (id) => this.newProposer(id));
    restart("acceptors", s.acceptorRestarts, (id) => this.newAcceptor(id));
  }

  private apply(proc: Proc, fx: Effects): void {
    // What a durable acceptor persists is on its disk before any of its sends leave.
    if (fx.persist.length > 0) {
      const disk = this.disks.get(proc.index) ?? [];
      this.disks.set(proc.index, disk);
      disk.push(...fx.persist);
    }
    for (const d of fx.delivered) {
      this.trace?.(`${this.nowMs.toFixed(2)} ${proc.name} DELIVER ${d.client}:${d.seq}`);
      this.checker.deliver(proc.index, d);
    }
    if (fx.fatal !== undefined) {
      // The learner gave up: what it needs was trimmed. Legitimate only with trimming on.
      this.trace?.(`${this.nowMs.toFixed(2)} ${proc.name} GAVE UP: ${fx.fatal}`);
      if (this.scenario.retainInstances >= 1_000_000) this.checker.fail("agreement", `${proc.name} gave up without trimming: ${fx.fatal}`);
      proc.alive = false;
      this.gaveUp++;
    }
    for (const send of fx.sends) this.multicast(proc, send.to, send.msg);
    if (fx.wakeAtMs < Infinity) this.scheduleTick(proc, Math.max(fx.wakeAtMs, this.nowMs + SIM_TIMING.tickMs));
  }

  private scheduleTick(proc: Proc, atMs: number): void {
    if (atMs >= proc.tickAtMs && proc.tickAtMs > this.nowMs) return;
    proc.tickAtMs = atMs;
    this.queue.push(atMs, () => {
      if (proc.tickAtMs !== atMs) return; // superseded by an earlier tick
      proc.tickAtMs = Infinity;
      this.deliverTo(proc, { kind: "tick" });
    });
  }

  private multicast(from: Proc, group: Group, msg: Message): void {
    const s = this.scenario;
    this.trace?.(`${this.nowMs.toFixed(2)} ${from.name} -> ${group} ${describe(msg)}`);
    const bytes = s.wire ? encode(msg, WIRE_CLUSTER) : undefined;
    if (bytes && bytes.length > DATAGRAM_BYTES_MAX) {
      this.checker.fail("datagram-size", `${from.name} sent a ${bytes.length}-byte ${msg.t} (max ${DATAGRAM_BYTES_MAX})`);
    }
    for (const proc of this.procs) {
      if (proc.group !== group) continue;
      const copies = this.healed ? 1 : this.rng.chance(s.duplication) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (!this.healed && this.rng.chance(s.loss)) continue;
        const delay = 0.05 + this.rng.next() * (this.healed ? 1 : s.delayMaxMs);
        const received = bytes ? () => decode(bytes, WIRE_CLUSTER) : () => msg;
        this.queue.push(this.nowMs + delay, () => this.deliverTo(proc, { kind: "msg", msg: received() }));
      }
    }
  }

  private deliverTo(proc: Proc, input: Input): void {
    if (!proc.alive) return;
    this.apply(proc, proc.role.step(input, this.nowMs));
  }

  /**
   * A learner behind an instance some live acceptor has trimmed may be unable to ever get it (the
   * votes left, and the proposers' copies, may not suffice): with trimming on, that is a
   * configuration limit (retainInstances), not a protocol failure. Counted as gave up.
   */
  private strandedByTrim(learner: number): boolean {
    if (this.scenario.retainInstances >= 1_000_000) return false;
    const l = this.procs.find((p) => p.group === "learners" && p.index === learner)!.role as Learner;
    const trimmed = this.procs.filter((p) => p.group === "acceptors" && p.alive).map((p) => (p.role as unknown as { trimmedBelow: number }).trimmedBelow);
    const stranded = l.nextInstance < Math.max(0, ...trimmed) && this.checker.deliveredCount(learner) < this.checker.submittedCount;
    if (stranded) this.gaveUp++;
    return stranded;
  }

  private liveLearners(): number[] {
    return this.procs.filter((p) => p.group === "learners" && p.alive).map((p) => p.index);
  }

  private allDelivered(): boolean {
    if (this.clients.some((c) => c.undecided > 0)) return false;
    const total = this.checker.submittedCount;
    return this.liveLearners().every((l) => this.checker.deliveredCount(l) === total);
  }
}

function describe(msg: Message): string {
  switch (msg.t) {
    case "submit":
      return `submit ${msg.values.map((v) => `${v.client}:${v.seq}`).join(",")}`;
    case "ack":
      return `ack ${msg.ids.length / 2}`;
    case "1a":
      return `1a cRnd=${msg.cRnd} from=${msg.from}`;
    case "1b":
      return `1b acc=${msg.acc} rnd=${msg.rnd} [${msg.from},${msg.to}) done=${msg.done} votes=${msg.votes.map((v) => `${v.inst}@${v.vRnd}`).join(",")}`;
    case "nack":
      return `nack acc=${msg.acc} rnd=${msg.rnd}`;
    case "2a":
      return `2a cRnd=${msg.cRnd} ${msg.proposals.map((p) => `${p.inst}:${p.cVal.length}`).join(",")}`;
    case "2b":
      return `2b acc=${msg.acc} ${msg.votes.map((v) => `${v.inst}@${v.vRnd}`).join(",")}`;
    case "catchup":
      return `catchup [${msg.from},${msg.to})`;
    case "trimmed":
      return `trimmed acc=${msg.acc} below=${msg.below}`;
    case "votes":
      return `votes acc=${msg.acc} [${msg.from},${msg.to}) decidedBelow=${msg.decidedBelow} ${msg.votes.map((v) => `${v.inst}@${v.vRnd}`).join(",")}`;
    case "decision":
      return `decision ${msg.decided.map((d) => d.inst).join(",")}`;
  }
}

export function runSeed(seed: number, mutant?: MutantName, trace?: (line: string) => void): RunResult {
  const scenario = randomScenario(new Prng(seed));
  return new World(seed, scenario, mutant, trace).run();
}

export function replayCommand(seed: number, mutant?: MutantName): string {
  return `bun run sim -- --seed ${seed} --runs 1${mutant ? ` --mutant ${mutant}` : ""}`;
}
