/** A command-line mistake: printed with a hint, exit code 2, nothing started. */
export class UsageError extends Error {}

export const EXIT_USAGE = 2;
