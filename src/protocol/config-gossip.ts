/**
 * How configuration histories spread: every role keeps one (ConfigHistory) and runs each input
 * through `ConfigGossip.onInput`. A datagram's header stamp of the same epoch moves how far the
 * history is known; one of an older epoch makes this process send its history to the sender's
 * group (at most every CONFIG_PUSH_EVERY_MS per group); a Config message is merged, and answered
 * when it asks.
 */
import { ConfigHistory } from "./configuration.ts";
import type { Effects, Group, Input, Message } from "./messages.ts";

/** A group is sent this process's history at most this often. */
export const CONFIG_PUSH_EVERY_MS = 200;

/** The groups a message's sender belongs to (the ones a Config for it goes to). */
export function senderGroups(msg: Message): readonly Group[] {
  switch (msg.t) {
    case "submit":
      return msg.via === 0 ? ["clients"] : ["proposers"];
    case "ack":
    case "1a":
    case "2a":
    case "hello":
    case "refuse":
      return ["proposers"];
    case "1b":
    case "nack":
    case "2b":
    case "votes":
    case "trimmed":
      return ["acceptors"];
    case "catchup":
      return ["learners"];
    case "decision":
      return ["proposers", "learners"]; // proposers answer Catchups, and so do learners' archives
    case "config":
      return [msg.group];
  }
}

export class ConfigGossip {
  readonly history: ConfigHistory;
  private readonly pushedAtMs = new Map<Group, number>();

  constructor(
    initialAcceptors: number,
    /** This role's group (where answers to its Config questions come). */
    private readonly group: Group,
    /** The decided prefix this role knows, said in its Config messages. */
    private readonly decidedBelow: () => number,
    /** α (configuration.ts); the cluster's, RECONFIG_ALPHA unless a test says otherwise. */
    alpha?: number,
  ) {
    this.history = new ConfigHistory(initialAcceptors, alpha);
  }

  /** The highest decided prefix a Config answer said (0: none heard yet). */
  answeredDecidedBelow = 0;
  /** Config answers heard. */
  answers = 0;

  /** Asks the proposers for their history (they answer with a Config to this role's group). */
  ask(fx: Effects, to: Group = "proposers"): void {
    const h = this.history;
    fx.send(to, { t: "config", history: h.history, knownTo: h.knownTo, decidedBelow: this.decidedBelow(), ask: true, group: this.group });
  }

  private readonly askedAtMs = new Map<Group, number>();

  /** Asks `to` for its history, at most once per CONFIG_PUSH_EVERY_MS. */
  private askOnce(to: Group, nowMs: number, fx: Effects): void {
    if (nowMs - (this.askedAtMs.get(to) ?? -Infinity) < CONFIG_PUSH_EVERY_MS) return;
    this.askedAtMs.set(to, nowMs);
    this.ask(fx, to);
  }

  /** Runs an input's stamp (and a Config message) through the history. */
  onInput(input: Input, nowMs: number, fx: Effects): void {
    if (input.kind !== "msg") return;
    const msg = input.msg;
    if (msg.t === "config") {
      const r = this.history.merge(msg.history, msg.knownTo);
      if (r.violation !== undefined) fx.violations.push(r.violation);
      if (msg.ask) this.push(msg.group, nowMs, fx, true);
      else if (msg.group === "proposers") {
        this.answers++;
        this.answeredDecidedBelow = Math.max(this.answeredDecidedBelow, msg.decidedBelow);
      }
    }
    const said = input.stamp === undefined ? "same" : this.history.onStamp(input.stamp);
    if (said === "behind") for (const g of senderGroups(msg)) this.push(g, nowMs, fx, false);
    // A sender that knows a later epoch may never hear this process's stamp (an idle leader
    // sends learners nothing): ask it.
    else if (said === "ahead") for (const g of senderGroups(msg)) this.askOnce(g, nowMs, fx);
  }

  private push(to: Group, nowMs: number, fx: Effects, answer: boolean): void {
    if (!answer && nowMs - (this.pushedAtMs.get(to) ?? -Infinity) < CONFIG_PUSH_EVERY_MS) return;
    this.pushedAtMs.set(to, nowMs);
    const h = this.history;
    fx.send(to, { t: "config", history: h.history, knownTo: h.knownTo, decidedBelow: this.decidedBelow(), ask: false, group: this.group });
  }
}
