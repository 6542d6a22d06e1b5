import type { Value } from "../../src/protocol/messages.ts";

const idKey = (client: number, seq: number): string => `${client}:${seq}`;

export interface Violation {
  readonly property: "total-order" | "integrity" | "agreement" | "datagram-size";
  readonly detail: string;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Checks safety incrementally, after every delivery: total order (each learner's sequence is a
 * prefix of one reference sequence) and integrity (only submitted values, none twice per
 * learner). `checkAgreement` checks at the end that every live learner delivered every value.
 */
export class SafetyChecker {
  private readonly submitted = new Map<string, Uint8Array>();
  private readonly order: string[] = [];
  private readonly perLearner = new Map<number, { count: number; seen: Set<string> }>();
  readonly violations: Violation[] = [];

  submit(v: Value): void {
    this.submitted.set(idKey(v.client, v.seq), v.data);
  }

  get submittedCount(): number {
    return this.submitted.size;
  }

  deliveredCount(learner: number): number {
    return this.perLearner.get(learner)?.count ?? 0;
  }

  deliver(learner: number, v: Value): void {
    const key = idKey(v.client, v.seq);
    let state = this.perLearner.get(learner);
    if (state === undefined) {
      state = { count: 0, seen: new Set() };
      this.perLearner.set(learner, state);
    }
    const data = this.submitted.get(key);
    if (data === undefined || !sameBytes(data, v.data)) {
      this.fail("integrity", `learner ${learner} delivered ${key}, which no client submitted`);
    }
    if (state.seen.has(key)) this.fail("integrity", `learner ${learner} delivered ${key} twice`);
    state.seen.add(key);
    const pos = state.count++;
    if (pos < this.order.length) {
      if (this.order[pos] !== key) {
        this.fail("total-order", `learner ${learner} delivered ${key} at position ${pos}, another learner ${this.order[pos]}`);
      }
    } else this.order.push(key);
  }

  checkAgreement(liveLearners: readonly number[]): void {
    for (const l of liveLearners) {
      const got = this.deliveredCount(l);
      if (got !== this.submitted.size) {
        this.fail("agreement", `learner ${l} delivered ${got} of ${this.submitted.size} values after the network healed`);
      }
    }
  }

  fail(property: Violation["property"], detail: string): void {
    if (this.violations.length < 10) this.violations.push({ property, detail });
  }
}
