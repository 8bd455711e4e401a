import { AmqpError, ReplyCode } from "../protocol/errors.ts";

/**
 * Asserts an invariant of the routing tables. A failure is a broker bug, never a client error, so it
 * surfaces as INTERNAL_ERROR (541) and closes the connection.
 */
export function invariant(condition: boolean, detail: string): asserts condition {
  if (!condition) throw new AmqpError(ReplyCode.internalError, `routing invariant violated: ${detail}`);
}
