// For codec tests that assert on the AmqpError a call throws (its code and text).
import { AmqpError } from "../../src/protocol/errors.ts";

/** The AmqpError fn throws; fails the test when fn returns or throws anything else. */
export function thrown(fn: () => unknown): AmqpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AmqpError) return error;
    throw error;
  }
  throw new Error("expected an AmqpError");
}
