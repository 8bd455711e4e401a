// The message property checks RabbitMQ 3.x makes on basic.publish after the user-id check:
// the expiration must parse (rabbit_basic:parse_expiration, via rabbit_channel's
// check_expiration_header) and delivery-mode must be 1 or 2 when present (rabbit_basic:message).
// Both are 406 PRECONDITION_FAILED channel errors with RabbitMQ's texts.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { PropertyFlag, peekDeliveryMode, peekExpiration } from "../protocol/properties.ts";

/** rabbit_misc:check_expiry's ceiling: ten years in milliseconds. */
const MAX_EXPIRY_MS = 315_360_000_000n;

/** io_lib's ~p breaks a tuple after its first element once the line would reach this column. */
const ERLANG_WRAP_COLUMN = 79;

/** Throws 406 when the properties of a publish are ones RabbitMQ refuses. */
export function checkPublishProperties(raw: Uint8Array, offset: number, length: number): void {
  const expiration = peekExpiration(raw, offset, length);
  if (expiration !== undefined) {
    const error = expirationError(expiration);
    if (error !== null) {
      throw new AmqpError(ReplyCode.preconditionFailed, `invalid expiration '${expiration}': ${error}`, "basic.publish");
    }
  }
  // peekDeliveryMode gives 0 for an absent property; an explicit 0 is refused too, so the flag decides.
  const flags = length >= 2 ? ((raw[offset]! << 8) | raw[offset + 1]!) : 0;
  if ((flags & PropertyFlag.deliveryMode) !== 0) {
    const mode = peekDeliveryMode(raw, offset, length);
    if (mode !== 1 && mode !== 2) {
      throw new AmqpError(ReplyCode.preconditionFailed, `invalid message: {delivery_mode_unknown,${mode}}`, "basic.publish");
    }
  }
}

/**
 * The Erlang term parse_expiration fails with, as "~p" prints it, or null when the expiration is
 * valid. string:to_integer takes an optional sign and ASCII digits; anything after them is a
 * leftover_string.
 */
function expirationError(expiration: string): string | null {
  const match = /^([+-]?[0-9]+)([\s\S]*)$/.exec(expiration);
  if (match === null) return "no_integer";
  const n = BigInt(match[1]!);
  const rest = match[2]!;
  // The term starts after "invalid expiration '<expiration>': " on the line ~p prints it on.
  const column = "invalid expiration '".length + expiration.length + "': ".length;
  if (rest !== "") return erlangPair("leftover_string", erlangString(rest), column);
  if (n < 0n) return erlangPair("value_negative", String(n), column);
  if (n > MAX_EXPIRY_MS) return erlangPair("value_too_large", String(n), column);
  return null;
}

/** {tag,value}, broken after the comma and indented under the brace when it would reach the margin. */
function erlangPair(tag: string, value: string, column: number): string {
  const flat = `{${tag},${value}}`;
  if (column + flat.length < ERLANG_WRAP_COLUMN) return flat;
  return `{${tag},\n${" ".repeat(column + 1)}${value}}`;
}

function erlangString(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}
