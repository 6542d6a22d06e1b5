/**
 * Which acceptors decide which instances: the configuration history, changed through the log.
 *
 * A change is a value like any other, decided in some instance c: a line of acceptor ids (the
 * new set, "1,2,4") under the reserved client number RECONFIG_CLIENT, whose seq names the epoch it
 * replaces. It governs every instance from c + RECONFIG_ALPHA on (Lamport's α): whoever knows
 * the decided log below j − α knows the configuration of instance j, and no leader proposes in
 * an instance whose configuration it does not know. Changes are applied in log order by one
 * deterministic rule (`ConfigHistory.apply`), so every process that applies the same log gets
 * the same history; a change that breaks the rule (it names another epoch, or another change is
 * still pending where it is decided) is decided but changes nothing.
 *
 * A process knows the history up to `knownTo`: every change decided below it is in the history,
 * so the configurations of the instances below `horizon` = knownTo + α are known. Learners apply
 * the log they deliver; proposers the decided prefix whose batches they hold. Every datagram's
 * header carries its sender's stamp (epoch, knownTo): a receiver of the same epoch knows the same
 * changes, and may move its knownTo up to the sender's; one of an older epoch is sent the history
 * (`Config`) by the proposers that hear it.
 */
import { assert } from "./assert.ts";
import { readVarint, varintBytes, writeVarint } from "./varint.ts";
import type { Batch } from "./batch.ts";
import { ACCEPTORS_MAX, ACCEPTOR_ID_MIN, CLIENT_NUMBER_MAX } from "./id-limits.ts";

/** Instances between the one that decides a change and the first it governs. */
export const RECONFIG_ALPHA = 256;
/** Configurations a Config message carries, at most (the latest ones). */
export const CONFIG_HISTORY_MAX = 32;
/**
 * The client number configuration changes travel under. No client run has it: its id bits are
 * 1023, above every --id (ROLE_ID_MAX).
 */
export const RECONFIG_CLIENT = CLIENT_NUMBER_MAX;

export interface Configuration {
  /** 0: the configuration of the config file (`acceptors: N`, ids 1 to N); each change adds one. */
  readonly epoch: number;
  /** Acceptor ids, ascending, distinct. */
  readonly members: readonly number[];
  /** The first instance it governs. */
  readonly from: number;
}

/** What every datagram's header says of its sender's history. */
export interface ConfigStamp {
  readonly epoch: number;
  readonly knownTo: number;
}

export function majorityOf(c: Configuration): number {
  return Math.floor(c.members.length / 2) + 1;
}

/** Per configuration, its members as a mask by id (a tally asks for every vote). */
const MASKS = new WeakMap<Configuration, Uint8Array>();

function maskOf(c: Configuration): Uint8Array {
  let mask = MASKS.get(c);
  if (mask === undefined) {
    mask = new Uint8Array(ACCEPTORS_MAX + 1);
    for (const m of c.members) mask[m] = 1;
    MASKS.set(c, mask);
  }
  return mask;
}

/** The members of `c` among `voters`, at least a majority of them. */
export function isQuorumOf(c: Configuration, voters: Iterable<number>): boolean {
  const mask = maskOf(c);
  const need = majorityOf(c);
  let n = 0;
  for (const acc of voters) if (mask[acc] === 1 && ++n >= need) return true;
  return false;
}

/**
 * Acceptor ids as a change's line says them ("1,2,4"): ascending, distinct, each in
 * [ACCEPTOR_ID_MIN, ACCEPTORS_MAX]; undefined when not.
 */
export function parseMembers(text: string): number[] | undefined {
  if (!/^\d{1,3}(,\d{1,3})*$/.test(text)) return undefined;
  const ids = text.split(",").map(Number);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]! < ACCEPTOR_ID_MIN || ids[i]! > ACCEPTORS_MAX) return undefined;
    if (i > 0 && ids[i]! <= ids[i - 1]!) return undefined;
  }
  return ids;
}

export const formatMembers = (members: readonly number[]): string => members.join(",");

const DECODER = new TextDecoder();

/** A history as bytes (a Config message, an acceptor's log): per configuration its epoch, first instance, member count, members; varints. */
export function packHistory(history: readonly Configuration[]): Uint8Array {
  const xs: number[] = [];
  for (const c of history) xs.push(c.epoch, c.from, c.members.length, ...c.members);
  const out = new Uint8Array(xs.reduce((n, x) => n + varintBytes(x), 0));
  let at = 0;
  for (const x of xs) at = writeVarint(out, at, x);
  return out;
}

/**
 * A history from `packHistory`'s bytes: 1 to CONFIG_HISTORY_MAX configurations, consecutive
 * epochs, ascending first instances, valid members; undefined when not.
 */
export function unpackHistory(bytes: Uint8Array, epochMax: number, instanceMax: number): Configuration[] | undefined {
  const out: Configuration[] = [];
  const r = { at: 0 };
  while (r.at < bytes.length) {
    const epoch = readVarint(bytes, r, epochMax);
    const from = readVarint(bytes, r, instanceMax);
    const n = readVarint(bytes, r, ACCEPTORS_MAX);
    if (epoch === undefined || from === undefined || n === undefined || n === 0) return undefined;
    const members: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = readVarint(bytes, r, ACCEPTORS_MAX);
      if (m === undefined) return undefined;
      members.push(m);
    }
    if (parseMembers(members.join(",")) === undefined) return undefined;
    const prev = out[out.length - 1];
    if (prev !== undefined && (epoch !== prev.epoch + 1 || from < prev.from)) return undefined;
    out.push({ epoch, from, members });
  }
  return out.length === 0 || out.length > CONFIG_HISTORY_MAX ? undefined : out;
}

export class ConfigHistory {
  /** Ascending, consecutive epochs; the first may be later than 0 once old ones are dropped. */
  private configs: readonly Configuration[];
  private known = 0;

  constructor(
    initialAcceptors: number,
    /** α: a change decided in c governs from c + alpha (one value per cluster; tests use small ones). */
    readonly alpha: number = RECONFIG_ALPHA,
  ) {
    assert(Number.isInteger(alpha) && alpha >= 1, "α is a positive integer");
    assert(initialAcceptors >= 1 && initialAcceptors <= ACCEPTORS_MAX, "an initial configuration has 1 to ACCEPTORS_MAX acceptors");
    this.configs = [{ epoch: 0, members: Array.from({ length: initialAcceptors }, (_, i) => i + ACCEPTOR_ID_MIN), from: 0 }];
  }

  get latest(): Configuration {
    return this.configs[this.configs.length - 1]!;
  }

  get epoch(): number {
    return this.latest.epoch;
  }

  /** Every change decided below is in the history. */
  get knownTo(): number {
    return this.known;
  }

  /** The configuration of every instance below is known. */
  get horizon(): number {
    return this.known + this.alpha;
  }

  private stampCache: ConfigStamp = { epoch: 0, knownTo: 0 };

  /** (epoch, knownTo), the same object while neither changes (every datagram's header asks). */
  get stamp(): ConfigStamp {
    const c = this.stampCache;
    if (c.epoch !== this.epoch || c.knownTo !== this.known) this.stampCache = { epoch: this.epoch, knownTo: this.known };
    return this.stampCache;
  }

  /** The configurations kept, oldest first (at most CONFIG_HISTORY_MAX); never changed once returned (copy on write). */
  get history(): readonly Configuration[] {
    return this.configs;
  }

  /** The configuration of `inst`; undefined when not known (at or above the horizon, or older than the history kept). */
  configOf(inst: number): Configuration | undefined {
    if (inst >= this.known + this.alpha) return undefined;
    const cs = this.configs;
    for (let i = cs.length - 1; i >= 0; i--) if (cs[i]!.from <= inst) return cs[i];
    return undefined;
  }

  /** Whether `voters` hold a majority of the configuration of `inst` (undefined: not known yet). */
  isQuorum(inst: number, voters: Iterable<number>): boolean | undefined {
    const c = this.configOf(inst);
    return c === undefined ? undefined : isQuorumOf(c, voters);
  }

  /** Whether acceptor `acc` decides in `inst` (undefined: not known yet). */
  isMember(acc: number, inst: number): boolean | undefined {
    const c = this.configOf(inst);
    return c === undefined ? undefined : maskOf(c)[acc] === 1;
  }

  /** Every acceptor id of a configuration that governs `inst` or a later instance (the acceptors still needed). */
  membersFrom(inst: number): Set<number> {
    const out = new Set<number>();
    for (let i = this.configs.length - 1; i >= 0; i--) {
      for (const acc of this.configs[i]!.members) out.add(acc);
      if (this.configs[i]!.from <= inst) break;
    }
    return out;
  }

  /** The latest change when it does not govern `prefix` yet (decided, pending), else undefined. */
  pendingAt(prefix: number): Configuration | undefined {
    return this.latest.from > prefix ? this.latest : undefined;
  }

  /**
   * The decided batch of instance `inst`, in log order: applies its changes. Ignored unless
   * `inst` is `knownTo` (earlier instances are covered; a later one would skip some). Returns the
   * configurations it added.
   */
  apply(inst: number, batch: Batch): Configuration[] {
    if (inst !== this.known) return [];
    this.known = inst + 1;
    if (batch.runs === 0) return [];
    const added: Configuration[] = [];
    for (const c = batch.cursor(); c.next(); ) {
      if (c.client !== RECONFIG_CLIENT) continue;
      let seq = c.first;
      for (const line of DECODER.decode(c.lines).split("\n").slice(0, c.count)) {
        const next = this.change(inst, seq++, line);
        if (next !== undefined) added.push(next);
      }
    }
    return added;
  }

  /** A change line decided in `inst`: applied when it names the latest epoch and none is pending. */
  private change(inst: number, seq: number, line: string): Configuration | undefined {
    const latest = this.latest;
    const members = parseMembers(line);
    if (members === undefined || seq !== latest.epoch || latest.from > inst) return undefined;
    const next = { epoch: latest.epoch + 1, members, from: inst + this.alpha };
    // Copy on write: a history handed out (in a Config message, a persisted record) stays as it was.
    this.configs = [...this.configs, next].slice(-CONFIG_HISTORY_MAX);
    return next;
  }

  /**
   * A peer's stamp. "same": it knows the same changes, and none below its knownTo that are not
   * here, so this history is known as far; "behind": it lacks changes, or knows the same ones
   * but not α instances as far (tell it); "ahead": this process lacks changes (it will be told).
   */
  onStamp(s: ConfigStamp): "same" | "behind" | "ahead" {
    if (s.epoch < this.epoch) return "behind";
    if (s.epoch > this.epoch) return "ahead";
    if (s.knownTo > this.known) this.known = s.knownTo;
    // Same changes, but it knows so little of the log that it cannot use configurations this one
    // knows (it missed batches): tell it how far.
    return s.knownTo + this.alpha <= this.known ? "behind" : "same";
  }

  /**
   * A peer's history and knownTo (a Config message). Adopts what it adds: later epochs, and how
   * far the history is known. Returns whether anything changed, or a violation when the peer's
   * history contradicts this one (cannot happen: both apply one log by one rule).
   */
  merge(history: readonly Configuration[], knownTo: number): { changed: boolean; violation?: string } {
    if (history.length === 0) return { changed: false };
    const theirs = history[history.length - 1]!;
    for (const c of history) {
      const mine = this.configs.find((m) => m.epoch === c.epoch);
      if (mine !== undefined && (mine.from !== c.from || formatMembers(mine.members) !== formatMembers(c.members))) {
        return { changed: false, violation: `two histories disagree on configuration epoch ${c.epoch}: [${formatMembers(mine.members)}] from ${mine.from} here, [${formatMembers(c.members)}] from ${c.from} there` };
      }
    }
    if (theirs.epoch < this.epoch) return { changed: false };
    if (theirs.epoch === this.epoch) {
      const before = this.known;
      this.onStamp({ epoch: theirs.epoch, knownTo });
      return { changed: this.known > before };
    }
    const firstNew = history.findIndex((c) => c.epoch === this.epoch + 1);
    if (firstNew >= 0) this.configs = [...this.configs, ...history.slice(firstNew)];
    else this.configs = [...history]; // a gap: theirs starts later; the older ones are of old instances
    if (this.configs.length > CONFIG_HISTORY_MAX) this.configs = this.configs.slice(-CONFIG_HISTORY_MAX);
    this.known = Math.max(this.known, knownTo);
    return { changed: true };
  }

  invariants(): void {
    assert(this.configs.length >= 1 && this.configs.length <= CONFIG_HISTORY_MAX, "a history keeps 1 to CONFIG_HISTORY_MAX configurations");
    for (let i = 1; i < this.configs.length; i++) {
      const [a, b] = [this.configs[i - 1]!, this.configs[i]!];
      assert(b.epoch === a.epoch + 1, "a history's epochs are consecutive");
      assert(b.from >= a.from + this.alpha, "a change is decided where the one before governs, α before it governs");
    }
    assert(this.latest.from <= this.known - 1 + this.alpha, "every change known was decided below knownTo");
  }
}
