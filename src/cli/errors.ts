/** A command-line mistake: printed with a hint, exit code 2, nothing started. */
export class UsageError extends Error {}

