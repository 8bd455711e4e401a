// /api/overview, /api/nodes[/name] and /api/aliveness-test/vhost. Message totals come from the
// broker's counters, with rates sampled every 5 s (counter_rates.ts); queue totals from one stats
// round trip per shard. Users without the monitoring tag see totals of their own vhosts only, and
// no message_stats (Warren counts messages broker-wide, not per vhost).
import { cpus } from "node:os";
import { WARREN_VERSION } from "../acceptor/server_properties.ts";
import type { BrokerCounters } from "../broker/broker.ts";
import { type AdminContext, RABBITMQ_COMPAT_VERSION } from "./admin_context.ts";
import { alarmFields } from "./api_alarms.ts";
import { isMonitor, vhostsInScope } from "./api_auth.ts";
import { ApiError } from "./api_errors.ts";
import { messageTotals } from "./api_queues.ts";
import { existingVhost, ok, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

const EXCHANGE_TYPES = ["direct", "fanout", "headers", "topic"].map((name) => ({
  name,
  description: `AMQP ${name} exchange, as per the AMQP specification`,
  enabled: true,
}));

/** RabbitMQ's message_stats keys for Warren's counters. */
const MESSAGE_STATS: [string, keyof BrokerCounters][] = [
  ["publish", "published"],
  ["deliver_get", "delivered"],
  ["ack", "acked"],
  ["confirm", "confirmed"],
  ["return_unroutable", "returned"],
];

function messageStats(ctx: AdminContext): Record<string, unknown> {
  const stats: Record<string, unknown> = {};
  const { counters } = ctx.broker;
  for (const [key, counter] of MESSAGE_STATS) {
    stats[key] = counters[counter];
    stats[`${key}_details`] = { rate: ctx.rates.rate(counters, counter) };
  }
  return stats;
}

async function overview(req: ApiRequest): Promise<ApiResponse> {
  const { ctx, principal } = req;
  const vhosts = vhostsInScope(ctx, principal, undefined);
  const stats = await ctx.broker.queueStats();
  const visible = new Set(vhosts.map((v) => v.name));
  let connections = 0;
  let channels = 0;
  for (const c of ctx.server.connections) {
    if (!c.isOpen || !visible.has(c.vhost.name)) continue;
    connections++;
    channels += c.channelCount;
  }
  let exchanges = 0;
  let consumers = 0;
  for (const v of vhosts) {
    for (const _ of v.routes.exchanges()) exchanges++;
    for (const q of v.queues.values()) consumers += q.consumers.size;
  }
  return ok({
    management_version: RABBITMQ_COMPAT_VERSION,
    rates_mode: "basic",
    exchange_types: EXCHANGE_TYPES,
    product_version: WARREN_VERSION,
    product_name: "Warren",
    rabbitmq_version: RABBITMQ_COMPAT_VERSION,
    cluster_name: ctx.node,
    disable_stats: false,
    enable_queue_totals: true,
    message_stats: isMonitor(principal) ? messageStats(ctx) : {},
    queue_totals: messageTotals(ctx.rates, vhosts.flatMap((v) => [...v.queues.values()]), stats),
    object_totals: { channels, connections, consumers, exchanges, queues: vhosts.reduce((n, v) => n + v.queues.size, 0) },
    statistics_db_event_queue: 0,
    node: ctx.node,
    listeners: ctx.listeners.map((l) => ({ node: ctx.node, protocol: l.protocol, ip_address: l.host, port: l.port })),
    contexts: [],
    ...alarmFields(ctx),
  });
}

function nodeJson(ctx: AdminContext): Record<string, unknown> {
  return {
    name: ctx.node,
    type: "disc",
    running: true,
    os_pid: String(process.pid),
    ...alarmFields(ctx),
    uptime: Date.now() - ctx.startedAt,
    processors: cpus().length,
    runtime: `Bun ${Bun.version}`,
    product_version: WARREN_VERSION,
    partitions: [],
  };
}

const ALIVENESS_QUEUE = "aliveness-test";
const ALIVENESS_MESSAGE = "test_message";

/** RabbitMQ's check: declare "aliveness-test", publish a message to it and get it back. */
async function aliveness(req: ApiRequest): Promise<ApiResponse> {
  const { broker } = req.ctx;
  const vhost = existingVhost(req);
  const queue = vhost.queues.get(ALIVENESS_QUEUE) ?? broker.createQueue(vhost, ALIVENESS_QUEUE, false, false, null, {});
  broker.publishToQueue(queue, new TextEncoder().encode(ALIVENESS_MESSAGE));
  const body = await new Promise<Uint8Array | null>((resolve) => broker.getFromQueue(queue, resolve));
  if (body === null || new TextDecoder().decode(body) !== ALIVENESS_MESSAGE) throw new ApiError(500, "failed", "aliveness-test message did not come back");
  return ok({ status: "ok" });
}

export const overviewRoutes: Route[] = [
  { method: "GET", path: "/api/overview", access: "management", handle: overview },
  { method: "GET", path: "/api/nodes", access: "monitoring", handle: ({ ctx }) => ok([nodeJson(ctx)]) },
  { method: "GET", path: "/api/aliveness-test/:vhost", access: "vhost", handle: aliveness },
];
