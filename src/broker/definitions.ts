// Definitions in RabbitMQ's JSON shape (rabbitmqctl export_definitions / the management API's
// /api/definitions): vhosts, users (with their limits), permissions, vhost limits (the
// "vhost-limits" parameters), policies (operator policies among the runtime parameters, as
// RabbitMQ exports them), exchanges, queues and bindings. The same document is what Warren keeps
// on disk for its durable definitions.
import { Decimal, Timestamp, type FieldTable, type FieldValue } from "../protocol/table.ts";
import { isExchangeType } from "../routing/exchange.ts";
import type { PolicyKind } from "./policies.ts";
import { validateLimits } from "./resource_limits.ts";
import { PASSWORD_HASHING } from "./users.ts";

export interface Definitions {
  rabbit_version?: string;
  product_name?: string;
  product_version?: string;
  users?: { name: string; password_hash: string; hashing_algorithm?: string; tags: string[] | string; limits?: Record<string, number> }[];
  vhosts?: { name: string; description?: string; metadata?: unknown }[];
  permissions?: { user: string; vhost: string; configure: string; write: string; read: string }[];
  /** Runtime parameters; Warren keeps those of the components "vhost-limits" (name "limits") and "operator_policy" (value: a policy body). */
  parameters?: { vhost: string; component: string; name: string; value: unknown }[];
  policies?: { vhost: string; name: string; pattern: string; "apply-to"?: string; definition: Record<string, unknown>; priority?: number }[];
  exchanges?: { name: string; vhost: string; type: string; durable: boolean; auto_delete: boolean; internal: boolean; arguments: Record<string, unknown> }[];
  queues?: { name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }[];
  bindings?: { source: string; vhost: string; destination: string; destination_type: "queue" | "exchange"; routing_key: string; arguments: Record<string, unknown> }[];
}

/** What a definitions import acts on; the broker implements it. */
export interface DefinitionsTarget {
  addVhost(name: string): void;
  addUserWithHash(name: string, passwordHash: string, tags: string[]): void;
  setPermission(user: string, vhost: string, configure: string, write: string, read: string): void;
  /** `body` as the management API takes it: pattern, definition, priority, apply-to. */
  setPolicy(kind: PolicyKind, vhost: string, name: string, body: Record<string, unknown>): void;
  setUserLimits(user: string, limits: Record<string, number>): void;
  setVhostLimits(vhost: string, limits: Record<string, number>): void;
  declareExchange(vhost: string, name: string, type: string, durable: boolean, autoDelete: boolean, internal: boolean, args: FieldTable): void;
  declareQueue(vhost: string, name: string, durable: boolean, autoDelete: boolean, args: FieldTable): void;
  bind(vhost: string, source: string, destination: string, kind: "queue" | "exchange", routingKey: string, args: FieldTable): void;
}

/** RabbitMQ's component name for a vhost's limits in the parameters list. */
export const VHOST_LIMITS_COMPONENT = "vhost-limits";

/**
 * Applies a definitions document in RabbitMQ's order: vhosts and users first, then permissions,
 * limits, operator policies and policies (so queues are created under them and obey the limits),
 * exchanges, queues, bindings.
 */
export function applyDefinitions(target: DefinitionsTarget, defs: Definitions): void {
  for (const v of defs.vhosts ?? []) target.addVhost(v.name);
  for (const u of defs.users ?? []) {
    if (u.hashing_algorithm !== undefined && u.hashing_algorithm !== PASSWORD_HASHING) {
      throw new Error(`user '${u.name}': unsupported hashing algorithm ${u.hashing_algorithm}`);
    }
    const tags = Array.isArray(u.tags) ? u.tags : u.tags.split(",").filter((t) => t !== "");
    target.addUserWithHash(u.name, u.password_hash, tags);
    if (u.limits !== undefined) target.setUserLimits(u.name, validateLimits("user", u.limits));
  }
  for (const p of defs.permissions ?? []) target.setPermission(p.user, p.vhost, p.configure, p.write, p.read);
  for (const p of defs.parameters ?? []) {
    if (p.component === VHOST_LIMITS_COMPONENT) target.setVhostLimits(p.vhost, validateLimits("vhost", p.value));
  }
  for (const p of defs.parameters ?? []) if (p.component === "operator_policy") target.setPolicy("operator_policy", p.vhost, p.name, p.value as Record<string, unknown>);
  for (const p of defs.policies ?? []) {
    const { vhost, name, ...body } = p;
    target.setPolicy("policy", vhost, name, body);
  }
  for (const x of defs.exchanges ?? []) {
    if (!isExchangeType(x.type)) throw new Error(`exchange '${x.name}': unknown type '${x.type}'`);
    target.declareExchange(x.vhost, x.name, x.type, x.durable, x.auto_delete, x.internal, tableFromJson(x.arguments));
  }
  for (const q of defs.queues ?? []) target.declareQueue(q.vhost, q.name, q.durable, q.auto_delete, tableFromJson(q.arguments));
  for (const b of defs.bindings ?? []) {
    target.bind(b.vhost, b.source, b.destination, b.destination_type, b.routing_key, tableFromJson(b.arguments));
  }
}

/** A field table as JSON: bigint → number (or string past 2^53), bytes → string, timestamp → seconds (the same). */
export function tableToJson(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: FieldValue): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof Timestamp) return valueToJson(value.seconds);
  if (value instanceof Decimal) return value.value / 10 ** value.scale;
  if (Array.isArray(value)) return value.map(valueToJson);
  if (value !== null && typeof value === "object") return tableToJson(value);
  return value;
}

export function tableFromJson(json: Record<string, unknown> | undefined): FieldTable {
  const out: FieldTable = {};
  for (const [key, value] of Object.entries(json ?? {})) out[key] = valueFromJson(value);
  return out;
}

function valueFromJson(value: unknown): FieldValue {
  if (value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(valueFromJson);
  if (typeof value === "object") return tableFromJson(value as Record<string, unknown>);
  return String(value);
}
