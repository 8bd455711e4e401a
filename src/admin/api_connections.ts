// /api/connections[/name[/channels]], /api/channels, /api/consumers[/vhost]: the live client
// side of the broker, in RabbitMQ's shapes. Users without the monitoring tag see only their own
// connections and channels; closing another user's connection takes administrator.
import type { Connection } from "../acceptor/connection.ts";
import type { Channel } from "../acceptor/channel.ts";
import type { ConsumerRecord } from "../broker/consumer_record.ts";
import { tableToJson } from "../broker/definitions.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { AdminContext } from "./admin_context.ts";
import { isAdmin, isMonitor, vhostsInScope, type Principal } from "./api_auth.ts";
import { notAuthorised, notFound } from "./api_errors.ts";
import { CHANNEL_PUBLISH_FIELDS, messageStats, octetStats } from "./message_stats.ts";
import { noContent, ok, param, sortedByVhostAndName, type ApiRequest, type Route } from "./api_route.ts";

/** "host:port" → its parts; IPv6 hosts keep their colons. */
function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(address.slice(colon + 1)) };
}

export function peerDetails(ctx: AdminContext, c: Connection): { name: string; peer_host: string; peer_port: number } {
  const peer = splitHostPort(c.peer);
  return { name: ctx.server.connectionName(c), peer_host: peer.host, peer_port: peer.port };
}

export function connectionJson(ctx: AdminContext, c: Connection): Record<string, unknown> {
  const name = ctx.server.connectionName(c);
  const local = splitHostPort(name.slice(name.indexOf(" -> ") + 4));
  const details = peerDetails(ctx, c);
  const provided = c.clientProperties["connection_name"];
  return {
    name,
    ...(typeof provided === "string" ? { user_provided_name: provided } : {}),
    node: ctx.node,
    type: "network",
    state: "running",
    protocol: "AMQP 0-9-1",
    ssl: c.tls,
    user: c.user,
    user_who_performed_action: c.user,
    vhost: c.vhost.name,
    host: local.host,
    port: local.port,
    peer_host: details.peer_host,
    peer_port: details.peer_port,
    channels: c.channelCount,
    channel_max: c.channelMax,
    frame_max: c.frameMax,
    timeout: c.heartbeat_s,
    connected_at: c.connectedAt,
    client_properties: tableToJson(c.clientProperties),
    ...octetStats(ctx.rates, c.bytes, c.bytes),
    recv_cnt: c.bytes.recv_cnt,
    send_cnt: c.bytes.send_cnt,
    send_pend: c.pendingOutputBytes,
  };
}

function channelName(ctx: AdminContext, c: Connection, ch: Channel): string {
  return `${ctx.server.connectionName(c)} (${ch.number})`;
}

function channelJson(ctx: AdminContext, c: Connection, ch: Channel): Record<string, unknown> {
  const info = ch.info;
  return {
    name: channelName(ctx, c, ch),
    node: ctx.node,
    number: info.number,
    user: c.user,
    user_who_performed_action: c.user,
    vhost: c.vhost.name,
    connection_details: peerDetails(ctx, c),
    state: "running",
    consumer_count: info.consumers,
    messages_unacknowledged: info.unacked,
    prefetch_count: info.prefetch,
    confirm: info.confirm,
    transactional: info.tx,
    ...messageStats(ctx.rates, ch.counts, ch.counts, CHANNEL_PUBLISH_FIELDS),
  };
}

/** Which connection and channel a consumer delivers to, by the broker's channel id. */
export type ChannelIndex = Map<number, { connection: Connection; channel: Channel }>;

export function channelIndex(ctx: AdminContext): ChannelIndex {
  const index: ChannelIndex = new Map();
  for (const connection of openConnections(ctx)) {
    for (const channel of connection.channelList()) index.set(channel.channelId, { connection, channel });
  }
  return index;
}

export function consumerJson(ctx: AdminContext, consumer: ConsumerRecord, index: ChannelIndex): Record<string, unknown> {
  const owner = index.get(consumer.channel.channelId);
  let details = {};
  if (owner !== undefined) {
    const peer = peerDetails(ctx, owner.connection);
    details = {
      name: channelName(ctx, owner.connection, owner.channel),
      number: owner.channel.number,
      connection_name: peer.name,
      peer_host: peer.peer_host,
      peer_port: peer.peer_port,
      user: owner.connection.user,
      node: ctx.node,
    };
  }
  return {
    consumer_tag: consumer.tag,
    queue: { name: consumer.queue.name, vhost: consumer.queue.vhost },
    channel_details: details,
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    // The channel's basic.qos prefetch for new consumers; Warren does not keep it per consumer.
    prefetch_count: owner?.channel.info.prefetch ?? 0,
    arguments: {},
    active: true,
    activity_status: "up",
  };
}

function* openConnections(ctx: AdminContext): IterableIterator<Connection> {
  for (const c of ctx.server.connections) if (c.isOpen) yield c;
}

function visibleConnections(ctx: AdminContext, p: Principal): Connection[] {
  return [...openConnections(ctx)].filter((c) => isMonitor(p) || c.user === p.name);
}

function connectionByName(req: ApiRequest): Connection {
  const name = param(req, "name");
  const found = [...openConnections(req.ctx)].find((c) => req.ctx.server.connectionName(c) === name);
  if (found === undefined) throw notFound();
  if (!isMonitor(req.principal) && found.user !== req.principal.name) throw notAuthorised("User not authorised to access object");
  return found;
}

function consumersIn(req: ApiRequest, vhost: string | undefined): Record<string, unknown>[] {
  if (vhost !== undefined && req.ctx.broker.vhost(vhost) === undefined) throw notFound();
  const index = channelIndex(req.ctx);
  const rows: Record<string, unknown>[] = [];
  for (const v of vhostsInScope(req.ctx, req.principal, vhost)) {
    for (const queue of v.queues.values()) for (const consumer of queue.consumers) rows.push(consumerJson(req.ctx, consumer, index));
  }
  return rows;
}

export const connectionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/connections",
    access: "management",
    handle: ({ ctx, principal }) => ok(sortedByVhostAndName(visibleConnections(ctx, principal).map((c) => connectionJson(ctx, c)))),
  },
  {
    method: "GET",
    path: "/api/connections/:name",
    access: "management",
    handle: (req) => ok(connectionJson(req.ctx, connectionByName(req))),
  },
  {
    method: "GET",
    path: "/api/connections/:name/channels",
    access: "management",
    handle: (req) => {
      const c = connectionByName(req);
      return ok([...c.channelList()].map((ch) => channelJson(req.ctx, c, ch)));
    },
  },
  {
    method: "DELETE",
    path: "/api/connections/:name",
    access: "management",
    handle: (req) => {
      const c = connectionByName(req);
      if (!isAdmin(req.principal) && c.user !== req.principal.name) throw notAuthorised("User not authorised to access object");
      // RabbitMQ's default reason; rabbitmqctl close_connection and the UI send X-Reason.
      const reason = req.headers.get("x-reason") ?? "Closed via management plugin";
      c.closeWith(new AmqpError(ReplyCode.connectionForced, reason));
      return noContent;
    },
  },
  {
    method: "GET",
    path: "/api/channels",
    access: "management",
    handle: ({ ctx, principal }) => {
      const rows = visibleConnections(ctx, principal).flatMap((c) => [...c.channelList()].map((ch) => channelJson(ctx, c, ch)));
      return ok(sortedByVhostAndName(rows));
    },
  },
  {
    method: "GET",
    path: "/api/consumers",
    access: "management",
    handle: (req) => ok(consumersIn(req, undefined)),
  },
  {
    method: "GET",
    path: "/api/consumers/:vhost",
    access: "vhost",
    handle: (req) => ok(consumersIn(req, param(req, "vhost"))),
  },
];
