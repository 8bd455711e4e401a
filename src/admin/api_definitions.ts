// /api/definitions: export (GET) and import (POST) of users (with their limits), vhosts,
// permissions, vhost limits, policies, operator policies (runtime parameters of the component
// "operator_policy"), exchanges, queues and bindings in RabbitMQ's JSON, so a RabbitMQ export
// imports here and the other way round. Password hashes are imported as they are. Other runtime
// parameters, global parameters and topic permissions are not supported: they export as empty
// lists and are ignored on import. The whole document's shape is checked before anything is
// applied, so a malformed upload changes nothing.
import type { Definitions } from "../broker/definitions.ts";
import { tableFromJson, VHOST_LIMITS_COMPONENT } from "../broker/definitions.ts";
import { validateLimits } from "../broker/resource_limits.ts";
import { resourceName } from "../broker/names.ts";
import { parsePolicy, type PolicyKind } from "../broker/policies.ts";
import { checkQueueDeclare } from "../broker/queue_arguments.ts";
import { PASSWORD_HASHING } from "../broker/users.ts";
import { AmqpError } from "../protocol/errors.ts";
import { isExchangeType } from "../routing/exchange.ts";
import { log } from "../log.ts";
import { badRequest } from "./api_errors.ts";
import { checkAmqpName } from "./api_fields.ts";
import { isPasswordHash } from "./api_users.ts";
import { noContent, ok, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

/** Definitions documents of many thousands of queues stay well under this. */
export const DEFINITIONS_MAX_BYTES = 16 * 1024 * 1024;

type Item = Record<string, unknown>;

function items(defs: Item, key: string): Item[] {
  const list = defs[key];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((x) => x !== null && typeof x === "object" && !Array.isArray(x))) {
    throw badRequest(`${key} must be a list of objects`);
  }
  return list as Item[];
}

function requireTypes(item: Item, where: string, strings: readonly string[], booleans: readonly string[] = []): void {
  for (const key of strings) if (typeof item[key] !== "string") throw badRequest(`${where}: ${key} must be a string`);
  for (const key of booleans) if (typeof item[key] !== "boolean") throw badRequest(`${where}: ${key} must be a boolean`);
  const args = item["arguments"];
  if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) throw badRequest(`${where}: arguments must be a JSON object`);
}

/** A policy's checks, as its PUT would run them, up front. */
function checkPolicy(kind: PolicyKind, vhost: unknown, name: unknown, body: Item): void {
  const what = `${kind === "policy" ? "policy" : "operator policy"} '${String(name)}'`;
  if (typeof vhost !== "string" || typeof name !== "string") throw badRequest(`${what}: vhost and name must be strings`);
  try {
    parsePolicy(kind, vhost, name, body);
  } catch (error) {
    if (error instanceof AmqpError) throw badRequest(`${what} in vhost '${vhost}': ${error.detail}`);
    throw error;
  }
}

/** Throws 400 naming the first item whose shape would not import. */
function checkDefinitions(defs: Item): Definitions {
  for (const v of items(defs, "vhosts")) requireTypes(v, "vhost", ["name"]);
  for (const u of items(defs, "users")) {
    requireTypes(u, `user '${String(u["name"])}'`, ["name", "password_hash"]);
    if (!isPasswordHash(u["password_hash"] as string)) throw badRequest(`user '${String(u["name"])}': password_hash is not a base64 sha256 hash`);
    if (u["hashing_algorithm"] !== undefined && u["hashing_algorithm"] !== PASSWORD_HASHING) {
      throw badRequest(`user '${String(u["name"])}': unsupported hashing algorithm ${String(u["hashing_algorithm"])}`);
    }
    const tags = u["tags"];
    if (typeof tags !== "string" && !(Array.isArray(tags) && tags.every((t) => typeof t === "string"))) {
      throw badRequest(`user '${String(u["name"])}': tags must be a string or a list of strings`);
    }
    if (u["limits"] !== undefined) validateLimits("user", u["limits"]);
  }
  for (const p of items(defs, "parameters")) {
    requireTypes(p, "parameter", ["vhost", "component", "name"]);
    if (p["component"] === VHOST_LIMITS_COMPONENT) validateLimits("vhost", p["value"]);
  }
  for (const p of items(defs, "permissions")) {
    requireTypes(p, "permission", ["user", "vhost", "configure", "write", "read"]);
    for (const kind of ["configure", "write", "read"]) {
      try {
        new RegExp(p[kind] as string);
      } catch {
        throw badRequest(`permission of '${String(p["user"])}' in '${String(p["vhost"])}': invalid ${kind} pattern`);
      }
    }
  }
  for (const p of items(defs, "parameters")) {
    if (p["component"] !== "operator_policy") continue;
    const value = p["value"];
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest(`operator policy '${String(p["name"])}': value must be a JSON object`);
    checkPolicy("operator_policy", p["vhost"], p["name"], value as Item);
  }
  for (const { vhost, name, ...body } of items(defs, "policies")) checkPolicy("policy", vhost, name, body);
  for (const x of items(defs, "exchanges")) {
    requireTypes(x, `exchange '${String(x["name"])}'`, ["name", "vhost", "type"], ["durable", "auto_delete", "internal"]);
    if (!isExchangeType(x["type"] as string)) throw badRequest(`exchange '${String(x["name"])}': unknown type '${String(x["type"])}'`);
    checkAmqpName("exchange", x["name"] as string);
  }
  for (const q of items(defs, "queues")) {
    requireTypes(q, `queue '${String(q["name"])}'`, ["name", "vhost"], ["durable", "auto_delete"]);
    checkAmqpName("queue", q["name"] as string);
    // The queue checks up front, so a refused queue fails the import before anything is applied.
    const what = resourceName("queue", q["name"] as string, String(q["vhost"]));
    const spec = { durable: q["durable"] === true, autoDelete: q["auto_delete"] === true, exclusive: false, arguments: tableFromJson(q["arguments"] as Record<string, unknown> | undefined) };
    checkQueueDeclare(spec, { what, method: null });
  }
  for (const b of items(defs, "bindings")) {
    requireTypes(b, "binding", ["source", "vhost", "destination", "destination_type", "routing_key"]);
    if (b["destination_type"] !== "queue" && b["destination_type"] !== "exchange") throw badRequest("binding: destination_type must be queue or exchange");
  }
  return defs as Definitions;
}

async function importDefinitions(req: ApiRequest): Promise<ApiResponse> {
  const defs = checkDefinitions(await req.body());
  try {
    req.ctx.broker.importDefinitions(defs);
  } catch (error) {
    // A binding to an exchange that is in neither the broker nor the document, and the like:
    // what came before it is imported (RabbitMQ's import is not atomic either).
    throw badRequest((error as Error).message);
  }
  log.info(`definitions imported by '${req.principal.name}'`);
  return noContent;
}

export const definitionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/definitions",
    access: "administrator",
    handle: ({ ctx }) => {
      const defs = ctx.broker.exportDefinitions();
      return ok({ ...defs, rabbitmq_version: defs.rabbit_version, topic_permissions: [], global_parameters: [] });
    },
  },
  { method: "POST", path: "/api/definitions", access: "administrator", maxBody_bytes: DEFINITIONS_MAX_BYTES, handle: importDefinitions },
];
