/**
 * One process per file: an exclusive lock, held for the process's life, on a lock file beside
 * each file a process must not share (a durable acceptor's log, a learner's --output file and
 * position, a learner's archive). Two processes on one acceptor log would both vote from it and
 * corrupt it for good; two learners on one output would interleave their values.
 *
 * The lock is flock(2) (LOCK_EX | LOCK_NB) on `<file>.lock`, called through bun:ffi from the C
 * library (Bun and Node have no binding for it; it works in the compiled binary, on linux and
 * darwin). The kernel drops it when the process ends, however it ends (kill -9, a power loss), so
 * there is no stale lock to detect or to clean up, and no race between two processes that both
 * find one. (A lock file created with O_EXCL holding a PID would need both: a PID can be reused.)
 * A separate lock file, never removed, and not the file itself: an acceptor's log is replaced by
 * a rename when compacted, and a lock on the old file would not hold the new one. The file holds
 * the owner's PID, for the message of the process that finds it taken.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { StorageError } from "./record-log.ts";

/** Another process holds the lock: it uses the file (exit code 5, as another process with one's id). */
export class FileLockedError extends StorageError {
  constructor(
    readonly path: string,
    /** The holder's PID, as it wrote it (undefined: unreadable). */
    readonly holder: number | undefined,
  ) {
    super(`${path} is locked by another process${holder === undefined ? "" : ` (pid ${holder})`}`);
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;

interface Flock {
  /** 0, or the errno of a failed flock. */
  flock(fd: number): number;
  /** The errno that says "held by another". */
  readonly wouldBlock: number;
}

let flockImpl: Flock | undefined;

/** flock(2) from the C library, loaded on first use (a process that locks nothing never loads it). */
function loadFlock(): Flock {
  if (flockImpl !== undefined) return flockImpl;
  const platform = process.platform;
  if (platform !== "linux" && platform !== "darwin") throw new StorageError(`file locks are not supported on ${platform} (linux and darwin only)`);
  const errnoName = platform === "darwin" ? "__error" : "__errno_location";
  const lib = dlopen(platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoName]: { args: [], returns: FFIType.ptr },
  });
  const errno = lib.symbols[errnoName] as () => number | null;
  flockImpl = {
    flock: (fd) => (lib.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0 ? 0 : read.i32(errno()!, 0)),
    wouldBlock: platform === "darwin" ? 35 : 11, // EWOULDBLOCK
  };
  return flockImpl;
}

/** A held lock; `release` is for tests and for a process that goes on after closing the file. */
export class FileLock {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /**
   * Takes the lock on `path` (created when missing), or throws FileLockedError when another
   * process holds it, or StorageError when the lock file cannot be opened.
   */
  static acquire(path: string): FileLock {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644); // never truncated before it is ours
    } catch (e) {
      throw new StorageError(`cannot open the lock file ${path}: ${(e as Error).message}`);
    }
    let errno: number;
    try {
      errno = loadFlock().flock(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    if (errno !== 0) {
      closeSync(fd);
      if (errno === loadFlock().wouldBlock) throw new FileLockedError(path, holderOf(path));
      throw new StorageError(`cannot lock ${path}: flock failed (errno ${errno})`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return new FileLock(path, fd);
  }

  release(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd); // closing the only descriptor drops the lock
    this.fd = undefined;
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
