/**
 * Files only one process may use at a time (a durable acceptor's log, a learner's --output and
 * archive): each is locked (`<file>.lock`, see storage/file-lock.ts) before anything reads it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { EXIT } from "../../exit-codes.ts";
import { FileLock, FileLockedError } from "../../storage/file-lock.ts";
import { fatal, type RoleContext } from "./context.ts";

export interface OwnedFile {
  readonly file: string;
  /** For the message: "acceptor 2's log". */
  readonly what: string;
  /** Create its directory if missing (else a missing directory takes no lock: opening the file will say what is wrong). */
  readonly create: boolean;
  /** The exit code when its lock file cannot be made (the one for any other failure to use the file). */
  readonly failCode: number;
}

/**
 * Locks each file (`<file>.lock`) for the rest of the process's life, before anything reads or
 * writes it. Returns an exit code when it cannot (after saying why): 5 when another process holds
 * one (as for another process with this one's id), the file's `failCode` when a lock file cannot
 * be made.
 */
export function lockFiles(ctx: RoleContext, files: readonly OwnedFile[]): number | undefined {
  for (const f of files) {
    try {
      if (f.create) mkdirSync(dirname(f.file), { recursive: true });
      if (!existsSync(dirname(f.file))) continue;
      held.push(FileLock.acquire(`${f.file}.lock`));
    } catch (e) {
      if (e instanceof FileLockedError) {
        fatal(ctx, `${f.file} (${f.what}) is in use by another process${e.holder === undefined ? "" : ` (pid ${e.holder})`}: two processes must not share it; this one stops, the other goes on`);
        return EXIT.duplicateId;
      }
      fatal(ctx, `cannot lock ${f.file} (${f.what}): ${(e as Error).message}`);
      return f.failCode;
    }
  }
  return undefined;
}

/** The locks this process holds: released by the kernel when it ends. */
const held: FileLock[] = [];
