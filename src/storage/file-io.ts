/**
 * The file operations the storage code needs, behind one interface: the real file system in
 * production (`nodeFileIO`), and a simulated disk in the simulator that loses, tears and
 * zero-fills unsynced writes at a crash (test/sim/disk.ts). So the simulator runs the real
 * log code, recovery rules included, not a model of it.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";

export interface FileIO {
  exists(path: string): boolean;
  /** The whole file. */
  readAll(path: string): Uint8Array;
  /** Opens for reading and writing; `create` makes a new empty file (replacing any). */
  open(path: string, create: boolean): number;
  /** Writes all of `buf` at `position`. */
  write(fd: number, buf: Uint8Array, position: number): void;
  /** Reads into `buf` from `position`; returns the bytes read. */
  read(fd: number, buf: Uint8Array, position: number): number;
  truncate(fd: number, length: number): void;
  /** Data and metadata durable (fsync). */
  sync(fd: number): void;
  /** Data and size durable (fdatasync). */
  datasync(fd: number): void;
  close(fd: number): void;
  rename(from: string, to: string): void;
  /** Makes the directory's entries (new names, renames) durable. */
  syncDir(dir: string): void;
  mkdirp(dir: string): void;
}

/** What is at a path, without reading it. */
export interface FileStat {
  readonly kind: "file" | "directory" | "character device" | "block device" | "FIFO" | "socket";
  /** Bytes (of a regular file). */
  readonly size: number;
}

/** File systems that can say what a path is without reading it (the real one does). */
export interface StatIO {
  /** Undefined when nothing is there. Follows symbolic links. */
  stat(path: string): FileStat | undefined;
}

export const nodeFileIO: FileIO & StatIO = {
  stat(path) {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s === undefined) return undefined;
    const kind = s.isFile() ? "file" : s.isDirectory() ? "directory" : s.isCharacterDevice() ? "character device" : s.isBlockDevice() ? "block device" : s.isFIFO() ? "FIFO" : "socket";
    return { kind, size: s.size };
  },
  exists: (path) => existsSync(path),
  readAll: (path) => readFileSync(path),
  open: (path, create) => openSync(path, create ? "w+" : "r+"),
  write(fd, buf, position) {
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
  },
  read: (fd, buf, position) => readSync(fd, buf, 0, buf.length, position),
  truncate: (fd, length) => ftruncateSync(fd, length),
  sync: (fd) => fsyncSync(fd),
  datasync: (fd) => fdatasyncSync(fd),
  close: (fd) => closeSync(fd),
  rename: (from, to) => renameSync(from, to),
  syncDir(dir) {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  mkdirp: (dir) => void mkdirSync(dir, { recursive: true }),
};
