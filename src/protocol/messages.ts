/**
 * Messages of the protocol, in the specification's notation, and the effects a role asks the
 * runtime to carry out. Pure data: no I/O here.
 *
 * Flow (one multicast group per role):
 *   client   --Submit-->          proposers
 *   proposer --Submit-->          proposers (a standing-by proposer forwards values nobody decides)
 *   proposer --1A-->              acceptors
 *   acceptor --1B/Nack-->         proposers
 *   proposer --2A-->              acceptors, learners and proposers (they keep the batch of each round)
 *   acceptor --2B-->              learners and proposers (the round and instances, no values), and
 *                                 clients when the 2A said whose runs it placed where (`notify`)
 *   proposer --Ack-->             clients (and proposers, answering a forward)
 *   learner  --Catchup-->         acceptors and proposers (and learners, when learners keep archives)
 *   acceptor --Votes/Trimmed-->   learners (answers to a Catchup)
 *   proposer --Decision-->        learners (answers to a Catchup)
 *   learner  --Decision-->        learners (answers to a Catchup, from the learner's archive)
 *   proposer --Refuse-->          acceptors (an acceptor process the cluster does not know under its id)
 *   proposer --Hello-->           proposers (every few hundred milliseconds: it is there, and whether it leads)
 *   any      --Config-->          the group of a sender whose header showed an older configuration
 *                                 epoch, or of one that asked (`paxos reconfigure`)
 *
 * Every message an acceptor sends carries its identity (`ident`), so that a process that is not
 * the acceptor the cluster knows under that id (a second process with the id, or one restarted
 * without its storage) is noticed and refused.
 */

import type { Batch } from "./batch.ts";
import type { ConfigHistory, ConfigStamp, Configuration } from "./configuration.ts";

export { Batch } from "./batch.ts";

/** One accepted (instance, vRnd, vVal) triple held by an acceptor. */
export interface Vote {
  readonly inst: number;
  readonly vRnd: number;
  readonly vVal: Batch;
}

/** One proposal (instance, cVal) of a 2A; the round is the message's cRnd. */
export interface Proposal {
  readonly inst: number;
  readonly cVal: Batch;
}

export interface Submit {
  readonly t: "submit";
  /** Runs of values (a client sends its own; a forward may hold several clients'). */
  readonly runs: Batch;
  /**
   * 0 from a client; a proposer's incarnation nonce when a standing-by proposer forwards values
   * that nobody decides (its own forwards come back to it by multicast loopback, and a forward
   * does not show that their client is still there).
   */
  readonly via: number;
}

/** Decided values, for the clients: `ranges` is flat client, first, count, … (seqs [first, first + count)). */
export interface Ack {
  readonly t: "ack";
  readonly ranges: readonly number[];
}

/**
 * Phase 1A for every instance from `from` upward (proactive Phase 1). A 1A of round 0 is a
 * query: acceptors answer with a Nack carrying their promise and promise nothing.
 */
export interface Phase1A {
  readonly t: "1a";
  readonly cRnd: number;
  /**
   * The sending proposer's incarnation: random per process start. An acceptor binds the round it
   * promises to the incarnation that asked first and refuses that round to any other, so that
   * two processes (a restart, or two processes started with one id) never propose in one round.
   */
  readonly nonce: number;
  readonly from: number;
  /** Every instance below is decided (the proposer's knowledge): acceptors may trim below it. */
  readonly decidedBelow: number;
  /**
   * 0: for every acceptor. Otherwise only acceptor `acc` answers: the proposer asks one acceptor
   * for the next piece of its 1B (asking all would make every piece multiply the answers).
   */
  readonly acc: number;
}

/**
 * Phase 1B: a promise for round `rnd` and the votes of instances in [from, to). When `done`, the
 * acceptor has no vote at or above `to`; otherwise the proposer asks again from `to`
 * (a 1B must fit one datagram, so a long history arrives in pieces).
 */
export interface Phase1B {
  readonly t: "1b";
  readonly acc: number;
  /** The acceptor's identity (see Refuse). */
  readonly ident: number;
  readonly rnd: number;
  /** The nonce of the 1A answered: only the incarnation that asked may count this promise. */
  readonly nonce: number;
  readonly from: number;
  readonly to: number;
  readonly done: boolean;
  readonly votes: readonly Vote[];
  /**
   * Every instance below is decided: the acceptor trimmed its votes there, or a proposer told it
   * so. Votes below are not reported, and the new leader proposes nothing there.
   */
  readonly decidedBelow: number;
}

/**
 * Refusal of a 1A or 2A, or the answer to a round-0 query: the acceptor's promise is `rnd`. A
 * refused round (`cRnd`) equal to `rnd` is bound to another incarnation.
 */
export interface Nack {
  readonly t: "nack";
  readonly acc: number;
  readonly ident: number;
  readonly rnd: number;
  /** The round and nonce of the 1A or 2A answered (round 0: a query). */
  readonly cRnd: number;
  readonly nonce: number;
}

export interface Phase2A {
  readonly t: "2a";
  readonly cRnd: number;
  /** As in Phase1A: acceptors accept only from the incarnation their promise is bound to. */
  readonly nonce: number;
  readonly proposals: readonly Proposal[];
  /** As in Phase1A. */
  readonly decidedBelow: number;
  /**
   * Where this round placed which client runs (notify.ts: inst, client, first, count, …), or
   * empty. Acceptors that vote for an instance of it pass it on in their 2B, which then also goes
   * to the clients: a client learns its values decided from a majority of 2Bs, three message
   * delays after it sent them (Submit, 2A, 2B), without waiting for an Ack.
   */
  readonly notify: Uint8Array;
  /**
   * The acceptors that send their 2B at once (notify.ts: acceptor ids), or empty for all: thrifty
   * 2Bs, where only a majority reports. The others vote without a 2B (a retransmission asks all).
   */
  readonly report: Uint8Array;
}

/**
 * Phase 2B, sent to learners and proposers: acceptor `acc` voted in round `vRnd` (owned by the
 * incarnation `nonce`) for these instances. No batches: a round proposes one batch per instance,
 * which the 2A carried to the learners and which the proposer that sent it keeps, so votes are
 * paired with it by (instance, round). A learner that missed the 2A gets the batch from the
 * acceptors' accounts (Catchup).
 */
export interface Phase2B {
  readonly t: "2b";
  readonly acc: number;
  readonly ident: number;
  readonly vRnd: number;
  readonly nonce: number;
  readonly insts: readonly number[];
  /** Every instance below is decided (what proposers told this acceptor): lets proposers that
   * missed some decisions, and learners, see how far the sequence has got. */
  readonly decidedBelow: number;
  /** The `notify` of the 2As voted for (entries of instances not in `insts` do not count); empty: not for clients. */
  readonly notify: Uint8Array;
}

/** A learner asks for instances [from, to). */
export interface Catchup {
  readonly t: "catchup";
  readonly from: number;
  readonly to: number;
  /**
   * Every instance below is decided, as far as the learner knows (it delivered them, or a
   * proposer said so): acceptors that lost this fact in a restart relearn it.
   */
  readonly decidedBelow: number;
  /**
   * The learner heard of votes or decisions up to here (exclusive). When it stays stuck below
   * this, nobody may be left who can finish the instances it lacks: a proposer then runs Phase 1.
   */
  readonly seenTo: number;
}

/**
 * An acceptor's answer to a Catchup: its current vote, if any, for every instance in [from, to)
 * (an instance of the range without a vote here has none), and the prefix it knows decided.
 */
export interface Votes {
  readonly t: "votes";
  readonly acc: number;
  readonly ident: number;
  readonly from: number;
  readonly to: number;
  readonly decidedBelow: number;
  readonly votes: readonly Vote[];
}

/** An acceptor's answer to a Catchup below what it keeps: instances below `below` are gone. */
export interface Trimmed {
  readonly t: "trimmed";
  readonly acc: number;
  readonly ident: number;
  readonly below: number;
}

/** Instances a proposer saw decided by a majority of 2B, sent in answer to a Catchup. */
export interface Decision {
  readonly t: "decision";
  readonly decided: readonly Proposal[];
  /**
   * Every instance below is decided (the sender's knowledge), also those whose batch it does not
   * have: a learner says so in its next Catchup, acceptors note it, and their accounts then prove
   * those instances decided (the learner recovers them from a majority of accounts).
   */
  readonly decidedBelow: number;
}

/**
 * A proposer tells acceptor process `ident` that the cluster knows another process as acceptor
 * `acc`: its messages are ignored. Acceptor identities are random, drawn when an acceptor's state
 * is created (an in-memory acceptor at every start, a durable one when its log is created), so a
 * second process with one id, or an in-memory acceptor restarted with its id (it forgot its
 * votes), has another identity than the one first seen.
 */
export interface Refuse {
  readonly t: "refuse";
  readonly acc: number;
  readonly ident: number;
}

/**
 * A proposer says it is there, every few hundred milliseconds, to the other proposers: a leader
 * sends its 2As to the proposers' group only while another proposer is heard (nobody else needs
 * them), standbys see whether anyone leads, and two live processes with one id find each other.
 */
export interface Hello {
  readonly t: "hello";
  /** The proposer id. */
  readonly id: number;
  /** The sender's incarnation nonce. */
  readonly nonce: number;
  /** Whether it leads now. */
  readonly leading: boolean;
  /** When it started, by its wall clock (ms): of two processes with one id, the later one stops (id-guard.ts). */
  readonly startedMs: number;
}

/**
 * The configuration history its sender knows (configuration.ts): sent to a group whose member
 * showed an older epoch in a datagram's header, or asked for (`ask`: answer with yours, whatever
 * your epoch; `paxos reconfigure` asks). `group` is the sender's, where answers go.
 */
export interface ConfigMsg {
  readonly t: "config";
  readonly history: readonly Configuration[];
  /** Every change decided below is in `history`. */
  readonly knownTo: number;
  /** The decided prefix the sender knows (the asker learns whether a change is pending). */
  readonly decidedBelow: number;
  readonly ask: boolean;
  readonly group: Group;
}

export type Message = Submit | Ack | Phase1A | Phase1B | Nack | Phase2A | Phase2B | Catchup | Decision | Trimmed | Votes | Refuse | Hello | ConfigMsg;

export type Group = "clients" | "proposers" | "acceptors" | "learners";

export interface Send {
  readonly to: Group;
  readonly msg: Message;
}

/** What a role asks the outside world to do after one step. */
/** Values a learner delivers: seqs [first, first + count) of `client`, whose lines are `lines`. */
export interface Delivered {
  readonly client: number;
  readonly first: number;
  readonly count: number;
  readonly lines: Uint8Array;
}

/** Values of its own a client now knows decided: seqs [first, first + count), first sent at `sentAtMs`. */
export interface Acked {
  readonly first: number;
  readonly count: number;
  readonly sentAtMs: number;
}

/** The empty list most effects hold (one per step would be garbage on every datagram). */
const NONE = Object.freeze([]) as readonly never[];

/** The list with `x` added: the shared empty list is replaced by a list of its own on the first. */
function append<T>(list: readonly T[], x: T): readonly T[] {
  if (list === NONE) return [x];
  (list as T[]).push(x);
  return list;
}

export class Effects {
  readonly sends: Send[] = [];
  /** Learner: values delivered, in the total order (runs, or parts of runs). */
  delivered: readonly Delivered[] = NONE;
  /** Learner: the instances delivered by this step, in order (for an archive). */
  deliveredInstances: readonly Proposal[] = NONE;
  /** Client: its values now known decided. */
  acked: readonly Acked[] = NONE;
  /**
   * Acceptor: state to make durable before any of `sends` leaves (a promise, accepted votes).
   * Without storage the runtime ignores it; with storage it writes and fsyncs first.
   */
  persist: readonly PersistRecord[] = NONE;
  /**
   * Things that a correct cluster never shows, seen in messages (for instance two values voted in
   * one round): the role refused to act on them; the runtime logs and counts each.
   */
  readonly violations: string[] = [];
  /** Operator mistakes the role noticed and goes on despite (the runtime logs and counts them). */
  alerts: readonly Fatal[] = NONE;
  /** The role cannot go on: the process must stop with this cause. */
  fatal: Fatal | undefined = undefined;
  /** Earliest time the role wants a tick; Infinity when it waits only for messages. */
  wakeAtMs = Infinity;

  send(to: Group, msg: Message): void {
    this.sends.push({ to, msg });
  }

  deliver(d: Delivered): void {
    this.delivered = append(this.delivered, d);
  }

  deliverInstance(p: Proposal): void {
    this.deliveredInstances = append(this.deliveredInstances, p);
  }

  ack(a: Acked): void {
    this.acked = append(this.acked, a);
  }

  persistRecord(r: PersistRecord): void {
    this.persist = append(this.persist, r);
  }

  alert(a: Fatal): void {
    this.alerts = append(this.alerts, a);
  }

  wakeAt(ms: number): void {
    if (ms < this.wakeAtMs) this.wakeAtMs = ms;
  }
}

/** Effects of a step that asks for nothing (shared: a role's end of turn with nothing gathered). */
export const NO_EFFECTS: Effects = (() => {
  const fx = new Effects();
  Object.freeze(fx.sends);
  Object.freeze(fx.violations);
  return Object.freeze(fx);
})();

/**
 * Why a role stops (or, as an alert, what it goes on despite): `trimmed`, a learner needs
 * instances that every source dropped; `duplicate-id`, another live process uses this
 * proposer's id; `acceptor-identity`, a process answers as an acceptor the cluster knows as
 * another process (or with an id outside 1..acceptors), or this acceptor was told it is one;
 * `storage`, a learner's archive is damaged; `removed`, this acceptor is in no configuration of
 * the instances still undecided (a change removed it).
 */
export interface Fatal {
  readonly cause: "trimmed" | "duplicate-id" | "acceptor-identity" | "storage" | "removed";
  readonly reason: string;
}

/**
 * What an acceptor must not forget across a restart: its promise (and the incarnation it is bound
 * to), and its votes. `trim` and `decided` save work after a restart (what was dropped, what is
 * known decided); safety does not depend on them. `config` is the configuration history it knew:
 * after a restart of the whole cluster nobody else may know it (configuration.ts).
 */
export type PersistRecord =
  | { readonly kind: "promise"; readonly rnd: number; readonly owner: number }
  | { readonly kind: "vote"; readonly vote: Vote }
  | { readonly kind: "trim"; readonly below: number }
  | { readonly kind: "decided"; readonly below: number }
  | { readonly kind: "config"; readonly history: readonly Configuration[]; readonly knownTo: number };

/**
 * What a role steps on: a message (with its sender's configuration stamp, from the datagram's
 * header), a tick (time passed), or, for a client, values to submit (`count` lines, each ending
 * with a newline).
 */
export type Input =
  | { readonly kind: "msg"; readonly msg: Message; readonly stamp?: ConfigStamp }
  | { readonly kind: "tick" }
  | { readonly kind: "submit"; readonly lines: Uint8Array; readonly count: number };

/** A role: one door in, effects out. `now` is injected; no clock inside. */
export interface Role {
  step(input: Input, nowMs: number): Effects;
  /**
   * The end of a burst of inputs (the runtime: the end of an event-loop turn): a role that
   * gathers output across inputs (its `gather` option) sends it now, merged.
   */
  flush?(nowMs: number): Effects;
  /**
   * Asserts what must always hold of the role's state between steps (TigerBeetle's
   * `invariants()`): a broken one throws InvariantError. The Driver calls it after steps and
   * flushes: every one in tests and the simulator, every 1024th in production (node.ts).
   */
  invariants(): void;
  /** What this role's datagrams say of its configuration history, in their header. */
  stamp(): ConfigStamp;
  /** The configuration history this role knows (configuration.ts). */
  readonly config: ConfigHistory;
}

/**
 * No proposal is more than this many instances above the decided prefix its 2A reports: a
 * pipeline window and a takeover backlog are far smaller. Acceptors refuse proposals beyond it,
 * so that one stray datagram cannot make a later leader fill billions of holes.
 */
export const INSTANCES_AHEAD_MAX = 1_000_000;


/** Bound on the instances one Catchup asks for (and that are answered). */
export const CATCHUP_INSTANCES_MAX = 4096;
