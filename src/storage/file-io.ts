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

export const nodeFileIO: FileIO = {
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
