import type { Batch } from "../../src/protocol/batch.ts";
import type { Value } from "../protocol/values.ts";

const idKey = (client: number, seq: number): string => `${client}:${seq}`;

export interface Violation {
  readonly property:
    | "total-order"
    | "integrity"
    | "agreement"
    | "round-conflict"
    | "liveness"
    | "invariant"
    | "violation-report"
    | "false-alarm"
    | "datagram-size";
  readonly detail: string;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Judges a run as it happens (TigerBeetle's VOPR is the model):
 * - integrity: a learner delivers only submitted values, each once;
 * - total order: every learner's sequence is a prefix of one reference sequence;
 * - agreement per instance: every learner that delivers an instance delivers the same batch, and
 *   an instance chosen before the run (fast-forward history) is delivered with its batch;
 * - one value per round: no two different batches are ever voted for one (instance, round), in
 *   any 2B, 1B or catch-up account on the network;
 * - after healing, every live learner gets every value delivered anywhere and every value of the
 *   live clients (`checkLiveness`).
 */
export class SafetyChecker {
  /** Every value that may be delivered; `required` ones must be (their client is alive). */
  private readonly submitted = new Map<string, { data: Uint8Array; required: boolean }>();
  private readonly order: string[] = [];
  private readonly perLearner = new Map<string, { count: number; seen: Set<string> }>();
  private readonly decisions = new Map<number, Uint8Array>();
  private readonly chosen = new Map<number, Batch>();
  private readonly votes = new Map<string, Uint8Array>();
  private readonly acked = new Set<string>();
  readonly violations: Violation[] = [];

  submit(v: Value, required = true): void {
    this.submitted.set(idKey(v.client, v.seq), { data: v.data, required });
  }

  /** A client incarnation is gone: its values may be delivered, but need not be (unless acked). */
  retireClient(client: number): void {
    for (const [key, s] of this.submitted) if (key.startsWith(`${client}:`) && !this.acked.has(key)) s.required = false;
  }

  /** A client was told this value is decided: every learner must deliver it, whatever becomes of the client. */
  ack(client: number, seq: number): void {
    const key = idKey(client, seq);
    this.acked.add(key);
    const s = this.submitted.get(key);
    if (s === undefined) this.fail("integrity", `client ${client} was acked ${key}, which it never submitted`);
    else s.required = true;
  }

  /** An instance chosen before the run: it must be delivered with this batch. */
  expectChosen(inst: number, batch: Batch): void {
    this.chosen.set(inst, batch);
  }

  get submittedCount(): number {
    return this.submitted.size;
  }

  deliveredCount(learner: string): number {
    return this.perLearner.get(learner)?.count ?? 0;
  }

  deliver(learner: string, v: Value): void {
    const key = idKey(v.client, v.seq);
    let state = this.perLearner.get(learner);
    if (state === undefined) {
      state = { count: 0, seen: new Set() };
      this.perLearner.set(learner, state);
    }
    const s = this.submitted.get(key);
    if (s === undefined || !sameBytes(s.data, v.data)) {
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

  /** A learner delivered instance `inst` as `batch`. */
  decide(learner: string, inst: number, batch: Batch): void {
    const bytes = batch.packed;
    const first = this.decisions.get(inst);
    if (first === undefined) this.decisions.set(inst, bytes);
    else if (!sameBytes(first, bytes)) this.fail("agreement", `learner ${learner} delivered another batch at instance ${inst} than an earlier learner`);
    const truth = this.chosen.get(inst);
    if (truth !== undefined && !sameBytes(truth.packed, bytes)) {
      this.fail("agreement", `learner ${learner} delivered instance ${inst}, chosen before the run, with another batch`);
    }
  }

  /** A vote seen on the network (2B, 1B or a catch-up account). */
  observeVote(inst: number, vRnd: number, vVal: Batch): void {
    const key = `${inst}:${vRnd}`;
    const bytes = vVal.packed;
    const first = this.votes.get(key);
    if (first === undefined) this.votes.set(key, bytes);
    else if (first !== bytes && !sameBytes(first, bytes)) this.fail("round-conflict", `two different batches voted for instance ${inst} in round ${vRnd}`);
  }

  /** Whether every live learner has everything it must have (the run may end). */
  settled(liveLearners: readonly string[]): boolean {
    return liveLearners.every((l) => this.missing(l) === undefined);
  }

  /** After healing and the time bound: every live learner must have got everything. */
  checkLiveness(liveLearners: readonly string[]): void {
    for (const l of liveLearners) {
      const why = this.missing(l);
      if (why !== undefined) this.fail("liveness", `learner ${l} ${why} after the network healed`);
    }
  }

  private missing(learner: string): string | undefined {
    const got = this.deliveredCount(learner);
    if (got < this.order.length) return `delivered ${got} of the ${this.order.length} values delivered elsewhere`;
    const seen = this.perLearner.get(learner)?.seen;
    for (const [key, s] of this.submitted) if (s.required && !seen?.has(key)) return `never delivered ${key}`;
    return undefined;
  }

  fail(property: Violation["property"], detail: string): void {
    if (this.violations.length < 10) this.violations.push({ property, detail });
  }
}
