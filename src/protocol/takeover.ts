import { assert } from "./assert.ts";

/**
 * Takeover waits grow 2^k-fold after k attempts that ended preempted with no decision seen since,
 * up to this k (16 ×: at most 9.6 s with the default takeoverMs).
 */
const BACKOFF_EXPONENT_MAX = 4;

/** A time long before any other: every "within the last X ms" test fails for it. */
export const NEVER_MS = -Infinity;

/**
 * When a standing-by proposer takes over, and what it has seen that bears on it: the last
 * decision (progress), the last sign of a leader, a hole learners report, values nobody decides
 * (forwarded to the leader first), and the randomized backoff that ends duels.
 *
 * Its work, any of which makes a takeover due a delay after it began:
 * - values waiting while no decision at all was seen (the leader is gone);
 * - values of a client nobody decides, still undecided a delay after they were forwarded to the
 *   leader (the leader cannot hear that client, nor this proposer);
 * - a hole: instances below one that exists (decided, or voted as a stuck learner reports) that
 *   are not known decided, with no progress through them;
 * - no leader heard (no Hello saying so, no 2A, no decision) for `leaderGoneMs`: it is gone, work
 *   or not (an idle cluster must have a leader when work comes).
 *
 * The delay is takeoverMs × (1 + random) × 2^k, drawn again whenever the proposer stands by or
 * sees a higher round (someone else is taking over: let them finish).
 */
export class TakeoverTimer {
  /** Takeover attempts that ended preempted since the last decision seen. */
  private failedAttempts = 0;
  private delay: number;
  private notBeforeMs = 0;
  private lastDecisionMs = 0;
  private leaderHeardAtMs = NEVER_MS;
  /** Instances up to here exist (decided, or voted as a stuck learner reports): below is a hole to fill. */
  private top = -1;
  /** Since when the hole has had no progress, and where it started then (undefined: no hole). */
  private hole: { sinceMs: number; from: number } | undefined;
  /** Since when values were forwarded to the leader and are still undecided (undefined: none). */
  private starvingSinceMs: number | undefined;
  private lastForwardMs = NEVER_MS;

  constructor(
    private readonly takeoverMs: number,
    /** Injected randomness in [0, 1). */
    private readonly random: () => number,
    /** No sign of a leader for this long: it is gone. */
    private readonly leaderGoneMs: number,
  ) {
    this.delay = takeoverMs;
  }

  /** The highest instance known to exist (decided, or voted as a learner reported); -1: none. */
  get holeTop(): number {
    return this.top;
  }

  /** An attempt of ours ended preempted: the next wait doubles (up to the cap). */
  preempted(): void {
    this.failedAttempts = Math.min(this.failedAttempts + 1, BACKOFF_EXPONENT_MAX);
  }

  /** No takeover before a new random delay from now. */
  defer(nowMs: number): void {
    this.delay = this.takeoverMs * (1 + this.random()) * 2 ** this.failedAttempts;
    this.notBeforeMs = nowMs + this.delay;
  }

  /** Something was decided, whoever's: whoever leads is alive, and contention is over. */
  progress(nowMs: number): void {
    this.lastDecisionMs = nowMs;
    this.failedAttempts = 0;
  }

  /** Another proposer was heard leading (a Hello saying so, its 2A), or someone took a round. */
  leaderHeard(nowMs: number): void {
    this.leaderHeardAtMs = nowMs;
  }

  /** Whether a leader was heard within the leader-gone period. */
  leaderHeardLately(nowMs: number): boolean {
    return nowMs - this.leaderHeardAtMs <= this.leaderGoneMs;
  }

  /** A learner heard of votes up to `top`: instances below exist. */
  holeReported(top: number): void {
    this.top = Math.max(this.top, top);
  }

  /** Starts or re-arms the hole timer after each step: a hole exists, and progress through it re-arms it. */
  trackHole(firstUndecided: number, maxDecided: number, nowMs: number): void {
    this.top = Math.max(this.top, maxDecided);
    if (firstUndecided > this.top) this.hole = undefined;
    else if (this.hole === undefined || firstUndecided > this.hole.from) this.hole = { sinceMs: nowMs, from: firstUndecided };
  }

  /** Whether forwarding starving values is due (at most once per takeoverMs). */
  forwardDue(nowMs: number): boolean {
    return nowMs - this.lastForwardMs >= this.takeoverMs;
  }

  /** When the next forward may go. */
  nextForwardAtMs(nowMs: number): number {
    return Math.max(nowMs, this.lastForwardMs) + this.takeoverMs;
  }

  /** Starving values were forwarded now (`starving` false: none were starving any more). */
  forwarded(nowMs: number, starving: boolean): void {
    if (!starving) {
      this.starvingSinceMs = undefined;
      return;
    }
    this.lastForwardMs = nowMs;
    this.starvingSinceMs ??= nowMs;
  }

  /** When a takeover is due, given when the oldest value still waiting arrived (undefined: none). */
  dueAtMs(oldestWaitingMs: number | undefined): number {
    let at = Math.max(this.leaderHeardAtMs, this.lastDecisionMs) + this.leaderGoneMs + this.delay;
    if (oldestWaitingMs !== undefined) at = Math.min(at, Math.max(oldestWaitingMs, this.lastDecisionMs) + this.delay);
    if (this.starvingSinceMs !== undefined) at = Math.min(at, this.starvingSinceMs + this.delay);
    if (this.hole !== undefined) at = Math.min(at, this.hole.sinceMs + this.delay);
    return Math.max(at, this.notBeforeMs);
  }

  invariants(): void {
    assert(this.failedAttempts >= 0 && this.failedAttempts <= BACKOFF_EXPONENT_MAX, "takeover backoff stays within its cap");
    assert(this.delay >= this.takeoverMs && this.delay <= this.takeoverMs * 2 ** (BACKOFF_EXPONENT_MAX + 1), "a takeover delay is takeoverMs × [1, 2) × 2^k");
    assert(this.hole === undefined || this.hole.from <= this.top, "a hole lies below an instance that exists");
  }
}
