/**
 * Errors the operating system reports (Node-style: a `code` such as EACCES, and the `syscall`
 * that failed), said in words. src/config.ts and src/cli/failure.ts both describe them.
 */

export interface SystemError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly address?: string;
  readonly port?: number;
}

export function isSystemError(e: unknown): e is SystemError {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EEXIST: "already exists",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENOMEM: "out of memory",
  EPIPE: "the reader went away (broken pipe)",
  EADDRNOTAVAIL: "address not available",
  EADDRINUSE: "address in use",
  ENETUNREACH: "network unreachable",
  EHOSTUNREACH: "host unreachable",
  ENETDOWN: "network is down",
  ENODEV: "no such device",
  ENOBUFS: "no buffer space available",
  EMSGSIZE: "message too long",
  EINVAL: "invalid argument",
};

/** The reason in words, e.g. "permission denied"; the code itself when there are no words for it. */
export function reasonOf(code: string): string {
  return REASONS[code] ?? code;
}
