import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileLock, FileLockedError } from "../../src/storage/file-lock.ts";

const dir = () => mkdtempSync(join(tmpdir(), "paxos-lock-"));

test("a lock is exclusive: a second taker is refused with the holder's pid, and gets it once it is released", () => {
  const path = join(dir(), "acceptor-1.log.lock");
  const held = FileLock.acquire(path);
  expect(readFileSync(path, "utf8")).toBe(`${process.pid}\n`);
  let refused: unknown;
  try {
    FileLock.acquire(path);
  } catch (e) {
    refused = e;
  }
  expect(refused).toBeInstanceOf(FileLockedError);
  expect((refused as FileLockedError).holder).toBe(process.pid);
  expect((refused as Error).message).toBe(`${path} is locked by another process (pid ${process.pid})`);
  held.release();
  FileLock.acquire(path).release();
});

test("another process's lock is refused while it lives, and free once it is killed (no stale lock)", async () => {
  const path = join(dir(), "learner-1.txt.lock");
  const src = join(import.meta.dir, "../../src/storage/file-lock.ts");
  const holder = Bun.spawn([process.execPath, "-e", `import { FileLock } from ${JSON.stringify(src)}; FileLock.acquire(${JSON.stringify(path)}); console.log("held"); setInterval(() => {}, 1000);`], { stdout: "pipe" });
  const reader = holder.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("held\n");
  expect(() => FileLock.acquire(path)).toThrow(`(pid ${holder.pid})`);
  holder.kill("SIGKILL");
  await holder.exited;
  FileLock.acquire(path).release();
});

test("a lock file that cannot be created is a storage error naming it", () => {
  expect(() => FileLock.acquire(join(dir(), "missing-dir", "x.lock"))).toThrow(/cannot open the lock file .*missing-dir\/x\.lock/);
});
