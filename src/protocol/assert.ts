/**
 * Invariants of the protocol, checked where they are known (TigerBeetle style). A broken
 * invariant means this process's own state is wrong: it stops at once (the runtime logs the
 * invariant and exits with its own code) rather than go on and corrupt what others rely on.
 * Inputs from the network never trip an assertion; what they get wrong is refused and reported
 * (`Effects.violations`).
 */
export class InvariantError extends Error {
  constructor(readonly invariant: string) {
    super(`invariant violated: ${invariant}`);
  }
}

export function assert(condition: boolean, invariant: string): asserts condition {
  if (!condition) throw new InvariantError(invariant);
}
