/**
 * A simulated disk for the simulator: a FileIO (src/storage/file-io.ts) whose files keep what was
 * synced apart from what was only written. The real record-log code runs on it. At a crash,
 * unsynced writes are lost, torn at a byte, reach the disk page by page in any order, or leave a
 * zero-filled tail (the size was extended, the data never written); unsynced directory entries
 * (new files, renames) are lost. Deterministic from the PRNG it is given.
 */
import type { FileIO } from "../../src/storage/file-io.ts";
import type { Prng } from "../../src/prng.ts";

const PAGE_BYTES = 512;

/** Thrown by a sync that the machine does not live to complete (SimDisk.crashing). */
export class MachineCrash extends Error {}

interface SimFile {
  /** What reads see: everything written. */
  data: Uint8Array;
  size: number;
  /** What survives a crash for sure: the contents at the last sync. */
  synced: Uint8Array;
}

export type DiskFault = "lose" | "torn" | "pages" | "zeros";
export const DISK_FAULTS: readonly DiskFault[] = ["lose", "torn", "pages", "zeros"];

export class SimDisk implements FileIO {
  /** Directory entries as the process sees them, and as a crash leaves them. */
  private entries = new Map<string, SimFile>();
  private syncedEntries = new Map<string, SimFile>();
  private readonly fds = new Map<number, SimFile>();
  private nextFd = 3;
  /** Crashes that found unsynced data, by fault (for the run's statistics). */
  readonly faults: Record<DiskFault, number> = { lose: 0, torn: 0, pages: 0, zeros: 0 };

  exists(path: string): boolean {
    return this.entries.has(path);
  }

  readAll(path: string): Uint8Array {
    const f = this.file(path);
    return f.data.slice(0, f.size);
  }

  open(path: string, create: boolean): number {
    let f = this.entries.get(path);
    if (create || f === undefined) {
      if (!create) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      f = { data: new Uint8Array(0), size: 0, synced: new Uint8Array(0) };
      this.entries.set(path, f);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, f);
    return fd;
  }

  write(fd: number, buf: Uint8Array, position: number): void {
    const f = this.fd(fd);
    const end = position + buf.length;
    if (end > f.data.length) {
      const grown = new Uint8Array(Math.max(end, f.data.length * 2));
      grown.set(f.data.subarray(0, f.size));
      f.data = grown;
    }
    f.data.set(buf, position);
    f.size = Math.max(f.size, end);
  }

  read(fd: number, buf: Uint8Array, position: number): number {
    const f = this.fd(fd);
    const n = Math.max(0, Math.min(buf.length, f.size - position));
    buf.set(f.data.subarray(position, position + n));
    return n;
  }

  truncate(fd: number, length: number): void {
    const f = this.fd(fd);
    if (length > f.size) this.write(fd, new Uint8Array(length - f.size), f.size);
    else {
      f.data.fill(0, length, f.size);
      f.size = length;
    }
  }

  sync(fd: number): void {
    if (this.crashing) throw new MachineCrash(); // the machine dies before the sync completes
    const f = this.fd(fd);
    f.synced = f.data.slice(0, f.size);
  }

  /** Set when the machine is about to crash: writes still happen, the next sync never returns. */
  crashing = false;

  datasync(fd: number): void {
    this.sync(fd);
  }

  close(fd: number): void {
    this.fds.delete(fd);
  }

  rename(from: string, to: string): void {
    this.entries.set(to, this.file(from));
    this.entries.delete(from);
  }

  syncDir(_dir: string): void {
    this.syncedEntries = new Map(this.entries);
  }

  mkdirp(_dir: string): void {}

  /** Bytes of a file as a process would read them (for tests). */
  size(path: string): number {
    return this.entries.get(path)?.size ?? 0;
  }

  /**
   * The machine crashed: open files are gone, unsynced directory entries are lost, and each file's
   * unsynced bytes suffer `fault` (or one drawn from `rng`).
   */
  crash(rng: Prng, fault?: DiskFault): void {
    this.crashing = false;
    this.fds.clear();
    this.entries = new Map(this.syncedEntries);
    for (const f of new Set(this.entries.values())) {
      const pages = dirtyPages(f);
      if (pages.length === 0 && f.size === f.synced.length) continue;
      const kind = fault ?? rng.pick(DISK_FAULTS);
      this.faults[kind]++;
      const newSize = f.size;
      const out = new Uint8Array(Math.max(newSize, f.synced.length));
      out.set(f.synced);
      let size = f.synced.length;
      if (kind === "torn") {
        // Written in order up to a byte where the crash struck.
        const start = pages.length > 0 ? pages[0]! * PAGE_BYTES : size;
        const cut = start + Math.floor(rng.next() * (newSize - start + 1));
        out.set(f.data.subarray(start, cut), start);
        size = Math.max(size, cut);
      } else if (kind === "pages") {
        // Any subset of the pages, in any order; the new size may or may not have reached the disk.
        for (const p of pages) if (rng.chance(0.5)) out.set(f.data.subarray(p * PAGE_BYTES, Math.min(newSize, (p + 1) * PAGE_BYTES)), p * PAGE_BYTES);
        if (rng.chance(0.5)) size = newSize;
      } else if (kind === "zeros") size = newSize; // the size did, the data did not
      f.data = out;
      f.size = size;
      f.data.fill(0, size);
      f.synced = f.data.slice(0, size);
    }
  }

  private file(path: string): SimFile {
    const f = this.entries.get(path);
    if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return f;
  }

  private fd(fd: number): SimFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw new Error(`EBADF: ${fd}`);
    return f;
  }
}

/** Pages whose contents differ from what was synced. */
function dirtyPages(f: SimFile): number[] {
  const pages: number[] = [];
  const end = Math.max(f.size, f.synced.length);
  for (let p = 0; p * PAGE_BYTES < end; p++) {
    const from = p * PAGE_BYTES;
    const to = Math.min(end, from + PAGE_BYTES);
    for (let i = from; i < to; i++) {
      if ((i < f.size ? f.data[i] : 0) !== (i < f.synced.length ? f.synced[i] : 0)) {
        pages.push(p);
        break;
      }
    }
  }
  return pages;
}
