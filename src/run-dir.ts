/**
 * A run's directory (`paxos demo --logs DIR`, logs/ of scripts/run.sh, the benchmarks' and the
 * soak's): the one place that knows its files' names, and the one reader of files that grow
 * while a run goes on (FileTail).
 *
 *   config.json              the config every process of the run got
 *   pids                     `pid name` of each running process (scripts/cleanup.sh stops them)
 *   <name>.log               a process's stderr, appended across its restarts (name: role-id)
 *   <name>.status.json       its status file (src/runtime/status.ts)
 *   <name>.control.json      its control file, in a live run (src/runtime/control.ts)
 *   values-client-N.txt      what client N was given to propose (its stdin), one value a line
 *   learner-N.txt            what learner N delivered (its stdout), one value a line
 *   latency-client-N.tsv     client N's latency log (format: src/report/latency-log.ts)
 *   latency-learner-N.tsv    when learner N delivered each value (same module)
 *   report.html              the latency report (src/report/files.ts)
 *   acceptors/               durable acceptors' logs, when a run keeps them here (soak, bench)
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The numbered files of a run, by what they hold: N is the client's or the learner's id. */
const NUMBERED = {
  proposed: /^values-client-(\d+)\.txt$/,
  learned: /^learner-(\d+)\.txt$/,
  clientLatency: /^latency-client-(\d+)\.tsv$/,
  learnerLatency: /^latency-learner-(\d+)\.tsv$/,
} as const;

export type RunFileKind = keyof typeof NUMBERED;

/** A file of a run that holds one client's or one learner's data. */
export interface NumberedFile {
  /** The client's or learner's id. */
  readonly n: number;
  readonly name: string;
  readonly path: string;
}

/** Files an earlier run left in a directory, which a new run there replaces. */
const RUN_FILE = /^(values-client-\d+\.txt|learner-\d+\.txt|latency-(client|learner)-\d+\.tsv|(client|proposer|acceptor|learner)-\d+\.(log|status\.json|control\.json)|pids|config\.json|report\.html)$/;

export class RunDir {
  constructor(readonly path: string) {}

  private file(name: string): string {
    return join(this.path, name);
  }

  get config(): string {
    return this.file("config.json");
  }

  get pids(): string {
    return this.file("pids");
  }

  get report(): string {
    return this.file("report.html");
  }

  /** Where a run keeps its durable acceptors' logs, when it keeps them with the rest. */
  get storage(): string {
    return this.file("acceptors");
  }

  log(name: string): string {
    return this.file(`${name}.log`);
  }

  status(name: string): string {
    return this.file(`${name}.status.json`);
  }

  control(name: string): string {
    return this.file(`${name}.control.json`);
  }

  proposed(client: number): string {
    return this.file(`values-client-${client}.txt`);
  }

  learned(learner: number): string {
    return this.file(`learner-${learner}.txt`);
  }

  clientLatency(client: number): string {
    return this.file(`latency-client-${client}.tsv`);
  }

  learnerLatency(learner: number): string {
    return this.file(`latency-learner-${learner}.tsv`);
  }

  /** The files of one kind in the directory, by id. */
  list(kind: RunFileKind): NumberedFile[] {
    return RunDir.numbered(readdirSync(this.path), kind).map((f) => ({ ...f, path: this.file(f.name) }));
  }

  /** Of `names`, those of one kind, by id. */
  static numbered(names: readonly string[], kind: RunFileKind): Omit<NumberedFile, "path">[] {
    return names
      .flatMap((name) => {
        const m = NUMBERED[kind].exec(name);
        return m ? [{ n: Number(m[1]), name }] : [];
      })
      .sort((a, b) => a.n - b.n);
  }

  /** Removes what an earlier run left here (this run's files; other files stay). */
  removeEarlierRun(): void {
    for (const f of readdirSync(this.path)) if (RUN_FILE.test(f)) rmSync(this.file(f));
  }
}

/**
 * A file that grows (a learner's output, a latency log): each read returns what was appended
 * since the last one, reading only that. A file that does not exist yet reads as empty. lines()
 * and count() share one reading position: use one of them per tail.
 */
export class FileTail {
  private offset = 0;
  /** The bytes after the last newline read: the start of a line not complete yet. */
  private partial: Uint8Array = new Uint8Array();
  private complete = 0;
  private readonly decoder = new TextDecoder();

  constructor(readonly path: string) {}

  /** The complete lines appended since the last read. */
  async lines(): Promise<string[]> {
    const fresh = await this.fresh();
    const end = fresh.lastIndexOf(0x0a);
    if (end === -1) {
      if (fresh.length > 0) this.partial = concat(this.partial, fresh);
      return [];
    }
    const lines = this.decoder.decode(concat(this.partial, fresh.subarray(0, end))).split("\n");
    this.partial = fresh.slice(end + 1);
    this.complete += lines.length;
    return lines;
  }

  /** How many complete lines the file holds (counted on the bytes, not decoded). */
  async count(): Promise<number> {
    const fresh = await this.fresh();
    for (let i = fresh.indexOf(0x0a); i !== -1; i = fresh.indexOf(0x0a, i + 1)) this.complete++;
    return this.complete;
  }

  /** The file was emptied and starts over. */
  reset(): void {
    this.offset = 0;
    this.partial = new Uint8Array();
    this.complete = 0;
  }

  private async fresh(): Promise<Uint8Array> {
    const f = Bun.file(this.path);
    const size = f.size; // 0 while it does not exist
    if (size <= this.offset) return new Uint8Array();
    const bytes = await f.slice(this.offset, size).bytes();
    this.offset += bytes.length;
    return bytes;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
