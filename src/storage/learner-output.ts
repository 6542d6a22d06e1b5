/**
 * A learner's durable output (`--output FILE`): the delivered values, one per line, appended to
 * FILE, and beside it FILE.pos, the position they reach: the next instance to deliver, how many
 * values and bytes FILE holds up to there, and the value ids delivered (so that a value decided
 * twice is not written twice across a restart).
 *
 * Order of writes: values are appended and FILE is fdatasync'd; then (at most every
 * `positionEveryMs`) what must be durable before the position moves is synced (the learner's
 * archive: it must never be behind the position, or instances would be archived nowhere), the
 * position is written to FILE.pos.tmp, synced and renamed over FILE.pos, and the directory synced. A restarted learner truncates FILE to the bytes FILE.pos records
 * (dropping a torn last line and whatever was written after the last position) and resumes at
 * its instance: FILE then holds every delivered value exactly once, in order, whenever it is
 * killed.
 */
import { dirname } from "node:path";
import { SeqRanges, type IdsSnapshot } from "../protocol/ids.ts";
import { nodeFileIO, type FileIO, type StatIO } from "./file-io.ts";
import { StorageError } from "./record-log.ts";
import { OutBuffer } from "../bytes.ts";

export interface OutputPosition {
  /**
   * The next instance to deliver: every value of the instances below is in the file (and those
   * of this one that `ids` holds, when the output was cut inside it: see cutPosition).
   */
  readonly next: number;
  /** Values in the file. */
  readonly values: number;
  /** The ids of every value in the file: a restart delivers no other value twice, and none of these. */
  readonly ids: IdsSnapshot;
}

/**
 * The position of an output cut inside what one learner step delivered (`--count` reached in the
 * middle of a batch, or before the step's last batch): `stepFirst`, the first instance that step
 * delivered, is delivered again after a restart, and the ids it skips are all the learner had
 * delivered (`delivered`) but the `unwritten` runs. So a restart writes exactly the rest.
 */
export function cutPosition(stepFirst: number, values: number, delivered: IdsSnapshot, unwritten: readonly { client: number; first: number; count: number }[]): OutputPosition {
  const byClient = new Map<number, SeqRanges>();
  for (const [client, floor, ranges] of delivered) {
    const seqs = new SeqRanges();
    seqs.add(0, floor);
    for (let k = 0; k + 1 < ranges.length; k += 2) seqs.add(ranges[k]!, ranges[k + 1]!);
    byClient.set(client, seqs);
  }
  for (const run of unwritten) byClient.get(run.client)?.remove(run.first, run.first + run.count);
  const ids: IdsSnapshot = [...byClient].map(([client, seqs]) => {
    const flat = seqs.toArray();
    return flat[0] === 0 ? [client, flat[1]!, flat.slice(2)] : [client, 0, flat];
  });
  return { next: stepFirst, values, ids };
}

interface PositionFile extends OutputPosition {
  readonly format: typeof FORMAT;
  readonly cluster: number;
  readonly learner: number;
  /** Bytes of the output file up to the position. */
  readonly bytes: number;
}

/** Format 2 (paxos 0.3): ids as ranges per client. */
const FORMAT = "paxos-learner-output-2";

export class LearnerOutputFile {
  private readonly pending = new OutBuffer();
  private lastPositionMs = -Infinity;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private fileBytes: number,
    private readonly cluster: number,
    private readonly learner: number,
    private readonly io: FileIO,
  ) {}

  get positionPath(): string {
    return `${this.path}.pos`;
  }

  /**
   * Refuses (StorageError) a FILE or FILE.pos that is there but is not a regular file (a
   * directory, /dev/full), without reading or writing anything; returns what is there.
   */
  static check(path: string, io: StatIO = nodeFileIO): { size: number; posStat: { size: number } | undefined } {
    const size = regularFile(io, path, "--output names the file the delivered values are appended to")?.size ?? 0;
    return { size, posStat: regularFile(io, `${path}.pos`, "it should be this output's position") };
  }

  /**
   * Opens FILE for appending and returns where an earlier run stopped (undefined: a first run).
   * FILE without FILE.pos (a file this did not write, or whose position was lost) is refused, as
   * is a position of another learner or cluster, or a FILE shorter than its position says.
   */
  static open(path: string, cluster: number, learner: number, io: FileIO & StatIO = nodeFileIO): { output: LearnerOutputFile; resumed: OutputPosition | undefined } {
    const posPath = `${path}.pos`;
    // Sizes from the file system, never by reading: FILE may hold gigabytes (or be /dev/full).
    const { size, posStat } = LearnerOutputFile.check(path, io);
    let pos: PositionFile | undefined;
    if (posStat !== undefined) {
      if (posStat.size > POSITION_BYTES_MAX) throw new StorageError(`${posPath} is not a learner output position (${posStat.size} bytes, more than any position holds)`);
      pos = parsePosition(io.readAll(posPath), posPath);
    } else if (size > 0) {
      throw new StorageError(`${path} holds ${size} bytes but has no ${posPath}: it was not written by --output (or its position was lost); move it away, or remove it to start over`);
    }
    if (pos !== undefined) {
      if (pos.cluster !== cluster || pos.learner !== learner) {
        throw new StorageError(`${posPath} is learner ${pos.learner}'s of cluster ${pos.cluster}, not learner ${learner}'s of cluster ${cluster}`);
      }
      if (size < pos.bytes) throw new StorageError(`${path} has ${size} bytes, fewer than the ${pos.bytes} its position ${posPath} records: it was truncated or replaced`);
    }
    io.mkdirp(dirname(path));
    const fd = io.open(path, io.stat(path) === undefined);
    const bytes = pos?.bytes ?? 0;
    io.truncate(fd, bytes); // a torn last line, or values written after the last position
    io.sync(fd);
    const output = new LearnerOutputFile(path, fd, bytes, cluster, learner, io);
    return { output, resumed: pos && { next: pos.next, values: pos.values, ids: pos.ids } };
  }

  /** Appends values (lines, each ending with its newline), written by the next flush. */
  write(lines: Uint8Array): void {
    this.pending.append(lines);
  }

  /**
   * Writes and syncs the values appended so far; then, when `positionEveryMs` has passed since the
   * last one (or `force`), calls `beforePosition` (to make durable what the position covers: the
   * archive) and records the position they reach. Throws on write errors (ENOSPC, EIO).
   */
  flush(position: () => OutputPosition, nowMs: number, positionEveryMs: number, force = false, beforePosition?: () => void): void {
    if (this.pending.length > 0) {
      const buf = this.pending.take();
      this.io.write(this.fd, buf, this.fileBytes);
      this.fileBytes += buf.length;
      this.io.datasync(this.fd);
    }
    if (!force && nowMs - this.lastPositionMs < positionEveryMs) return;
    this.lastPositionMs = nowMs;
    const p = position();
    beforePosition?.();
    const file: PositionFile = { format: FORMAT, cluster: this.cluster, learner: this.learner, bytes: this.fileBytes, next: p.next, values: p.values, ids: p.ids };
    const tmp = `${this.positionPath}.tmp`;
    const fd = this.io.open(tmp, true);
    this.io.write(fd, new TextEncoder().encode(`${JSON.stringify(file)}\n`), 0);
    this.io.sync(fd);
    this.io.close(fd);
    this.io.rename(tmp, this.positionPath);
    this.io.syncDir(dirname(this.positionPath));
  }

  close(position: () => OutputPosition, nowMs: number, beforePosition?: () => void): void {
    this.flush(position, nowMs, 0, true, beforePosition);
    this.io.close(this.fd);
  }
}

/** A position holds a few numbers per client: far less than this. */
const POSITION_BYTES_MAX = 64 * 1024 * 1024;

/** What is at `path` when it is a regular file (undefined: nothing); anything else is refused, with `why` it must be a file. */
function regularFile(io: StatIO, path: string, why: string): { size: number } | undefined {
  const s = io.stat(path);
  if (s !== undefined && s.kind !== "file") throw new StorageError(`${path} is a ${s.kind}, not a regular file: ${why}`);
  return s;
}

function parsePosition(bytes: Uint8Array, path: string): PositionFile {
  let p: PositionFile;
  try {
    p = JSON.parse(new TextDecoder().decode(bytes)) as PositionFile;
  } catch {
    throw new StorageError(`${path} is not a learner output position (not JSON)`);
  }
  const nat = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  const idsOk = Array.isArray(p.ids) && p.ids.every((c) => Array.isArray(c) && nat(c[0]) && nat(c[1]) && Array.isArray(c[2]) && c[2].length % 2 === 0 && c[2].every(nat));
  if (p.format !== FORMAT || !nat(p.cluster) || !nat(p.learner) || !nat(p.bytes) || !nat(p.next) || !nat(p.values) || !idsOk) {
    throw new StorageError(`${path} is not a learner output position (format ${FORMAT})`);
  }
  return p;
}
