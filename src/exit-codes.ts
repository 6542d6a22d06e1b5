/**
 * Every exit code a `paxos` process can end with, and what it means: one line each. The README's
 * table is checked against this list (test/cli/exit-codes.test.ts).
 */
export const EXIT = {
  /** Done: a client's values are all decided, a learner delivered its --count, or a signal stopped it. */
  ok: 0,
  /** The run failed: a client rejected input lines (too long), a check failed, a demo timed out, or the system refused a file. */
  rejected: 1,
  /** A usage or configuration error: nothing was started. */
  usage: 2,
  /** A durable acceptor's log cannot be used (foreign, damaged before its last commit, unwritable), or a learner's archive. */
  storage: 3,
  /** A learner needs instances that every source has dropped (acceptor.retainInstances). */
  trimmed: 4,
  /** Another live process uses this process's role and id, or holds its files (a durable acceptor's log, a learner's --output or archive). */
  duplicateId: 5,
  /** A learner cannot write its output (disk full, I/O error, a bad --output file or one that is not a regular file). */
  output: 6,
  /** The network cannot be used as configured (no such interface address, network down, a group's port held): nothing was started. */
  network: 7,
  /** An acceptor was removed from the cluster by a configuration change (`paxos reconfigure`), and every instance it decided in is decided: it is no longer needed. */
  removed: 8,
  /** A bug: an internal invariant was violated, or an unexpected error; the message names it. */
  invariant: 70,
  /** Interrupted (SIGINT or SIGTERM) before its work was done: a client with values not decided, a demo. */
  interrupted: 130,
  /** A learner's stdout was closed by its reader (`paxos --role learner | head`), as a filter killed by SIGPIPE. */
  pipe: 141,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
