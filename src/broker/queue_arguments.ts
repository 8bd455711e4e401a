// Queue declare arguments: which ones Warren acts on, their validation (RabbitMQ's 406 texts),
// and the equivalence check of a redeclare.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { MethodName } from "../protocol/methods.ts";
import { Decimal, Timestamp, type FieldTable, type FieldValue } from "../protocol/table.ts";
import type { QueueLimits } from "../link/records.ts";

/** Where an invalid argument is reported: "queue 'q' in vhost '/'" and the declaring method. */
export interface ArgumentSite {
  what: string;
  method: MethodName | null;
}

const NO_SITE: ArgumentSite = { what: "queue", method: null };

/** rabbit_misc's ?MAX_EXPIRY_TIMER: the largest TTL or expiry Erlang timers take, in ms. */
const MAX_EXPIRY_MS = 4294967295;
/** rabbit_amqqueue's ?MAX_SUPPORTED_PRIORITY. */
const MAX_PRIORITY = 255;

/** rabbit_amqqueue:check_arguments' text; `error` is the validator's Erlang term as ~p prints it. */
function invalidArg(key: string, site: ArgumentSite, error: string): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `invalid arg '${key}' for ${site.what}: ${error}`, site.method);
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

/** check_initial_cluster_size_arg: a non-negative integer other than 0. */
function positive(key: string, value: FieldValue, site: ArgumentSite): void {
  if (nonNegative(key, value, site) === 0) throw invalidArg(key, site, "{value_zero,0}");
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

/** RabbitMQ's queue types; Warren serves classic and quorum from its one queue implementation. */
export type QueueType = "classic" | "quorum" | "stream";

const TYPE_MODULE: Record<QueueType, string> = { classic: "rabbit_classic_queue", quorum: "rabbit_quorum_queue", stream: "rabbit_stream_queue" };

/** A declare's x-queue-type (checkQueueDeclare accepted it); absent is classic. */
export function queueType(args: FieldTable): QueueType {
  const type = args["x-queue-type"];
  return type === "quorum" || type === "stream" ? type : "classic";
}

type Validator = (key: string, value: FieldValue, site: ArgumentSite, args: FieldTable) => void;

interface QueueArgument {
  /** RabbitMQ's check (rabbit_amqqueue:declare_args/0); throws its 406 for an invalid value. */
  validate: Validator;
  /** The queue types that take the argument (each rabbit_*_queue:capabilities() queue_arguments). */
  types: readonly QueueType[];
  /**
   * Whether Warren acts on this value. A value it does not act on is refused (406, naming the
   * argument) rather than stored and ignored: a client relying on it must not believe it works.
   */
  supported: (value: FieldValue) => boolean;
}

const always = (): boolean => true;
const never = (): boolean => false;
const noCheck: Validator = () => {};
const ALL: readonly QueueType[] = ["classic", "quorum", "stream"];
const CLASSIC_QUORUM: readonly QueueType[] = ["classic", "quorum"];

/**
 * Every queue argument RabbitMQ 3.10-3.13 knows, in the order RabbitMQ validates them (the first
 * invalid one in this order is the one reported, whatever order the client sent them in). Keys
 * outside the table are stored and ignored, as RabbitMQ does with arguments it does not know.
 */
export const QUEUE_ARGUMENTS: Record<string, QueueArgument> = {
  "x-expires": {
    validate: (key, value, site) => {
      if (integerValue(key, value, site) === 0) throw invalidArg(key, site, "{value_zero,0}");
      expiry(key, value, site);
    },
    types: CLASSIC_QUORUM,
    supported: always,
  },
  "x-message-ttl": { validate: expiry, types: CLASSIC_QUORUM, supported: always },
  "x-dead-letter-exchange": {
    validate: (key, value, site) => {
      // rabbit_channel's check before the declare, hence its own text.
      if (typeof value !== "string") {
        throw new AmqpError(ReplyCode.preconditionFailed, `invalid type '${fieldTypeName(value) ?? "long"}' for arg '${key}' in ${site.what}`, site.method);
      }
    },
    types: CLASSIC_QUORUM,
    supported: always,
  },
  "x-dead-letter-routing-key": {
    validate: (key, value, site, args) => {
      longstr(key, value, site);
      if (args["x-dead-letter-exchange"] === undefined) throw invalidArg(key, site, "routing_key_but_no_dlx_defined");
    },
    types: CLASSIC_QUORUM,
    supported: always,
  },
  "x-dead-letter-strategy": {
    validate: oneOf(["at-most-once", "at-least-once"], () => "invalid_dlx_strategy"),
    types: ["quorum"],
    supported: always,
  },
  "x-max-length": { validate: nonNegative, types: CLASSIC_QUORUM, supported: always },
  "x-max-length-bytes": { validate: nonNegative, types: ALL, supported: always },
  "x-max-in-memory-length": { validate: nonNegative, types: ["quorum"], supported: never },
  "x-max-in-memory-bytes": { validate: nonNegative, types: ["quorum"], supported: never },
  "x-max-priority": {
    validate: (key, value, site) => {
      const n = nonNegative(key, value, site);
      if (n > MAX_PRIORITY) throw invalidArg(key, site, `{max_value_exceeded,${n}}`);
    },
    types: ["classic"],
    supported: always,
  },
  // reject-publish-dlx is reject-publish that also dead-letters the refused message.
  "x-overflow": { validate: oneOf(["drop-head", "reject-publish", "reject-publish-dlx"], () => "invalid_overflow"), types: CLASSIC_QUORUM, supported: always },
  "x-queue-mode": {
    validate: oneOf(["default", "lazy"], (v) => `"unsupported queue mode '${v}'"`),
    types: ["classic"],
    // lazy asks that waiting messages be on disk rather than in memory: every queue pages past its
    // memory window (ShardQueue), so both modes are what Warren does.
    supported: always,
  },
  "x-queue-version": {
    validate: (key, value, site) => {
      const n = nonNegative(key, value, site);
      if (n !== 1 && n !== 2) throw invalidArg(key, site, `"unsupported queue version '${n}'"`);
    },
    types: ["classic"],
    // A storage format choice with no behaviour of its own.
    supported: always,
  },
  "x-single-active-consumer": {
    validate: (key, value, site) => {
      if (typeof value !== "boolean") throw invalidArg(key, site, `{unacceptable_type,${fieldTypeName(value) ?? "long"}}`);
    },
    types: CLASSIC_QUORUM,
    supported: always,
  },
  // Checked first, by checkQueueDeclare.
  "x-queue-type": { validate: noCheck, types: ALL, supported: always },
  // Replica placement: a single node has one place for everything.
  "x-quorum-initial-group-size": { validate: positive, types: ["quorum"], supported: always },
  "x-max-age": { validate: longstr, types: ["stream"], supported: always },
  "x-stream-max-segment-size-bytes": { validate: nonNegative, types: ["stream"], supported: always },
  "x-initial-cluster-size": { validate: positive, types: ["stream"], supported: always },
  "x-queue-leader-locator": { validate: longstr, types: ["quorum", "stream"], supported: always },
  // Known to the queue types without a check of their own.
  "x-queue-master-locator": { validate: noCheck, types: ["classic"], supported: always },
  "x-delivery-limit": { validate: nonNegative, types: ["quorum"], supported: always },
  // Read at consume time by RabbitMQ 3.12+, not among its declare arguments.
  "x-consumer-timeout": { validate: noCheck, types: ALL, supported: always },
};

/** A queue.declare's properties, as the argument checks see them. */
export interface DeclaredQueue {
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  arguments: FieldTable;
}

/**
 * Every check a new queue's declaration goes through, in RabbitMQ's order
 * (rabbit_amqqueue:check_declare_arguments, then the queue type's declare): x-queue-type; each
 * argument the type takes, in the table's order; arguments that belong to other types; the
 * type's rules on the queue's properties; then Warren's refusal of what it does not implement.
 */
export function checkQueueDeclare(q: DeclaredQueue, site: ArgumentSite): QueueLimits {
  const args = q.arguments;
  const rawType = args["x-queue-type"];
  if (rawType !== undefined) {
    const name = longstr("x-queue-type", rawType, site);
    if (!(name in TYPE_MODULE)) throw invalidArg("x-queue-type", site, `"unsupported queue type '${name}'"`);
  }
  const type = queueType(args);
  for (const [key, argument] of Object.entries(QUEUE_ARGUMENTS)) {
    const value = args[key];
    if (value !== undefined && argument.types.includes(type)) argument.validate(key, value, site, args);
  }
  for (const key of Object.keys(args)) {
    if (QUEUE_ARGUMENTS[key]?.types.includes(type) === false) {
      throw new AmqpError(ReplyCode.preconditionFailed, `invalid arg '${key}' for ${site.what} of queue type ${TYPE_MODULE[type]}`, site.method);
    }
  }
  if (type !== "classic") {
    // rabbit_queue_type_util's checks, in the order quorum and stream queues run them.
    if (q.autoDelete) throw invalidProperty("auto-delete", site);
    if (q.exclusive) throw invalidProperty("exclusive-owner", site);
    if (!q.durable) throw invalidProperty("non-durable", site);
  }
  if (type === "stream") throw invalidArg("x-queue-type", site, "Warren does not support stream queues yet");
  for (const [key, value] of Object.entries(args)) {
    if (QUEUE_ARGUMENTS[key]?.supported(value) === false) throw invalidArg(key, site, `Warren does not support ${key} ${describe(value)} yet`);
  }
  return queueLimits(args);
}

function invalidProperty(property: string, site: ArgumentSite): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `invalid property '${property}' for ${site.what}`, site.method);
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
  if (args["x-single-active-consumer"] === true) limits.singleActiveConsumer = true;
  const maxPriority = args["x-max-priority"];
  if (maxPriority !== undefined) limits.maxPriority = nonNegative("x-max-priority", maxPriority, site);
  const overflow = args["x-overflow"];
  if (overflow === "drop-head" || overflow === "reject-publish" || overflow === "reject-publish-dlx") limits.overflow = overflow;
  const dlx = args["x-dead-letter-exchange"];
  if (typeof dlx === "string") limits.deadLetterExchange = dlx;
  const dlrk = args["x-dead-letter-routing-key"];
  if (typeof dlrk === "string") limits.deadLetterRoutingKey = dlrk;
  const strategy = args["x-dead-letter-strategy"];
  if (strategy === "at-most-once" || strategy === "at-least-once") limits.deadLetterStrategy = strategy;
  const deliveryLimit = args["x-delivery-limit"];
  if (deliveryLimit !== undefined) limits.deliveryLimit = nonNegative("x-delivery-limit", deliveryLimit, site);
  return limits;
}

/**
 * Throws 406 when a redeclare's arguments differ from the queue's: the keys its queue type takes,
 * as rabbit_amqqueue:assert_args_equivalence compares them.
 */
export function assertArgumentsEquivalent(current: FieldTable, received: FieldTable, what: string, method: MethodName | null): void {
  const type = queueType(current);
  for (const [key, argument] of Object.entries(QUEUE_ARGUMENTS)) {
    if (!argument.types.includes(type)) continue;
    const a = current[key];
    const b = received[key];
    if (a === undefined && b === undefined) continue;
    // An absent x-queue-type is classic: a redeclare may name it or leave it out, either way.
    if (key === "x-queue-type" && (a ?? "classic") === "classic" && (b ?? "classic") === "classic") continue;
    if (a !== undefined && b !== undefined && sameValue(a, b)) continue;
    throw inequivalentArgument(key, what, a, b, method);
  }
}

/**
 * rabbit_misc:assert_args_equivalence's 406: bare quoted values when both sides are present
 * ("received '20' but current is '10'"), and "the value 'x' of type 'longstr'" against "none".
 */
export function inequivalentArgument(key: string, what: string, current: FieldValue | undefined, received: FieldValue | undefined, method: MethodName | null): AmqpError {
  const side = (value: FieldValue | undefined, other: FieldValue | undefined): string => {
    if (value === undefined) return "none";
    if (other !== undefined) return `'${describe(value)}'`;
    const type = fieldTypeName(value);
    return type === undefined ? `the value '${describe(value)}'` : `the value '${describe(value)}' of type '${type}'`;
  };
  return new AmqpError(ReplyCode.preconditionFailed, `inequivalent arg '${key}' for ${what}: received ${side(received, current)} but current is ${side(current, received)}`, method);
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
