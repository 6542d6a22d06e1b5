/** A command-line mistake: printed with a hint, exit code 2, nothing started. */
export class UsageError extends Error {}


/** --debug for commands that have no other use for it: the stack of an unexpected error (main.ts prints it). */
export const debugArg = { type: "boolean", description: "Print the stack of an unexpected error", default: false } as const;
