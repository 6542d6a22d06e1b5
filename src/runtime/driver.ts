/**
 * The one place that carries out what a role's step asks for, in the order that safety needs:
 * persist, then send, then schedule the next wake-up (etcd raft's RawNode/Ready). The runtime
 * (sockets, fsync, timers) and the simulator (a simulated network, disk and clock) both drive
 * roles through it, so persist-before-send is written once and tested by the simulator.
 *
 * Group commit: the records of a step are appended to the durable log at once, and its sends are
 * held until `commit()` has made every record appended so far durable; the host calls `commit()`
 * soon after (the runtime at the end of the event-loop turn), so one sync covers many steps.
 *
 * Turns: the first step of a burst of inputs opens a turn and asks the host for its end
 * (`scheduleEndTurn`, before the step, so that the end comes before the group commit the step
 * may ask for); `endTurn()` then lets the role send what it gathered across the burst.
 *
 * Invariants: after a step (or a turn's flush), and before its effects are carried out, the
 * role's `invariants()` are checked: every time by default (tests, the simulator), or every
 * n-th time (production: see node.ts). A broken one throws InvariantError, and nothing of that
 * step leaves.
 */
import type { Effects, Group, Input, Message, PersistRecord, Role } from "../protocol/messages.ts";

/** Where an acceptor's promises and votes go before its replies (see storage/acceptor-log.ts). */
export interface DurableLog {
  append(records: readonly PersistRecord[]): void;
  /** Writes and syncs everything appended so far. */
  commit(): void;
}

export interface DriverHost {
  /** Milliseconds on this process's clock: the `now` every step gets. */
  now(): number;
  /** Sends one message to a group (encoding, signing and the socket, or the simulated network). */
  send(to: Group, msg: Message): void;
  /** Calls `driver.commit()` soon: the end of this event-loop turn. */
  scheduleCommit(): void;
  /** Calls `driver.endTurn()` once the inputs already received are stepped (and before a commit asked for after this). */
  scheduleEndTurn(): void;
  /** Wakes the role with a tick at `atMs` (or earlier). */
  scheduleWake(atMs: number): void;
}

export class Driver {
  /** Sends waiting for the records they depend on to be durable. */
  private held: { to: Group; msg: Message }[] = [];
  private commitScheduled = false;
  private turnOpen = false;
  /** Steps (and flushes) until the next check of the role's invariants. */
  private stepsUntilCheck = 0;

  constructor(
    readonly role: Role,
    protected readonly host: DriverHost,
    private readonly durable?: DurableLog,
    /** The role's own output (deliveries, acks, fatal), after its sends are out or held. */
    private readonly onEffects?: (fx: Effects) => void,
    /** Check the role's invariants after every this-many steps: 1, every step; 0, never. */
    private readonly invariantsEverySteps = 1,
  ) {}

  /** Feeds one input to the role and carries out its effects; the first of a turn opens it. */
  step(input: Input): Effects {
    if (!this.turnOpen) {
      this.turnOpen = true;
      this.host.scheduleEndTurn();
    }
    const fx = this.role.step(input, this.host.now());
    this.checkInvariants();
    this.apply(fx);
    return fx;
  }

  /** The end of a turn: what the role gathered across its inputs goes out (see Role.flush). */
  endTurn(): void {
    if (!this.turnOpen) return;
    this.turnOpen = false;
    if (this.role.flush === undefined) return;
    const fx = this.role.flush(this.host.now());
    this.checkInvariants();
    this.apply(fx);
  }

  private checkInvariants(): void {
    if (this.invariantsEverySteps === 0) return;
    if (--this.stepsUntilCheck > 0) return;
    this.stepsUntilCheck = this.invariantsEverySteps;
    this.role.invariants();
  }

  apply(fx: Effects): void {
    const durable = this.durable;
    if (durable !== undefined && fx.persist.length > 0) durable.append(fx.persist);
    // Records appended and not yet synced (a commit is due): every send waits for them, also one
    // that persists nothing itself (a 2B gathered from earlier steps' votes).
    if (durable !== undefined && (fx.persist.length > 0 || this.commitScheduled)) {
      for (const s of fx.sends) this.held.push(s);
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        this.host.scheduleCommit();
      }
    } else for (const s of fx.sends) this.host.send(s.to, s.msg);
    this.onEffects?.(fx);
    if (fx.wakeAtMs < Infinity) this.host.scheduleWake(fx.wakeAtMs);
  }

  /** Makes every appended record durable, then lets the sends that waited for them go. */
  commit(): void {
    this.commitScheduled = false;
    this.durable?.commit();
    const held = this.held;
    this.held = [];
    for (const s of held) this.host.send(s.to, s.msg);
  }
}
