/**
 * What a learner saw of its latest instances, for its status (and the demo's page): per instance
 * the highest round heard, its batch size, which acceptors voted in that round, whether it was
 * delivered here, and whether it came by catch-up (delivered without a majority of live votes).
 * It watches the messages the learner gets and what it delivers, from outside the protocol role.
 *
 * Cheap on purpose (it sees every datagram): a fixed ring of RECENT_INSTANCES slots indexed by
 * instance number, no allocation per message beyond a voter's first vote in a slot.
 */
import type { Message } from "../protocol/messages.ts";
import { majority } from "../protocol/tally.ts";

export const RECENT_INSTANCES = 32;

export interface RecentInstance {
  readonly inst: number;
  /** The highest round heard for it (0: none yet, only a decision). */
  readonly round: number;
  /** Values in its batch (-1: not known here). */
  readonly values: number;
  /** Acceptors that voted in `round`, ascending. */
  readonly voters: readonly number[];
  readonly delivered: boolean;
  /** Delivered without a majority of live 2Bs: from a Decision, acceptors' accounts, or an archive. */
  readonly caughtUp: boolean;
}

interface Slot {
  inst: number;
  round: number;
  values: number;
  voters: number[];
  delivered: boolean;
}

export class RecentInstances {
  private readonly slots: Slot[];
  private highest = -1;
  private readonly quorum: number;

  constructor(acceptors: number, readonly size = RECENT_INSTANCES) {
    this.slots = Array.from({ length: size }, () => ({ inst: -1, round: 0, values: -1, voters: [], delivered: false }));
    this.quorum = majority(acceptors);
  }

  /** The slot of `inst`, taken over when it held an older instance; undefined when `inst` is older than the window. */
  private slot(inst: number): Slot | undefined {
    if (inst <= this.highest - this.size) return undefined;
    const s = this.slots[inst % this.size]!;
    if (s.inst === inst) return s;
    if (s.inst > inst) return undefined;
    s.inst = inst;
    s.round = 0;
    s.values = -1;
    s.voters = [];
    s.delivered = false;
    if (inst > this.highest) this.highest = inst;
    return s;
  }

  private vote(inst: number, round: number, acc: number, values: number): void {
    const s = this.slot(inst);
    if (s === undefined || round < s.round) return;
    if (round > s.round) {
      s.round = round;
      s.voters = [];
    }
    if (acc > 0 && !s.voters.includes(acc)) s.voters.push(acc);
    if (values >= 0) s.values = values;
  }

  /** A message the learner got (before its role steps it). */
  observe(msg: Message): void {
    if (msg.t === "2b") {
      for (const inst of msg.insts) this.vote(inst, msg.vRnd, msg.acc, -1);
    } else if (msg.t === "2a") {
      for (const p of msg.proposals) this.vote(p.inst, msg.cRnd, 0, p.cVal.length);
    } else if (msg.t === "votes") {
      for (const v of msg.votes) this.vote(v.inst, v.vRnd, msg.acc, v.vVal.length);
    } else if (msg.t === "decision") {
      for (const d of msg.decided) {
        const s = this.slot(d.inst);
        if (s !== undefined) s.values = d.cVal.length;
      }
    }
  }

  /** The learner delivered `inst`, a batch of `values` values. */
  delivered(inst: number, values: number): void {
    const s = this.slot(inst);
    if (s === undefined) return;
    s.delivered = true;
    s.values = values;
  }

  /** The instances in the window, oldest first. */
  snapshot(): RecentInstance[] {
    const out: RecentInstance[] = [];
    for (const s of this.slots) {
      if (s.inst < 0 || s.inst <= this.highest - this.size) continue;
      out.push({
        inst: s.inst,
        round: s.round,
        values: s.values,
        voters: [...s.voters].sort((a, b) => a - b),
        delivered: s.delivered,
        caughtUp: s.delivered && s.voters.length < this.quorum,
      });
    }
    return out.sort((a, b) => a.inst - b.inst);
  }
}
