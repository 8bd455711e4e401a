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
export interface ArgumentSite {
  what: string;
  classId: number;
  methodId: number;
}

const NO_SITE: ArgumentSite = { what: "queue", classId: 0, methodId: 0 };

/** rabbit_misc's ?MAX_EXPIRY_TIMER: the largest TTL or expiry Erlang timers take, in ms. */
const MAX_EXPIRY_MS = 4294967295;
/** rabbit_amqqueue's ?MAX_SUPPORTED_PRIORITY. */
const MAX_PRIORITY = 255;

/** rabbit_amqqueue:check_arguments' text; `error` is the validator's Erlang term as ~p prints it. */
function invalidArg(key: string, site: ArgumentSite, error: string): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `invalid arg '${key}' for ${site.what}: ${error}`, site.classId, site.methodId);
}

/** An integer argument's value; RabbitMQ's "expected integer" text for any other type. */
function integerValue(key: string, value: FieldValue, site: ArgumentSite): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  throw invalidArg(key, site, `"expected integer, got ${fieldTypeName(value) ?? "long"}"`);
}

function nonNegative(key: string, value: FieldValue, site: ArgumentSite): number {
  const n = integerValue(key, value, site);
  if (n < 0) throw invalidArg(key, site, `{value_negative,${n}}`);
  return n;
}

/** rabbit_misc:check_expiry: a TTL in ms, 0 to 2^32-1. */
function expiry(key: string, value: FieldValue, site: ArgumentSite): number {
  const n = nonNegative(key, value, site);
  if (n > MAX_EXPIRY_MS) throw invalidArg(key, site, `{value_too_large,${n}}`);
  return n;
}

function longstr(key: string, value: FieldValue, site: ArgumentSite): string {
  if (typeof value === "string") return value;
  throw invalidArg(key, site, `{unacceptable_type,${fieldTypeName(value) ?? "long"}}`);
}

function oneOf(allowed: string[], error: (v: string) => string) {
  return (key: string, value: FieldValue, site: ArgumentSite, _args: FieldTable): void => {
    const s = longstr(key, value, site);
    if (!allowed.includes(s)) throw invalidArg(key, site, error(s));
  };
}

interface QueueArgument {
  /** Throws RabbitMQ's 406 for an invalid value. */
  validate(key: string, value: FieldValue, site: ArgumentSite, args: FieldTable): void;
  /**
   * Whether Warren acts on the argument. One it does not is refused (406, "not_implemented")
   * rather than stored and ignored: a client relying on it must not believe it works.
   */
  implemented: boolean;
}

/**
 * The queue arguments RabbitMQ 3.x validates (rabbit_amqqueue:declare_args/0 and the quorum
 * queue's), each with RabbitMQ's check. Keys outside the table are stored and ignored, as RabbitMQ
 * does with arguments it does not know.
 */
export const QUEUE_ARGUMENTS: Record<string, QueueArgument> = {
  "x-max-length": { validate: nonNegative, implemented: true },
  "x-max-length-bytes": { validate: nonNegative, implemented: true },
  "x-message-ttl": { validate: expiry, implemented: true },
  // Without dead-lettering, reject-publish-dlx behaves exactly as reject-publish.
  "x-overflow": { validate: oneOf(["drop-head", "reject-publish", "reject-publish-dlx"], () => "invalid_overflow"), implemented: true },
  // A storage hint: Warren's queues keep their messages in compact columns either way.
  "x-queue-mode": { validate: oneOf(["default", "lazy"], (v) => `"unsupported queue mode '${v}'"`), implemented: true },
  // Checked by checkQueueType (the values Warren serves); the validator here only checks the type.
  "x-queue-type": { validate: longstr, implemented: true },
  "x-expires": {
    validate: (key, value, site) => {
      if (integerValue(key, value, site) === 0) throw invalidArg(key, site, "{value_zero,0}");
      expiry(key, value, site);
    },
    implemented: false,
  },
  "x-dead-letter-exchange": {
    validate: (key, value, site) => {
      if (typeof value !== "string") {
        throw new AmqpError(ReplyCode.preconditionFailed, `invalid type '${fieldTypeName(value) ?? "long"}' for arg '${key}' in ${site.what}`, site.classId, site.methodId);
      }
    },
    implemented: false,
  },
  "x-dead-letter-routing-key": {
    validate: (key, value, site, args) => {
      longstr(key, value, site);
      if (args["x-dead-letter-exchange"] === undefined) throw invalidArg(key, site, "routing_key_but_no_dlx_defined");
    },
    implemented: false,
  },
  "x-max-priority": {
    validate: (key, value, site) => {
      const n = nonNegative(key, value, site);
      if (n > MAX_PRIORITY) throw invalidArg(key, site, `{max_value_exceeded,${n}}`);
    },
    implemented: false,
  },
  "x-single-active-consumer": {
    validate: (key, value, site) => {
      if (typeof value !== "boolean") throw invalidArg(key, site, `{unacceptable_type,${fieldTypeName(value) ?? "long"}}`);
    },
    implemented: false,
  },
  "x-delivery-limit": { validate: nonNegative, implemented: false },
  "x-consumer-timeout": { validate: nonNegative, implemented: false },
};

/** A queue.declare's properties, as the argument checks see them. */
export interface DeclaredQueue {
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  arguments: FieldTable;
}

/**
 * Every check a new queue's declaration goes through, in RabbitMQ's order: each argument's
 * validator (rabbit_amqqueue:check_arguments), then the queue type's own rules
 * (rabbit_quorum_queue / rabbit_stream_queue declare checks), then Warren's refusal of arguments
 * whose behaviour it does not implement.
 */
export function checkQueueDeclare(q: DeclaredQueue, site: ArgumentSite): QueueLimits {
  for (const [key, value] of Object.entries(q.arguments)) QUEUE_ARGUMENTS[key]?.validate(key, value, site, q.arguments);
  checkQueueType(q, site);
  for (const key of Object.keys(q.arguments)) {
    if (QUEUE_ARGUMENTS[key]?.implemented === false) throw invalidArg(key, site, "not_implemented");
  }
  return queueLimits(q.arguments);
}

function invalidProperty(property: string, site: ArgumentSite): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `invalid property '${property}' for ${site.what}`, site.classId, site.methodId);
}

/**
 * x-queue-type: classic (the default) and quorum are served by Warren's one queue
 * implementation, quorum with RabbitMQ's restrictions (durable, not exclusive, not auto-delete,
 * no priorities); streams do not exist in Warren, so "stream" is refused as RabbitMQ refuses a
 * type it does not have.
 */
function checkQueueType(q: DeclaredQueue, site: ArgumentSite): void {
  const type = q.arguments["x-queue-type"] ?? "classic";
  if (type === "classic") return;
  if (type !== "quorum" && type !== "stream") throw invalidArg("x-queue-type", site, `"unsupported queue type '${String(type)}'"`);
  if (!q.durable) throw invalidProperty("non-durable", site);
  if (q.exclusive) throw invalidProperty("exclusive-owner", site);
  if (q.autoDelete) throw invalidProperty("auto-delete", site);
  if (type === "stream") throw invalidArg("x-queue-type", site, `"unsupported queue type 'stream'"`);
  if (q.arguments["x-max-priority"] !== undefined) {
    throw new AmqpError(ReplyCode.preconditionFailed, `invalid arg 'x-max-priority' for ${site.what} of queue type rabbit_quorum_queue`, site.classId, site.methodId);
  }
}

/** The limits the shard enforces, from arguments checkQueueDeclare accepted. */
export function queueLimits(args: FieldTable, site: ArgumentSite = NO_SITE): QueueLimits {
  const limits: QueueLimits = {};
  const maxLength = args["x-max-length"];
  if (maxLength !== undefined) limits.maxLength = nonNegative("x-max-length", maxLength, site);
  const maxLengthBytes = args["x-max-length-bytes"];
  if (maxLengthBytes !== undefined) limits.maxLengthBytes = nonNegative("x-max-length-bytes", maxLengthBytes, site);
  const messageTtl = args["x-message-ttl"];
  if (messageTtl !== undefined) limits.messageTtl_ms = expiry("x-message-ttl", messageTtl, site);
  const overflow = args["x-overflow"];
  if (overflow === "drop-head" || overflow === "reject-publish") limits.overflow = overflow;
  else if (overflow === "reject-publish-dlx") limits.overflow = "reject-publish";
  return limits;
}

/** Throws 406 when a redeclare's arguments differ from the queue's (only the keys RabbitMQ checks). */
export function assertArgumentsEquivalent(current: FieldTable, received: FieldTable, what: string, classId: number, methodId: number): void {
  for (const key of EQUIVALENCE_KEYS) {
    // An absent x-queue-type is classic: a redeclare may name it or leave it out, either way.
    const a = key === "x-queue-type" ? (current[key] ?? "classic") : current[key];
    const b = key === "x-queue-type" ? (received[key] ?? "classic") : received[key];
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
