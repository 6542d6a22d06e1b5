import { REPORT_ALL, reportList } from "./notify.ts";
import { majority } from "./tally.ts";
import { NEVER_MS } from "./takeover.ts";

/** Proposers say they are there this often. */
export const HELLO_EVERY_MS = 250;
/** Another proposer not heard for this many Hello periods is taken for gone. */
export const OTHERS_HEARD_HELLOS = 4;
/** Thrifty 2Bs: an acceptor not heard from for this long (every acceptor's 2Bs reach the proposers) is not named a reporter. */
const REPORTER_HEARD_MS = 500;

/**
 * Who a proposer has heard lately, and its own Hellos: another proposer (a Hello, a 2A, a forward,
 * an answer to another incarnation) keeps each round's batches from our 2As, so 2As go to the
 * proposers' group only while one is heard; acceptors heard lately are named reporters of
 * thrifty 2Bs.
 */
export class Presence {
  private helloSentAtMs = NEVER_MS;
  private otherProposerAtMs = NEVER_MS;
  /** When each acceptor was last heard (a 1B or a 2B). */
  private readonly acceptorHeardMs = new Map<number, number>();

  constructor(
    readonly helloEveryMs: number,
    /** Name a majority of reporters in each 2A (else every acceptor reports). */
    private readonly thriftyReports: boolean,
  ) {}

  /** When this proposer's next Hello is due. */
  get nextHelloAtMs(): number {
    return this.helloSentAtMs + this.helloEveryMs;
  }

  helloDue(nowMs: number): boolean {
    return nowMs - this.helloSentAtMs >= this.helloEveryMs;
  }

  helloSent(nowMs: number): void {
    this.helloSentAtMs = nowMs;
  }

  otherProposer(nowMs: number): void {
    this.otherProposerAtMs = nowMs;
  }

  /** Whether another proposer was heard within OTHERS_HEARD_HELLOS Hello periods. */
  otherProposerHeard(nowMs: number): boolean {
    return nowMs - this.otherProposerAtMs <= OTHERS_HEARD_HELLOS * this.helloEveryMs;
  }

  acceptor(acc: number, nowMs: number): void {
    this.acceptorHeardMs.set(acc, nowMs);
  }

  /**
   * The acceptors that report a new 2A's votes to the learners (empty: all). With thrifty 2Bs,
   * a majority of the configuration's `members` (ascending) heard within REPORTER_HEARD_MS,
   * lowest ids first (a stable set); every acceptor when too few were heard.
   */
  reporters(nowMs: number, members: readonly number[]): Uint8Array {
    if (!this.thriftyReports) return REPORT_ALL;
    const quorum = majority(members.length);
    const heard: number[] = [];
    for (const acc of members) {
      if (heard.length >= quorum) break;
      if (nowMs - (this.acceptorHeardMs.get(acc) ?? NEVER_MS) <= REPORTER_HEARD_MS) heard.push(acc);
    }
    return heard.length < quorum ? REPORT_ALL : reportList(heard);
  }
}
