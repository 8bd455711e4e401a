// /api/bindings[/vhost[/e/source/q|e/destination[/props]]]: list, create and delete bindings in
// RabbitMQ's shape. Like RabbitMQ, listings include the default exchange's implicit binding of
// every queue. A binding is addressed by its properties_key: the URL-encoded routing key, plus
// "~" and a hash of the arguments when it has any.
import { createHash } from "node:crypto";
import { tableFromJson, tableToJson } from "../broker/definitions.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { BindingDef } from "../routing/binding.ts";
import type { FieldTable } from "../protocol/table.ts";
import { apiActor, NO_METHOD, requirePermission, vhostsInScope } from "./api_auth.ts";
import { bind, unbind } from "../broker/topology/bindings.ts";
import { notAuthorised, notFound } from "./api_errors.ts";
import { objectField, stringField } from "./api_fields.ts";
import { created, existingVhost, noContent, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

function propertiesKey(routingKey: string, args: FieldTable): string {
  const json = tableToJson(args);
  if (Object.keys(json).length === 0) return encodeURIComponent(routingKey);
  const hash = createHash("sha256").update(JSON.stringify(json)).digest("base64url").slice(0, 22);
  return `${encodeURIComponent(routingKey)}~${hash}`;
}

export function bindingJson(vhost: string, b: BindingDef): Record<string, unknown> {
  return {
    source: b.source,
    vhost,
    destination: b.destination,
    destination_type: b.destinationKind,
    routing_key: b.routingKey,
    arguments: tableToJson(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/** The default exchange's binding of a queue, by the queue's name. */
export function defaultBinding(q: QueueRecord): Record<string, unknown> {
  return bindingJson(q.vhost, { source: "", destination: q.name, destinationKind: "queue", routingKey: q.name, arguments: {} });
}

function vhostBindings(vhost: Vhost): Record<string, unknown>[] {
  const rows = [...vhost.queues.values()].map(defaultBinding);
  for (const b of vhost.routes.bindings()) rows.push(bindingJson(vhost.name, b));
  return rows;
}

interface Ends {
  vhost: Vhost;
  source: string;
  destination: string;
  kind: "queue" | "exchange";
}

/** The binding's two ends from the path; 404 unless both exist. */
function bindingEnds(req: ApiRequest): Ends {
  const vhost = existingVhost(req);
  const dtype = param(req, "dtype");
  if (dtype !== "q" && dtype !== "e") throw notFound();
  const kind = dtype === "q" ? "queue" : "exchange";
  const source = param(req, "source");
  const destination = param(req, "destination");
  if (source === "amq.default") throw notAuthorised("operation not permitted on the default exchange");
  if (vhost.routes.exchange(source) === undefined) throw notFound();
  if (kind === "queue" ? !vhost.queues.has(destination) : vhost.routes.exchange(destination) === undefined) throw notFound();
  return { vhost, source, destination, kind };
}

async function createBinding(req: ApiRequest): Promise<ApiResponse> {
  const { vhost, source, destination, kind } = bindingEnds(req);
  const body = await req.body();
  const routingKey = stringField(body, "routing_key") ?? "";
  const args = tableFromJson(objectField(body, "arguments"));
  bind(apiActor(req, vhost), { source, destination, destinationKind: kind, routingKey, arguments: args }, NO_METHOD);
  return created;
}

function deleteBinding(req: ApiRequest): ApiResponse {
  const { vhost, source, destination, kind } = bindingEnds(req);
  const actor = apiActor(req, vhost);
  // Permissions before the lookup, so a caller without them cannot probe which bindings exist.
  requirePermission(req.ctx, req.principal, vhost.name, "write", kind, destination);
  requirePermission(req.ctx, req.principal, vhost.name, "read", "exchange", source);
  const props = param(req, "props");
  const found = [...vhost.routes.bindings()].find((b) =>
    b.source === source && b.destination === destination && b.destinationKind === kind && propertiesKey(b.routingKey, b.arguments) === props);
  if (found === undefined) throw notFound();
  unbind(actor, found, NO_METHOD);
  return noContent;
}

function bindingsBetween(req: ApiRequest): ApiResponse {
  const { vhost, source, destination, kind } = bindingEnds(req);
  const rows = [...vhost.routes.bindings()].filter((b) => b.source === source && b.destination === destination && b.destinationKind === kind);
  return ok(rows.map((b) => bindingJson(vhost.name, b)));
}

export const bindingRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/bindings",
    access: "management",
    handle: ({ ctx, principal }) => ok(vhostsInScope(ctx, principal, undefined).flatMap(vhostBindings)),
  },
  {
    method: "GET",
    path: "/api/bindings/:vhost",
    access: "vhost",
    handle: (req) => ok(vhostBindings(existingVhost(req))),
  },
  { method: "GET", path: "/api/bindings/:vhost/e/:source/:dtype/:destination", access: "vhost", handle: bindingsBetween },
  { method: "POST", path: "/api/bindings/:vhost/e/:source/:dtype/:destination", access: "vhost", handle: createBinding },
  { method: "DELETE", path: "/api/bindings/:vhost/e/:source/:dtype/:destination/:props", access: "vhost", handle: deleteBinding },
];
