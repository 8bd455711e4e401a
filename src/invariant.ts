import { AmqpError, ReplyCode } from "./protocol/errors.ts";

/**
 * Asserts an internal invariant of one area of the broker ("ring", "routing"). A failure is a
 * broker bug, never a client error, so it surfaces as INTERNAL_ERROR (541) and closes the
 * connection it happens on. Hot-path call sites pass string literals, so a passing check
 * allocates nothing.
 */
export function invariant(condition: boolean, area: string, detail: string): asserts condition {
  if (!condition) throw new AmqpError(ReplyCode.internalError, `${area} invariant violated: ${detail}`);
}
