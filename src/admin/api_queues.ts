// /api/queues[/vhost[/name[/contents|/bindings]]]: list and show queues with their counts (one
// stats round trip per shard per request), declare (PUT), delete, purge (DELETE .../contents).
// Declare, delete and purge check the caller's AMQP permissions, as RabbitMQ's API does.
import type { Connection } from "../acceptor/connection.ts";
import type { QueueStats } from "../broker/broker.ts";
import { tableFromJson, tableToJson } from "../broker/definitions.ts";
import { resourceName } from "../broker/names.ts";
import { effectiveDefinition } from "../broker/policies.ts";
import { declareQueue as declare, queueForDelete } from "../broker/topology/queues.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import type { AdminContext } from "./admin_context.ts";
import type { CounterRates } from "./counter_rates.ts";
import { apiActor, NO_METHOD, requirePermission, vhostsInScope } from "./api_auth.ts";
import { bindingJson, defaultBinding } from "./api_bindings.ts";
import { channelIndex, consumerJson, peerDetails } from "./api_connections.ts";
import { badRequest, notFound } from "./api_errors.ts";
import { boolField, checkAmqpName, objectField } from "./api_fields.ts";
import { depthRate, messageStats, QUEUE_PUBLISH_FIELDS } from "./message_stats.ts";
import { created, existingVhost, noContent, ok, param, sortedByVhostAndName, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

/** Message counts of `queues` together, with the rates of their depths. */
export function messageTotals(rates: CounterRates, queues: readonly QueueRecord[], stats: Map<number, QueueStats>): Record<string, unknown> {
  let ready = 0;
  let unacked = 0;
  for (const q of queues) {
    const s = stats.get(q.id);
    if (s === undefined) continue;
    ready += s.ready;
    unacked += s.unacked;
  }
  return {
    messages: ready + unacked,
    messages_details: depthRate(rates, queues, "messages"),
    messages_ready: ready,
    messages_ready_details: depthRate(rates, queues, "messages_ready"),
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: depthRate(rates, queues, "messages_unacknowledged"),
  };
}

function queueJson(ctx: AdminContext, q: QueueRecord, stats: Map<number, QueueStats>, owners: Map<number, Connection>): Record<string, unknown> {
  const owner = q.owner === null ? undefined : owners.get(q.owner.id);
  return {
    name: q.name,
    vhost: q.vhost,
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.owner !== null,
    arguments: tableToJson(q.args),
    node: ctx.node,
    state: "running",
    type: q.type,
    policy: q.settings.policy?.name ?? null,
    operator_policy: q.settings.operatorPolicy?.name ?? null,
    effective_policy_definition: effectiveDefinition(q.settings.policy, q.settings.operatorPolicy),
    consumers: q.consumers.size,
    exclusive_consumer_tag: q.exclusiveConsumer?.tag ?? null,
    ...messageTotals(ctx.rates, [q], stats),
    message_bytes_ready: stats.get(q.id)?.readyBytes ?? 0,
    ...messageStats(ctx.rates, q.counts, q.counts, QUEUE_PUBLISH_FIELDS),
    ...(owner === undefined ? {} : { owner_pid_details: peerDetails(ctx, owner) }),
  };
}

function connectionsById(ctx: AdminContext): Map<number, Connection> {
  const byId = new Map<number, Connection>();
  for (const c of ctx.server.connections) byId.set(c.id, c);
  return byId;
}

function existingQueue(req: ApiRequest): QueueRecord {
  const queue = existingVhost(req).queues.get(param(req, "name"));
  if (queue === undefined) throw notFound();
  return queue;
}

async function listQueues(req: ApiRequest, vhost: string | undefined): Promise<Record<string, unknown>[]> {
  if (vhost !== undefined) existingVhost(req);
  const stats = await req.ctx.broker.queueStats();
  const owners = connectionsById(req.ctx);
  const rows: Record<string, unknown>[] = [];
  for (const v of vhostsInScope(req.ctx, req.principal, vhost)) for (const q of v.queues.values()) rows.push(queueJson(req.ctx, q, stats, owners));
  return sortedByVhostAndName(rows);
}

async function declareQueue(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const name = param(req, "name");
  const body = await req.body();
  const durable = boolField(body, "durable", false);
  const autoDelete = boolField(body, "auto_delete", false);
  const args = tableFromJson(objectField(body, "arguments"));
  checkAmqpName("queue", name);
  const spec = { name, durable, autoDelete, exclusive: false, arguments: args, passive: false };
  return declare(apiActor(req, vhost), spec, NO_METHOD).created ? created : noContent;
}

async function deleteQueue(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const ifEmpty = req.query.get("if-empty") === "true";
  const queue = queueForDelete(apiActor(req, vhost), param(req, "name"), req.query.get("if-unused") === "true", ifEmpty, NO_METHOD);
  if (queue === undefined) throw notFound();
  const messages = await new Promise<number | null>((resolve) => req.ctx.broker.deleteQueue(queue, ifEmpty, resolve));
  if (messages === null) throw badRequest(`${resourceName("queue", queue.name, queue.vhost)} not empty`);
  return noContent;
}

async function purgeQueue(req: ApiRequest): Promise<ApiResponse> {
  const queue = existingQueue(req);
  requirePermission(req.ctx, req.principal, queue.vhost, "read", "queue", queue.name);
  await new Promise<number>((resolve) => req.ctx.broker.purgeQueue(queue, resolve));
  return noContent;
}

export const queueRoutes: Route[] = [
  { method: "GET", path: "/api/queues", access: "management", handle: async (req) => ok(await listQueues(req, undefined)) },
  { method: "GET", path: "/api/queues/:vhost", access: "vhost", handle: async (req) => ok(await listQueues(req, param(req, "vhost"))) },
  {
    method: "GET",
    path: "/api/queues/:vhost/:name",
    access: "vhost",
    handle: async (req) => {
      const queue = existingQueue(req);
      const stats = await req.ctx.broker.queueStats();
      const index = channelIndex(req.ctx);
      return ok({
        ...queueJson(req.ctx, queue, stats, connectionsById(req.ctx)),
        consumer_details: [...queue.consumers].map((c) => consumerJson(req.ctx, c, index)),
        incoming: [],
        deliveries: [],
      });
    },
  },
  { method: "PUT", path: "/api/queues/:vhost/:name", access: "vhost", handle: declareQueue },
  { method: "DELETE", path: "/api/queues/:vhost/:name", access: "vhost", handle: deleteQueue },
  { method: "DELETE", path: "/api/queues/:vhost/:name/contents", access: "vhost", handle: purgeQueue },
  {
    method: "GET",
    path: "/api/queues/:vhost/:name/bindings",
    access: "vhost",
    handle: (req) => {
      const queue = existingQueue(req);
      const vhost = existingVhost(req);
      return ok([defaultBinding(queue), ...vhost.routes.bindingsOfQueue(queue.name).map((b) => bindingJson(vhost.name, b))]);
    },
  },
];
