/**
 * Every exit code a `paxos` process can end with, and what it means. The README's table is
 * checked against this list (test/cli/exit-codes.test.ts).
 */
export const EXIT = {
  /** Done: a client's values are all decided, a learner delivered its --count, or a signal stopped it. */
  ok: 0,
  /**
   * The run failed: a client rejected some input lines (too long; the rest were decided), a check
   * failed, or the system refused a file (the message names it).
   */
  rejected: 1,
  /** A usage or configuration error: nothing was started. */
  usage: 2,
  /** A durable acceptor's log cannot be used (corrupt, foreign, unwritable). */
  storage: 3,
  /** A learner needs instances that every source has dropped (acceptor.retainInstances). */
  trimmed: 4,
  /** Another live process uses this process's role and id. */
  duplicateId: 5,
  /** A learner cannot write its output (disk full, I/O error, a bad --output file). */
  output: 6,
  /**
   * The network cannot be used as configured: network.interface is not an address of this host,
   * the network is down, or another program holds a group's port. Nothing was started.
   */
  network: 7,
  /** Interrupted (SIGINT or SIGTERM) before its work was done: a client with values not decided, a demo. */
  interrupted: 130,
  /** An internal invariant was violated, or an unexpected error: a bug. The message names it. */
  invariant: 70,
  /** A learner's stdout was closed by its reader (`paxos --role learner | head`), as a filter killed by SIGPIPE. */
  pipe: 141,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
