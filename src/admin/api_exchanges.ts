// /api/exchanges[/vhost[/name[/bindings/source|destination]]]: list, show, declare (PUT) and
// delete exchanges, with RabbitMQ's checks and texts. The default exchange is "amq.default" in
// paths, as in RabbitMQ's API, and cannot be declared or deleted.
import { tableFromJson, tableToJson } from "../broker/definitions.ts";
import { resourceName } from "../broker/names.ts";
import type { Vhost } from "../broker/vhost.ts";
import { alternateExchangeOf, isExchangeType, type ExchangeDef } from "../routing/exchange.ts";
import { requirePermission, vhostsInScope } from "./api_auth.ts";
import { bindingJson } from "./api_bindings.ts";
import { badRequest, inequivalentArg, notAuthorised, notFound } from "./api_errors.ts";
import { boolField, checkAmqpName, objectField, stringField } from "./api_fields.ts";
import { created, existingVhost, noContent, ok, param, sortedByVhostAndName, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

const DEFAULT_EXCHANGE_REFUSED = "operation not permitted on the default exchange";

function exchangeJson(vhost: string, x: ExchangeDef): Record<string, unknown> {
  return {
    name: x.name,
    vhost,
    type: x.type,
    durable: x.durable,
    auto_delete: x.autoDelete,
    internal: x.internal,
    arguments: tableToJson(x.arguments),
  };
}

/** The exchange name a path segment stands for ("amq.default" is the default exchange). */
function exchangeName(req: ApiRequest): string {
  const name = param(req, "name");
  return name === "amq.default" ? "" : name;
}

function existingExchange(req: ApiRequest): { vhost: Vhost; exchange: ExchangeDef } {
  const vhost = existingVhost(req);
  const exchange = vhost.routes.exchange(exchangeName(req));
  if (exchange === undefined) throw notFound();
  return { vhost, exchange };
}

async function declareExchange(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const name = exchangeName(req);
  const body = await req.body();
  const type = stringField(body, "type") ?? "direct";
  const durable = boolField(body, "durable", false);
  const autoDelete = boolField(body, "auto_delete", false);
  const internal = boolField(body, "internal", false);
  const args = tableFromJson(objectField(body, "arguments"));
  if (!isExchangeType(type)) throw badRequest(`unknown exchange type '${type}'`);
  checkAmqpName("exchange", name);
  if (name === "") throw notAuthorised(DEFAULT_EXCHANGE_REFUSED);
  requirePermission(req.ctx, req.principal, vhost.name, "configure", "exchange", name);
  const existing = vhost.routes.exchange(name);
  if (existing === undefined) {
    if (name.startsWith("amq.")) throw notAuthorised(`exchange name '${name}' contains reserved prefix 'amq.*'`);
    vhost.routes.declareExchange({ name, type, durable, autoDelete, internal, arguments: args });
    req.ctx.broker.definitionsChanged(vhost, durable);
    return created;
  }
  const what = resourceName("exchange", name, vhost.name);
  if (existing.type !== type) throw inequivalentArg("type", what, type, existing.type);
  if (existing.durable !== durable) throw inequivalentArg("durable", what, durable, existing.durable);
  if (existing.autoDelete !== autoDelete) throw inequivalentArg("auto_delete", what, autoDelete, existing.autoDelete);
  if (existing.internal !== internal) throw inequivalentArg("internal", what, internal, existing.internal);
  const ae = args["alternate-exchange"];
  if (ae !== undefined && alternateExchangeOf(existing) !== ae) throw inequivalentArg("alternate-exchange", what, ae, alternateExchangeOf(existing) ?? "none");
  return noContent;
}

function deleteExchange(req: ApiRequest): ApiResponse {
  const { vhost, exchange } = existingExchange(req);
  if (exchange.name === "") throw notAuthorised(DEFAULT_EXCHANGE_REFUSED);
  const what = resourceName("exchange", exchange.name, vhost.name);
  if (exchange.name.startsWith("amq.")) throw notAuthorised(`deletion of system ${what} not allowed`);
  requirePermission(req.ctx, req.principal, vhost.name, "configure", "exchange", exchange.name);
  if (req.query.get("if-unused") === "true" && vhost.routes.hasBindings(exchange.name).asSource) throw badRequest(`${what} in use`);
  vhost.routes.deleteExchange(exchange.name);
  req.ctx.broker.definitionsChanged(vhost, exchange.durable);
  return noContent;
}

function bindingsOf(end: "source" | "destination") {
  return (req: ApiRequest): ApiResponse => {
    const { vhost, exchange } = existingExchange(req);
    const rows = [...vhost.routes.bindings()].filter((b) =>
      end === "source" ? b.source === exchange.name : b.destinationKind === "exchange" && b.destination === exchange.name);
    return ok(rows.map((b) => bindingJson(vhost.name, b)));
  };
}

export const exchangeRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/exchanges",
    access: "management",
    handle: ({ ctx, principal }) =>
      ok(sortedByVhostAndName(vhostsInScope(ctx, principal, undefined).flatMap((v) => [...v.routes.exchanges()].map((x) => exchangeJson(v.name, x))))),
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost",
    access: "vhost",
    handle: (req) => {
      const vhost = existingVhost(req);
      return ok(sortedByVhostAndName([...vhost.routes.exchanges()].map((x) => exchangeJson(vhost.name, x))));
    },
  },
  {
    method: "GET",
    path: "/api/exchanges/:vhost/:name",
    access: "vhost",
    handle: (req) => {
      const { vhost, exchange } = existingExchange(req);
      return ok({ ...exchangeJson(vhost.name, exchange), incoming: [], outgoing: [] });
    },
  },
  { method: "PUT", path: "/api/exchanges/:vhost/:name", access: "vhost", handle: declareExchange },
  { method: "DELETE", path: "/api/exchanges/:vhost/:name", access: "vhost", handle: deleteExchange },
  { method: "GET", path: "/api/exchanges/:vhost/:name/bindings/source", access: "vhost", handle: bindingsOf("source") },
  { method: "GET", path: "/api/exchanges/:vhost/:name/bindings/destination", access: "vhost", handle: bindingsOf("destination") },
];
