// Queue declare arguments: which ones Warren acts on, their validation (RabbitMQ's 406 texts),
// and the equivalence check of a redeclare.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { Decimal, Timestamp, type FieldTable, type FieldValue } from "../protocol/table.ts";
import type { QueueLimits } from "../link/records.ts";

/** Arguments compared on redeclare, as RabbitMQ's rabbit_amqqueue:assert_args_equivalence does. */
const EQUIVALENCE_KEYS = [
  "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-length",
  "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-type", "x-single-active-consumer",
];

/** Where an invalid argument is reported: "queue 'q' in vhost '/'" and the declaring method. */
interface ArgumentSite {
  what: string;
  classId: number;
  methodId: number;
}

const NO_SITE: ArgumentSite = { what: "queue", classId: 0, methodId: 0 };

/** rabbit_amqqueue:check_arguments' text; `error` is the validator's Erlang term as ~p prints it. */
function invalidArg(key: string, site: ArgumentSite, error: string): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `invalid arg '${key}' for ${site.what}: ${error}`, site.classId, site.methodId);
}

function nonNegativeInteger(args: FieldTable, key: string, site: ArgumentSite): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value)) {
    if (value >= 0) return value;
    throw invalidArg(key, site, `{value_negative,${value}}`);
  }
  if (typeof value === "bigint") {
    if (value >= 0n) return Number(value);
    throw invalidArg(key, site, `{value_negative,${value}}`);
  }
  throw invalidArg(key, site, `"expected integer, got ${fieldTypeName(value) ?? "long"}"`);
}

/** The limits the shard enforces; throws RabbitMQ's 406 for an invalid one (at `site` when given). */
export function queueLimits(args: FieldTable, site: ArgumentSite = NO_SITE): QueueLimits {
  const limits: QueueLimits = {};
  const maxLength = nonNegativeInteger(args, "x-max-length", site);
  if (maxLength !== undefined) limits.maxLength = maxLength;
  const maxLengthBytes = nonNegativeInteger(args, "x-max-length-bytes", site);
  if (maxLengthBytes !== undefined) limits.maxLengthBytes = maxLengthBytes;
  const messageTtl = nonNegativeInteger(args, "x-message-ttl", site);
  if (messageTtl !== undefined) limits.messageTtl_ms = messageTtl;
  const overflow = args["x-overflow"];
  if (overflow !== undefined) {
    if (overflow === "drop-head" || overflow === "reject-publish") limits.overflow = overflow;
    else if (overflow === "reject-publish-dlx") limits.overflow = "reject-publish";
    else if (typeof overflow === "string") throw invalidArg("x-overflow", site, "invalid_overflow");
    else throw invalidArg("x-overflow", site, `{unacceptable_type,${fieldTypeName(overflow) ?? "long"}}`);
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
    throw inequivalentArgument(key, what, a, b, classId, methodId);
  }
}

/**
 * rabbit_misc:assert_args_equivalence's 406: bare quoted values when both sides are present
 * ("received '20' but current is '10'"), and "the value 'x' of type 'longstr'" against "none".
 */
export function inequivalentArgument(key: string, what: string, current: FieldValue | undefined, received: FieldValue | undefined, classId: number, methodId: number): AmqpError {
  const side = (value: FieldValue | undefined, other: FieldValue | undefined): string => {
    if (value === undefined) return "none";
    if (other !== undefined) return `'${describe(value)}'`;
    const type = fieldTypeName(value);
    return type === undefined ? `the value '${describe(value)}'` : `the value '${describe(value)}' of type '${type}'`;
  };
  return new AmqpError(ReplyCode.preconditionFailed, `inequivalent arg '${key}' for ${what}: received ${side(received, current)} but current is ${side(current, received)}`, classId, methodId);
}

/**
 * RabbitMQ's name of a value's field type, for argument errors. Decoded tables keep no wire type;
 * most types follow from the value (a fractional number reads as "double" even when it came as a
 * float32), but an integer's width was the client's choice (amqplib sends 1 as a byte, most
 * clients as signedint or long), so integers give undefined.
 */
export function fieldTypeName(value: FieldValue): string | undefined {
  if (typeof value === "string") return "longstr";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? undefined : "double";
  if (typeof value === "bigint") return undefined;
  if (value === null) return "void";
  if (value instanceof Uint8Array) return "binary";
  if (value instanceof Timestamp) return "timestamp";
  if (value instanceof Decimal) return "decimal";
  if (Array.isArray(value)) return "array";
  return "table";
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a as number) === BigInt(b as number);
  return a === b;
}

function describe(value: FieldValue): string {
  return typeof value === "string" ? value : String(value);
}
