import { ACCEPTORS_MAX, ACCEPTOR_ID_MIN } from "./id-limits.ts";
import { Effects } from "./messages.ts";

/** How often the same refusal is repeated (alert, and Refuse sent), at most. */
const REFUSE_EVERY_MS = 1000;

/**
 * The acceptor processes this role knows, by id: the identity first seen for each (see Refuse).
 * A message from an acceptor id with another identity comes from a second process with that id,
 * or from an in-memory acceptor restarted with it (which forgot its votes): it must not count,
 * or quorums would no longer intersect. Such messages are ignored, and said so (an alert, and,
 * from proposers, a Refuse that makes that process stop). Any acceptor id may speak (a new one
 * joins before a change adds it); only the members of an instance's configuration count there.
 */
export class AcceptorIdentities {
  private readonly known = new Map<number, number>();
  private readonly refusedAtMs = new Map<string, number>();

  constructor(
    /** Send a Refuse to the acceptors group (proposers do; learners only say so). */
    private readonly refuse: boolean,
  ) {}

  /** Whether a message from acceptor `acc` with identity `ident` may count. */
  admit(acc: number, ident: number, nowMs: number, fx: Effects): boolean {
    if (acc >= ACCEPTOR_ID_MIN && acc <= ACCEPTORS_MAX) {
      const known = this.known.get(acc);
      if (known === ident) return true;
      if (known === undefined) {
        this.known.set(acc, ident);
        return true;
      }
    }
    const key = `${acc}:${ident}`;
    if (nowMs - (this.refusedAtMs.get(key) ?? -Infinity) < REFUSE_EVERY_MS) return false;
    if (this.refusedAtMs.size > 1024) this.refusedAtMs.clear();
    this.refusedAtMs.set(key, nowMs);
    if (acc < ACCEPTOR_ID_MIN || acc > ACCEPTORS_MAX) {
      fx.alert({ cause: "acceptor-identity", reason: `ignoring acceptor ${acc}: acceptor ids are ${ACCEPTOR_ID_MIN} to ${ACCEPTORS_MAX}` });
      return false;
    }
    fx.alert({
      cause: "acceptor-identity",
      reason:
        `ignoring a second process answering as acceptor ${acc} (identity ${ident}; the one known is ${this.known.get(acc)}): ` +
        `two acceptor processes with one id, or an acceptor restarted without its storage`,
    });
    if (this.refuse) fx.send("acceptors", { t: "refuse", acc, ident });
    return false;
  }
}
