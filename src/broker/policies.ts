// Policies and operator policies, as RabbitMQ 3.13 has them (rabbit_policy, rabbit_policies):
// their validation with RabbitMQ's texts, the store of each vhost, which policy applies to a queue
// or exchange, and the effective value of each setting once a queue's arguments, its policy and
// its operator policy are merged. The AMQP declare, the management API and a definitions import
// all reach policies through here and topology/policies.ts, so one place decides.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { compareBinaries, erlangTerm, keysMissing } from "./erlang_term.ts";
import type { FieldTable, FieldValue } from "../protocol/table.ts";
import type { QueueLimits } from "../link/records.ts";
import { queueLimits, queueType, type QueueType } from "./queue_arguments.ts";

/** "policy" or "operator_policy": RabbitMQ's runtime parameter components. */
export type PolicyKind = "policy" | "operator_policy";
export type ApplyTo = "queues" | "exchanges" | "all";
/** A validated definition holds only known keys, whose values are strings or numbers. */
export type PolicyValue = string | number;

export interface Policy {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly definition: Readonly<Record<string, PolicyValue>>;
  readonly priority: number;
  /** The pattern, compiled; matched anywhere in the name (re:run), as RabbitMQ does. */
  readonly regex: RegExp;
}

/** How a queue argument and the policy's value for the same setting combine. */
type Resolve = "min" | "argument" | "policy";

interface PolicyKey {
  /** RabbitMQ's check of the value (rabbit_policies:validate_policy0). */
  valid: (value: unknown) => boolean;
  /** Its error text after the value, e.g. "is not a valid maximum length". */
  invalid: string;
  /** Allowed in operator policies too; the two values merge this way (merge_policy_value). */
  operator?: "min" | "operator";
  /** Queue types the key does not apply to: a policy holding it matches none of their queues (unsupported_policies). */
  notFor?: readonly QueueType[];
  /** Argument against policy, per queue type (rabbit_amqqueue_process / rabbit_quorum_queue); absent when no queue setting follows. */
  resolve?: { classic: Resolve; quorum: Resolve };
  /** Whether Warren acts on this value; one it does not is refused rather than stored and ignored. */
  supported?: (value: unknown) => boolean;
}

const isBinary = (v: unknown): boolean => typeof v === "string";
const atLeast = (min: number) => (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= min;
const oneOf = (...allowed: unknown[]) => (v: unknown): boolean => allowed.includes(v);
const MIN: { classic: Resolve; quorum: Resolve } = { classic: "min", quorum: "min" };
const ARGUMENT: { classic: Resolve; quorum: Resolve } = { classic: "argument", quorum: "argument" };
const STREAM_ONLY: readonly QueueType[] = ["classic", "quorum"];
/** rabbit_stream_queue's ?MAX_STREAM_MAX_SEGMENT_SIZE. */
const MAX_STREAM_SEGMENT_BYTES = 3_000_000_000;

/** Every policy key RabbitMQ 3.13 registers, by name (validated in name order, as RabbitMQ does). */
const KEYS: Record<string, PolicyKey> = {
  "alternate-exchange": { valid: isBinary, invalid: "is not a valid alternate exchange name" },
  "consumer-timeout": { valid: atLeast(0), invalid: "is not a valid consumer timeout", resolve: MIN },
  "dead-letter-exchange": { valid: isBinary, invalid: "is not a valid dead letter exchange name", resolve: ARGUMENT },
  "dead-letter-routing-key": { valid: isBinary, invalid: "is not a valid dead letter routing key", resolve: ARGUMENT },
  "dead-letter-strategy": {
    valid: oneOf("at-most-once", "at-least-once"),
    invalid: "is not a valid dead letter strategy",
    notFor: ["classic", "stream"],
    resolve: ARGUMENT,
  },
  "message-ttl": { valid: atLeast(0), invalid: "is not a valid message TTL", operator: "min", resolve: MIN },
  expires: { valid: atLeast(1), invalid: "is not a valid queue expiry", operator: "min", resolve: { classic: "min", quorum: "policy" } },
  "max-length": { valid: atLeast(0), invalid: "is not a valid maximum length", operator: "min", resolve: MIN },
  "max-length-bytes": { valid: atLeast(0), invalid: "is not a valid maximum length in bytes", operator: "min", resolve: MIN },
  "max-in-memory-length": { valid: atLeast(0), invalid: "is not a valid maximum memory in bytes", operator: "min", notFor: ["classic", "stream"], supported: () => false },
  "max-in-memory-bytes": { valid: atLeast(0), invalid: "is not a valid maximum memory in bytes", operator: "min", notFor: ["classic", "stream"], supported: () => false },
  "queue-mode": {
    valid: oneOf("default", "lazy"),
    invalid: "is not a valid queue-mode value",
    notFor: ["quorum", "stream"],
    // lazy: waiting messages on disk rather than in memory, which every queue does past its window.
  },
  // A storage format choice with no behaviour of its own.
  "queue-version": { valid: oneOf(1, 2), invalid: "is not a valid queue-version value", operator: "operator" },
  overflow: {
    valid: oneOf("drop-head", "reject-publish", "reject-publish-dlx"),
    invalid: "is not a valid overflow value",
    operator: "operator",
    resolve: { classic: "argument", quorum: "policy" },
  },
  // Carried to the shard as QueueLimits.deliveryLimit; a quorum queue setting (classic queues ignore the policy).
  "delivery-limit": { valid: atLeast(0), invalid: "is not a valid delivery limit", operator: "min", notFor: ["classic", "stream"], resolve: MIN },
  // Stream settings: a policy holding them applies to stream queues only, and Warren has none.
  "max-age": { valid: (v) => typeof v === "string" && /^[0-9]+[YMDhms]$/.test(v), invalid: "is not a valid max age", notFor: STREAM_ONLY },
  "stream-max-segment-size-bytes": {
    valid: (v) => atLeast(0)(v) && (v as number) <= MAX_STREAM_SEGMENT_BYTES,
    invalid: "is not a valid segment size",
    notFor: STREAM_ONLY,
  },
  "stream-filter-size-bytes": { valid: (v) => atLeast(16)(v) && (v as number) <= 255, invalid: "is not a valid filter size. Valid range is 16-255", notFor: STREAM_ONLY },
  // Replica placement: a single node has one place for everything.
  "queue-leader-locator": { valid: oneOf("client-local", "balanced", "random", "least-leaders"), invalid: "is not a valid queue leader locator value", notFor: ["classic"] },
  "initial-cluster-size": { valid: atLeast(0), invalid: "is not a valid cluster size", notFor: STREAM_ONLY },
};

/**
 * Classic queue mirroring's keys (rabbit_mirror_queue_misc registers them in RabbitMQ 3.x): known,
 * but refused, as Warren does not mirror queues.
 */
const MIRRORING_KEYS = new Set(["ha-mode", "ha-params", "ha-sync-mode", "ha-sync-batch-size", "ha-promote-on-shutdown", "ha-promote-on-failure", "queue-master-locator"]);


/** RabbitMQ's validation failure: every message on its own line (rabbit_runtime_parameters:format_error). */
function validationFailed(errors: string[]): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `Validation failed\n\n${errors.join("\n")}\n`);
}

/** The definition's first error (keys in name order, then unknown ones), or null. */
function definitionError(kind: PolicyKind, definition: unknown): string | null {
  if (definition === null || typeof definition !== "object" || Array.isArray(definition)) return `definition must be a dictionary: ${erlangTerm(definition)}`;
  const entries = Object.entries(definition as Record<string, unknown>).sort(([a], [b]) => compareBinaries(a, b));
  if (entries.length === 0) return "no policy provided";
  const known = (key: string): PolicyKey | undefined => {
    const k = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    return kind === "policy" || k?.operator !== undefined ? k : undefined;
  };
  for (const [key, value] of entries) {
    const k = known(key);
    if (k !== undefined && !k.valid(value)) return `${erlangTerm(value)} ${k.invalid}`;
  }
  const unknown = entries.filter(([key]) => known(key) === undefined && !(kind === "policy" && MIRRORING_KEYS.has(key)));
  if (unknown.length > 0) return `[${unknown.map(([k, v]) => `{${erlangTerm(k)},${erlangTerm(v)}}`).join(",")}] are not recognised policy settings`;
  return null;
}

/**
 * A policy from its JSON (the management API's body, a definitions entry), checked as RabbitMQ
 * checks it: both pattern and definition present, then every error of the definition, apply-to,
 * pattern and priority at once, in RabbitMQ's order. Last, Warren's refusal of what it does not
 * implement. Throws AmqpError (406) with the text RabbitMQ's API answers.
 */
export function parsePolicy(kind: PolicyKind, vhost: string, name: string, body: Readonly<Record<string, unknown>>): Policy {
  const missing = keysMissing(body, ["pattern", "definition"]);
  if (missing !== null) throw new AmqpError(ReplyCode.preconditionFailed, missing);
  const { pattern, definition } = body;
  const priority = body["priority"] === undefined ? 0 : body["priority"];
  const applyTo = body["apply-to"] === undefined ? "all" : body["apply-to"];
  const errors: string[] = [];
  const definitionProblem = definitionError(kind, definition);
  if (definitionProblem !== null) errors.push(definitionProblem);
  if (applyTo !== "all" && applyTo !== "queues" && applyTo !== "exchanges") {
    errors.push(`apply-to '${String(applyTo)}' unrecognised; should be 'queues', 'exchanges' or 'all'`);
  }
  let regex: RegExp | null = null;
  if (typeof pattern !== "string") {
    errors.push(`pattern should be a binary but was ${erlangTerm(pattern)}`);
  } else {
    try {
      regex = new RegExp(pattern);
    } catch (error) {
      errors.push(`pattern should be regular expression but is invalid: ${(error as Error).message}`);
    }
  }
  if (typeof priority !== "number") errors.push(`priority should be a number, actually was ${erlangTerm(priority)}`);
  if (errors.length > 0) throw validationFailed(errors);
  const values = definition as Record<string, PolicyValue>;
  for (const key of Object.keys(values).sort(compareBinaries)) {
    if (MIRRORING_KEYS.has(key)) throw validationFailed([`Warren does not support ${key} (classic queue mirroring)`]);
    if (KEYS[key]!.supported?.(values[key]) === false) throw validationFailed([`Warren does not support ${key} ${String(values[key])} yet`]);
  }
  return { vhost, name, pattern: pattern as string, applyTo: applyTo as ApplyTo, definition: { ...values }, priority: priority as number, regex: regex! };
}

/** RabbitMQ's JSON for a policy (the API's, the definitions'). */
export interface PolicyJson {
  vhost: string;
  name: string;
  pattern: string;
  "apply-to": ApplyTo;
  definition: Record<string, PolicyValue>;
  priority: number;
}

export function policyJson(p: Policy): PolicyJson {
  return { vhost: p.vhost, name: p.name, pattern: p.pattern, "apply-to": p.applyTo, definition: { ...p.definition }, priority: p.priority };
}

/** RabbitMQ's order for listings: priority ascending, then by name. */
export function byPriority(a: Policy, b: Policy): number {
  return a.priority - b.priority || compareBinaries(a.vhost, b.vhost) || compareBinaries(a.name, b.name);
}

/** The policies and operator policies of one vhost. */
export class PolicyStore {
  private readonly kinds: Record<PolicyKind, Map<string, Policy>> = { policy: new Map(), operator_policy: new Map() };

  get(kind: PolicyKind, name: string): Policy | undefined {
    return this.kinds[kind].get(name);
  }

  list(kind: PolicyKind): Policy[] {
    return [...this.kinds[kind].values()].sort(byPriority);
  }

  /** False when an identical policy was already set (nothing to re-apply, as RabbitMQ). */
  set(kind: PolicyKind, policy: Policy): boolean {
    const current = this.kinds[kind].get(policy.name);
    if (current !== undefined && JSON.stringify(policyJson(current)) === JSON.stringify(policyJson(policy))) return false;
    this.kinds[kind].set(policy.name, policy);
    return true;
  }

  delete(kind: PolicyKind, name: string): boolean {
    return this.kinds[kind].delete(name);
  }

  /**
   * The policy of that kind applying to the queue or exchange: among those whose apply-to covers
   * it, whose definition the queue's type takes whole, and whose pattern matches the name, the
   * highest priority. RabbitMQ leaves a tie to its table order; Warren gives it to the name that
   * sorts first, so the answer does not change across restarts.
   */
  match(kind: PolicyKind, resource: "queue" | "exchange", name: string, type: QueueType = "classic"): Policy | null {
    let best: Policy | null = null;
    for (const p of this.kinds[kind].values()) {
      if (p.applyTo !== "all" && p.applyTo !== `${resource}s`) continue;
      if (resource === "queue" && Object.keys(p.definition).some((key) => KEYS[key]?.notFor?.includes(type) === true)) continue;
      if (!p.regex.test(name)) continue;
      if (best === null || p.priority > best.priority || (p.priority === best.priority && p.name < best.name)) best = p;
    }
    return best;
  }
}

/**
 * The merged definition of a policy and an operator policy (rabbit_policy:effective_definition):
 * a key in both takes the lower number (or the operator policy's value, for overflow and
 * queue-version).
 */
export function effectiveDefinition(policy: Policy | null, operator: Policy | null): Record<string, PolicyValue> {
  const merged: Record<string, PolicyValue> = { ...policy?.definition };
  for (const [key, op] of Object.entries(operator?.definition ?? {})) {
    const value = merged[key];
    merged[key] = value !== undefined && KEYS[key]?.operator === "min" ? Math.min(value as number, op as number) : op;
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => compareBinaries(a, b)));
}

/** What a queue's arguments and policies come to: the limits its shard enforces and the acceptor's own settings. */
export interface QueueSettings {
  readonly policy: Policy | null;
  readonly operatorPolicy: Policy | null;
  readonly limits: QueueLimits;
  /** x-expires / expires: deleted after this long unused. */
  readonly expires_ms: number | undefined;
  /** x-consumer-timeout / consumer-timeout; undefined leaves the broker's --consumer-timeout. */
  readonly consumerTimeout_ms: number | undefined;
}

function numberArg(value: FieldValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

/**
 * The effective settings of a queue with these arguments in a vhost with these policies: for each
 * setting the argument, the policies' merged value, or both combined as the queue's type does it
 * (the lower number for lengths, TTLs and expiry; the argument for the dead-letter settings and a
 * classic queue's overflow; the policy for a quorum queue's overflow and expiry).
 */
export function queueSettings(store: PolicyStore, name: string, args: FieldTable): QueueSettings {
  const type = queueType(args);
  const policy = store.match("policy", "queue", name, type);
  const operatorPolicy = store.match("operator_policy", "queue", name, type);
  const fromPolicies = effectiveDefinition(policy, operatorPolicy);
  const resolved = <T extends PolicyValue>(key: string, argument: T | undefined): T | undefined => {
    const value = fromPolicies[key] as T | undefined;
    if (value === undefined) return argument;
    if (argument === undefined) return value;
    const how = KEYS[key]!.resolve![type === "quorum" ? "quorum" : "classic"];
    if (how === "min") return Math.min(argument as number, value as number) as T;
    return how === "argument" ? argument : value;
  };
  const limits: QueueLimits = { ...queueLimits(args) };
  const maxLength = resolved("max-length", limits.maxLength);
  if (maxLength !== undefined) limits.maxLength = maxLength;
  const maxLengthBytes = resolved("max-length-bytes", limits.maxLengthBytes);
  if (maxLengthBytes !== undefined) limits.maxLengthBytes = maxLengthBytes;
  const messageTtl = resolved("message-ttl", limits.messageTtl_ms);
  if (messageTtl !== undefined) limits.messageTtl_ms = messageTtl;
  const overflow = resolved<string>("overflow", limits.overflow);
  if (overflow !== undefined) limits.overflow = overflow as NonNullable<QueueLimits["overflow"]>;
  const dlx = resolved<string>("dead-letter-exchange", limits.deadLetterExchange);
  if (dlx !== undefined) limits.deadLetterExchange = dlx;
  const dlrk = resolved<string>("dead-letter-routing-key", limits.deadLetterRoutingKey);
  if (dlrk !== undefined) limits.deadLetterRoutingKey = dlrk;
  const strategy = resolved<string>("dead-letter-strategy", limits.deadLetterStrategy);
  if (strategy === "at-most-once" || strategy === "at-least-once") limits.deadLetterStrategy = strategy;
  const deliveryLimit = resolved("delivery-limit", numberArg(args["x-delivery-limit"]));
  if (deliveryLimit !== undefined) limits.deliveryLimit = deliveryLimit;
  const timeoutArg = numberArg(args["x-consumer-timeout"]);
  const consumerTimeout_ms = resolved("consumer-timeout", timeoutArg !== undefined && timeoutArg > 0 ? timeoutArg : undefined);
  return {
    policy,
    operatorPolicy,
    limits,
    expires_ms: resolved("expires", numberArg(args["x-expires"])),
    // 0 is no timeout of the queue's own, as for x-consumer-timeout: the broker's applies.
    consumerTimeout_ms: consumerTimeout_ms === 0 ? undefined : consumerTimeout_ms,
  };
}

/** Whether two settings would behave the same (the policies' names count: the API shows them). */
export function sameSettings(a: QueueSettings, b: QueueSettings): boolean {
  return a.policy === b.policy && a.operatorPolicy === b.operatorPolicy && a.expires_ms === b.expires_ms &&
    a.consumerTimeout_ms === b.consumerTimeout_ms && JSON.stringify(a.limits) === JSON.stringify(b.limits);
}

/** The alternate exchange a policy gives the exchange (only policies carry one; its argument wins over it). */
export function policyAlternateExchange(store: PolicyStore, exchange: string): string | undefined {
  const value = store.match("policy", "exchange", exchange)?.definition["alternate-exchange"];
  return typeof value === "string" ? value : undefined;
}
