import { Batch } from "../../src/protocol/batch.ts";
import { ConfigHistory, RECONFIG_CLIENT, isQuorumOf, type Configuration } from "../../src/protocol/configuration.ts";
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
 * - one value chosen per instance: from the votes acceptors send (2B, 1B, accounts), an instance
 *   is chosen in a round once a majority of acceptors voted in it; a second round of that
 *   instance chosen with another batch is a violation, whether or not any learner delivers either
 *   (the batch of a round is the one its 2A or a vote carrying it names);
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
  /** Per (instance, round): the acceptors seen voting in it. */
  private readonly voters = new Map<string, Set<number>>();
  /** Per instance: the batch chosen (the first round a majority voted in), once known. */
  private readonly chosenByVotes = new Map<number, { vRnd: number; bytes: Uint8Array | undefined }>();
  /** Acceptors in the cluster (a majority chooses). */
  quorum = 2;
  /**
   * With reconfigurations: the configuration history of the decided log (the first decision of
   * each instance, applied in order by the protocol's own rule), instead of `quorum`.
   */
  private configs: ConfigHistory | undefined;
  private readonly decidedBatches = new Map<number, Batch>();
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
    else if (client !== RECONFIG_CLIENT) s.required = true; // a configuration change is decided, never delivered as a value
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

  /** The acceptor set changes through the log: quorums are majorities of each instance's configuration. */
  trackConfigurations(initialAcceptors: number, alpha: number): void {
    this.configs = new ConfigHistory(initialAcceptors, alpha);
    this.quorum = Infinity; // chosen rounds are found at the end, per configuration (checkChosenAtEnd)
  }

  /** The configuration of `inst` by the decided log (undefined: without reconfigurations, or not known). */
  configOf(inst: number): Configuration | undefined {
    return this.configs?.configOf(inst);
  }

  /** The configuration epoch the decided log reached (0 without reconfigurations). */
  get epoch(): number {
    return this.configs?.epoch ?? 0;
  }

  /**
   * Whether acceptor `acc` is a member of the latest configuration the decided log made (learners
   * may not have delivered up to where it governs when the run ends; the acceptor may know more).
   */
  stillMember(acc: number): boolean {
    return this.configs?.latest.members.includes(acc) ?? true;
  }

  /** A learner delivered instance `inst` as `batch`. */
  decide(learner: string, inst: number, batch: Batch): void {
    const bytes = batch.packed;
    const first = this.decisions.get(inst);
    if (first === undefined) {
      this.decisions.set(inst, bytes);
      if (this.configs !== undefined) {
        this.decidedBatches.set(inst, batch);
        for (let k = this.configs.knownTo; this.decidedBatches.has(k); k++) this.configs.apply(k, this.decidedBatches.get(k)!);
      }
    }
    else if (!sameBytes(first, bytes)) this.fail("agreement", `learner ${learner} delivered another batch at instance ${inst} than an earlier learner`);
    const truth = this.chosen.get(inst);
    if (truth !== undefined && !sameBytes(truth.packed, bytes)) {
      this.fail("agreement", `learner ${learner} delivered instance ${inst}, chosen before the run, with another batch`);
    }
  }

  /**
   * What a round proposed or an acceptor voted for (a 2A, or a vote carried by a 1B or an account):
   * the batch of (instance, round), and, for a vote, its acceptor (`acc` 0: a 2A, no vote).
   */
  observeVote(inst: number, vRnd: number, vVal: Batch, acc = 0): void {
    const key = `${inst}:${vRnd}`;
    const bytes = vVal.packed;
    const first = this.votes.get(key);
    if (first === undefined) this.votes.set(key, bytes);
    else if (first !== bytes && !sameBytes(first, bytes)) this.fail("round-conflict", `two different batches voted for instance ${inst} in round ${vRnd}`);
    if (acc !== 0) this.observe2B(acc, inst, vRnd);
    else this.checkChosen(inst);
  }

  /** Acceptor `acc` voted in round `vRnd` for `inst` (a 2B: no batch). */
  observe2B(acc: number, inst: number, vRnd: number): void {
    const key = `${inst}:${vRnd}`;
    let set = this.voters.get(key);
    if (set === undefined) this.voters.set(key, (set = new Set()));
    if (set.has(acc)) return;
    set.add(acc);
    if (set.size !== this.quorum) return;
    const known = this.chosenByVotes.get(inst);
    if (known === undefined) this.chosenByVotes.set(inst, { vRnd, bytes: undefined });
    else if (known.vRnd !== vRnd) this.compareChosen(inst, known, vRnd);
    this.checkChosen(inst);
  }

  /** Fills in the chosen batch of an instance once its round's batch is known; compares rounds chosen. */
  private checkChosen(inst: number): void {
    const c = this.chosenByVotes.get(inst);
    if (c === undefined || c.bytes !== undefined) return;
    c.bytes = this.votes.get(`${inst}:${c.vRnd}`);
  }

  private readonly chosenRounds = new Map<number, number[]>();

  private compareChosen(inst: number, first: { vRnd: number }, vRnd: number): void {
    // Rounds chosen at one instance must all have one batch: compared whenever both batches are known.
    const rounds = this.chosenRounds.get(inst) ?? [first.vRnd];
    rounds.push(vRnd);
    this.chosenRounds.set(inst, rounds);
    const batches = rounds.map((r) => this.votes.get(`${inst}:${r}`)).filter((b): b is Uint8Array => b !== undefined);
    for (const b of batches) {
      if (!sameBytes(b, batches[0]!)) {
        this.fail("agreement", `instance ${inst} was chosen in rounds ${rounds.join(", ")} with different batches (from the acceptors' votes)`);
        return;
      }
    }
  }

  /**
   * With reconfigurations, at the end: a round is chosen at an instance once a majority of the
   * instance's configuration voted in it; rounds chosen at one instance must have one batch, and
   * every instance a learner delivered must have been chosen with its batch (a decision without a
   * majority of its configuration is a violation).
   */
  private checkChosenByConfiguration(): void {
    const c = this.configs!;
    const chosen = new Map<number, number[]>();
    for (const [key, voters] of this.voters) {
      const [inst, vRnd] = key.split(":").map(Number) as [number, number];
      const config = c.configOf(inst);
      if (config === undefined || !isQuorumOf(config, voters)) continue;
      const rounds = chosen.get(inst) ?? [];
      rounds.push(vRnd);
      chosen.set(inst, rounds);
    }
    for (const [inst, rounds] of chosen) {
      const batches = rounds.map((r) => this.votes.get(`${inst}:${r}`)).filter((b): b is Uint8Array => b !== undefined);
      if (batches.some((b) => !sameBytes(b, batches[0]!))) this.fail("agreement", `instance ${inst} was chosen in rounds ${rounds.join(", ")} with different batches (majorities of its configuration's votes)`);
    }
    for (const [inst, bytes] of this.decisions) {
      const config = c.configOf(inst);
      if (config === undefined) continue;
      const rounds = chosen.get(inst) ?? [];
      if (!rounds.some((r) => { const b = this.votes.get(`${inst}:${r}`); return b !== undefined && sameBytes(b, bytes); })) {
        this.fail("agreement", `instance ${inst} was delivered without a majority of its configuration (epoch ${config.epoch}: acceptors ${config.members.join(",")}) voting for its batch`);
      }
    }
  }

  /** At the end of a run: rounds chosen at one instance whose batches became known late are compared too. */
  checkChosenAtEnd(): void {
    if (this.configs !== undefined) return this.checkChosenByConfiguration();
    for (const [inst, rounds] of this.chosenRounds) {
      const batches = rounds.map((r) => this.votes.get(`${inst}:${r}`)).filter((b): b is Uint8Array => b !== undefined);
      if (batches.some((b) => !sameBytes(b, batches[0]!))) this.fail("agreement", `instance ${inst} was chosen in rounds ${rounds.join(", ")} with different batches (from the acceptors' votes)`);
    }
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
