// Queue declare arguments: which ones Warren acts on, their validation (RabbitMQ's 406 texts),
// and the equivalence check of a redeclare.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { FieldTable, FieldValue } from "../protocol/table.ts";
import type { QueueLimits } from "../shard/queue.ts";

/** Arguments compared on redeclare, as RabbitMQ's rabbit_amqqueue:assert_args_equivalence does. */
const EQUIVALENCE_KEYS = [
  "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-length",
  "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-type", "x-single-active-consumer",
];

function nonNegativeInteger(args: FieldTable, key: string): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "bigint" && value >= 0n) return Number(value);
  throw new AmqpError(ReplyCode.preconditionFailed, `invalid arg '${key}' for queue: ${describe(value)} is not a non-negative integer`);
}

export function queueLimits(args: FieldTable): QueueLimits {
  const limits: QueueLimits = {};
  const maxLength = nonNegativeInteger(args, "x-max-length");
  if (maxLength !== undefined) limits.maxLength = maxLength;
  const maxLengthBytes = nonNegativeInteger(args, "x-max-length-bytes");
  if (maxLengthBytes !== undefined) limits.maxLengthBytes = maxLengthBytes;
  const overflow = args["x-overflow"];
  if (overflow !== undefined) {
    if (overflow === "drop-head" || overflow === "reject-publish") limits.overflow = overflow;
    else if (overflow === "reject-publish-dlx") limits.overflow = "reject-publish";
    else throw new AmqpError(ReplyCode.preconditionFailed, `invalid arg 'x-overflow' for queue: ${describe(overflow)} is not one of drop-head, reject-publish, reject-publish-dlx`);
  }
  return limits;
}

/** Throws 406 when a redeclare's arguments differ from the queue's (only the keys RabbitMQ checks). */
export function assertArgumentsEquivalent(current: FieldTable, received: FieldTable, what: string, classId: number, methodId: number): void {
  for (const key of EQUIVALENCE_KEYS) {
    const a = current[key];
    const b = received[key];
    if (a === undefined && b === undefined) continue;
    if (a !== undefined && b !== undefined && sameValue(a, b)) continue;
    // RabbitMQ's rabbit_misc:assert_args_equivalence quotes bare values when both sides are
    // present ("received '20' but current is '10'") and says "the value '10' of type 'byte'" only
    // against "none". Decoded tables keep no wire type, so that case names the value alone.
    const both = a !== undefined && b !== undefined;
    const got = b === undefined ? "none" : both ? `'${describe(b)}'` : `the value '${describe(b)}'`;
    const had = a === undefined ? "none" : both ? `'${describe(a)}'` : `the value '${describe(a)}'`;
    throw new AmqpError(ReplyCode.preconditionFailed, `inequivalent arg '${key}' for ${what}: received ${got} but current is ${had}`, classId, methodId);
  }
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a as number) === BigInt(b as number);
  return a === b;
}

function describe(value: FieldValue): string {
  return typeof value === "string" ? value : String(value);
}
