/**
 * Invariant check for the ring code. Messages are string literals at every
 * call site so a passing check allocates nothing on the hot path.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`ring invariant violated: ${message}`);
}
