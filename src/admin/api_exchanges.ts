// /api/exchanges[/vhost[/name[/bindings/source|destination]]]: list, show, declare (PUT) and
// delete exchanges, with RabbitMQ's checks and texts. The default exchange is "amq.default" in
// paths, as in RabbitMQ's API, and cannot be declared or deleted.
import { tableFromJson, tableToJson } from "../broker/definitions.ts";
import { declareExchange as declare, deleteExchange as remove } from "../broker/topology/exchanges.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { ExchangeEntry } from "../routing/vhost_routes.ts";
import type { AdminContext } from "./admin_context.ts";
import { apiActor, NO_METHOD, vhostsInScope } from "./api_auth.ts";
import { bindingJson } from "./api_bindings.ts";
import { notFound } from "./api_errors.ts";
import { boolField, checkAmqpName, objectField, stringField } from "./api_fields.ts";
import { exchangeMessageStats } from "./message_stats.ts";
import { created, existingVhost, noContent, ok, param, sortedByVhostAndName, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

function exchangeJson(ctx: AdminContext, vhost: Vhost, { def: x, counts }: ExchangeEntry): Record<string, unknown> {
  // RabbitMQ shows "policy" only on an exchange a policy applies to.
  const policy = vhost.policies.match("policy", "exchange", x.name);
  return {
    name: x.name,
    vhost: vhost.name,
    type: x.type,
    durable: x.durable,
    auto_delete: x.autoDelete,
    internal: x.internal,
    arguments: tableToJson(x.arguments),
    ...(policy === null ? {} : { policy: policy.name }),
    ...exchangeMessageStats(ctx.rates, counts),
  };
}

/** The exchange name a path segment stands for ("amq.default" is the default exchange). */
function exchangeName(req: ApiRequest): string {
  const name = param(req, "name");
  return name === "amq.default" ? "" : name;
}

function existingExchange(req: ApiRequest): { vhost: Vhost; exchange: ExchangeEntry } {
  const vhost = existingVhost(req);
  const exchange = vhost.routes.entry(exchangeName(req));
  if (exchange === undefined) throw notFound();
  return { vhost, exchange };
}

async function declareExchange(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const name = exchangeName(req);
  const body = await req.body();
  const spec = {
    name,
    type: stringField(body, "type") ?? "direct",
    durable: boolField(body, "durable", false),
    autoDelete: boolField(body, "auto_delete", false),
    internal: boolField(body, "internal", false),
    arguments: tableFromJson(objectField(body, "arguments")),
    passive: false,
  };
  checkAmqpName("exchange", name);
  return declare(apiActor(req, vhost), spec, NO_METHOD) ? created : noContent;
}

function deleteExchange(req: ApiRequest): ApiResponse {
  const { vhost, exchange } = existingExchange(req);
  remove(apiActor(req, vhost), exchange.def.name, req.query.get("if-unused") === "true", NO_METHOD);
  return noContent;
}

function bindingsOf(end: "source" | "destination") {
  return (req: ApiRequest): ApiResponse => {
    const { vhost, exchange } = existingExchange(req);
    const { name } = exchange.def;
    const rows = [...vhost.routes.bindings()].filter((b) =>
      end === "source" ? b.source === name : b.destinationKind === "exchange" && b.destination === name);
    return ok(rows.map((b) => bindingJson(vhost.name, b)));
  };
}

export const exchangeRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/exchanges",
    access: "management",
    handle: ({ ctx, principal }) =>
      ok(sortedByVhostAndName(vhostsInScope(ctx, principal, undefined).flatMap((v) => [...v.routes.entries()].map((x) => exchangeJson(ctx, v, x))))),
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost",
    access: "vhost",
    handle: (req) => {
      const vhost = existingVhost(req);
      return ok(sortedByVhostAndName([...vhost.routes.entries()].map((x) => exchangeJson(req.ctx, vhost, x))));
    },
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost/:name",
    access: "vhost",
    handle: (req) => {
      const { vhost, exchange } = existingExchange(req);
      return ok({ ...exchangeJson(req.ctx, vhost, exchange), incoming: [], outgoing: [] });
    },
  },
  { method: "PUT", path: "/api/exchanges/:vhost/:name", access: "vhost", handle: declareExchange },
  { method: "DELETE", path: "/api/exchanges/:vhost/:name", access: "vhost", handle: deleteExchange },
  { method: "GET", path: "/api/exchanges/:vhost/:name/bindings/source", access: "vhost", handle: bindingsOf("source") },
  { method: "GET", path: "/api/exchanges/:vhost/:name/bindings/destination", access: "vhost", handle: bindingsOf("destination") },
];
