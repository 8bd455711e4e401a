// POST /api/exchanges/:vhost/:name/publish and POST /api/queues/:vhost/:name/get: a message
// published or fetched by hand (the dashboard's "Publish message" and "Get messages"), in
// RabbitMQ's JSON. Both act as the calling user, with the checks an AMQP channel makes: write on
// the exchange, the publish property checks, user_id; read on the queue, exclusive ownership.
// As in RabbitMQ (which runs them on an internal channel), a refusal by those checks is a 400
// whose reason is the AMQP error ("406 PRECONDITION_FAILED - ..."); a missing permission is
// Warren's 403, as everywhere in its API.
import { keysMissing } from "../broker/erlang_term.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import type { Publisher } from "../broker/publish_flow.ts";
import { publishableExchange } from "../broker/topology/exchanges.ts";
import type { Vhost } from "../broker/vhost.ts";
import { Broker } from "../broker/broker.ts";
import { checkPublishProperties } from "../acceptor/publish_checks.ts";
import { senderSelected } from "../acceptor/sender_selected.ts";
import { readEnvelope } from "../link/envelope.ts";
import { beginPublishRecord, endPublishEnvelope, stampPublishRecord } from "../link/publish_record.ts";
import { RecordBuilder } from "../link/record_codec.ts";
import { PublishFlag, Settle } from "../link/records.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { encodeProperties, type BasicProperties } from "../protocol/properties.ts";
import type { AdminContext } from "./admin_context.ts";
import { requirePermission } from "./api_auth.ts";
import { ApiError, badRequest, notFound } from "./api_errors.ts";
import { payloadFromJson, payloadToJson, propertiesFromJson, propertiesToJson } from "./message_json.ts";
import { existingVhost, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

/** A hand-published message (its payload is base64 or JSON text, so a bit larger than this). */
const PUBLISH_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** At most this many messages per get request, whatever `count` asks... */
const GET_MAX_MESSAGES = 10_000;
/** ...and no more once the payloads fetched reach this many bytes (the answer is one JSON document). */
const GET_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * The management API is a publisher with no socket: the ring congestion and queue flow that pause
 * a connection's reading (publish_flow.ts) have nothing to pause, and one request is one message.
 */
const API_PUBLISHER: Publisher = {
  pauseReading: () => {},
  resumeReading: () => {},
  consuming: false,
  notifyBlocked: () => {},
  notifyUnblocked: () => {},
};

function requireKeys(body: Record<string, unknown>, keys: readonly string[]): void {
  const missing = keysMissing(body, keys);
  if (missing !== null) throw badRequest(missing);
}

/** An AMQP refusal as RabbitMQ's API reports one from its internal channel. */
function amqpRefusal(error: AmqpError): ApiError {
  return badRequest(`${error.code} ${error.message}`);
}

function refusedAsBadRequest<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw error instanceof AmqpError ? amqpRefusal(error) : error;
  }
}

// --- publish ---------------------------------------------------------------------------------

async function publish(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const pathName = param(req, "name");
  const exchange = pathName === "amq.default" ? "" : pathName;
  const body = await req.body();
  requireKeys(body, ["routing_key", "properties", "payload", "payload_encoding"]);
  const routingKey = body["routing_key"];
  if (typeof routingKey !== "string") throw badRequest(["not_string", "routing_key"]);
  if (Buffer.byteLength(routingKey, "utf8") > 255) throw badRequest("routing_key is longer than 255 bytes");
  const propsJson = body["properties"];
  if (propsJson === null || typeof propsJson !== "object" || Array.isArray(propsJson)) throw badRequest(["not_object", "properties"]);
  const props = propertiesFromJson(propsJson as Record<string, unknown>);
  const payload = payloadFromJson(body["payload"], body["payload_encoding"]);
  // The path's name, so the default exchange is "amq.default" in the refusal, as RabbitMQ's.
  requirePermission(req.ctx, req.principal, vhost.name, "write", "exchange", pathName);
  const targets = refusedAsBadRequest(() => route(req, vhost, exchange, routingKey, props));
  const routed = targets.length > 0;
  send(req.ctx.broker, exchange, routingKey, props, payload, targets);
  if (routed) {
    // RabbitMQ's API publishes in confirm mode and answers after the confirm: once the shards have
    // applied the message (and journaled it, when persistent in a durable queue).
    await new Promise<void>((resolve) => req.ctx.broker.syncAll(resolve));
  }
  return ok({ routed });
}

/** The queues the message reaches, after the checks basic.publish makes (channel.ts). */
function route(req: ApiRequest, vhost: Vhost, exchange: string, routingKey: string, props: BasicProperties): QueueRecord[] {
  publishableExchange(vhost, exchange);
  if (props.userId !== undefined && props.userId !== req.principal.name) {
    throw new AmqpError(ReplyCode.preconditionFailed, `user_id property set to '${props.userId}' but authenticated user was '${req.principal.name}'`, "basic.publish");
  }
  const raw = encodeProperties(props);
  checkPublishProperties(raw, 0, raw.length);
  const selected = senderSelected(props.headers);
  const names = new Set<string>();
  const out: string[] = [];
  for (const key of [routingKey, ...(selected?.keys ?? [])]) {
    out.length = 0;
    if (exchange === "") {
      if (vhost.queues.has(key)) out.push(key);
    } else {
      vhost.routes.route(exchange, key, () => props.headers, out);
    }
    for (const name of out) names.add(name);
  }
  if (selected?.bcc === true && props.headers !== undefined) delete props.headers["BCC"];
  return [...names].map((name) => vhost.queues.get(name)).filter((q) => q !== undefined);
}

function send(broker: Broker, exchange: string, routingKey: string, props: BasicProperties, payload: Uint8Array, targets: QueueRecord[]): void {
  broker.counters.published++;
  if (targets.length === 0) {
    // RabbitMQ publishes with mandatory=true and reports the return as routed=false.
    broker.counters.returned++;
    return;
  }
  const raw = encodeProperties(props);
  const r = new RecordBuilder(64 + raw.length + payload.length);
  beginPublishRecord(r, exchange, routingKey);
  r.u32(raw.length).bytes(raw, 0, raw.length).bytes(payload, 0, payload.length);
  endPublishEnvelope(r);
  const flags = (props.deliveryMode === 2 ? PublishFlag.persistent : 0) | (props.expiration !== undefined ? PublishFlag.expires : 0);
  stampPublishRecord(r, flags, 0, 0);
  const byShard = new Map<number, number[]>();
  for (const q of targets) byShard.set(q.shard, [...(byShard.get(q.shard) ?? []), q.id]);
  for (const [shard, ids] of byShard) broker.publish(API_PUBLISHER, shard, r.u8, r.length, ids);
}

// --- get -------------------------------------------------------------------------------------

const ACK_MODES = {
  ack_requeue_true: Settle.requeue,
  ack_requeue_false: Settle.ack,
  reject_requeue_true: Settle.requeue,
  reject_requeue_false: Settle.drop,
} as const;

/** RabbitMQ's parse_int: an integer, or a string of one (its UI's forms send strings). */
function integerField(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^-?[0-9]+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw badRequest(["not_integer", String(value)]);
  return n;
}

interface Got {
  deliveryId: number;
  redelivered: boolean;
  remaining: number;
  exchange: string;
  routingKey: string;
  props: BasicProperties;
  body: Uint8Array;
}

function getOne(ctx: AdminContext, queue: QueueRecord): Promise<Got | null> {
  return new Promise((resolve) =>
    ctx.broker.getMessage(queue, false, (got) => {
      if (got === null) return resolve(null);
      // The envelope lives in the ring only during this call: everything is copied out.
      const { exchange, routingKey, props, body } = readEnvelope(got.env, got.at, got.length);
      resolve({ deliveryId: got.deliveryId, redelivered: got.redelivered, remaining: got.remaining, exchange, routingKey, props, body: body.slice() });
    }),
  );
}

async function get(req: ApiRequest): Promise<ApiResponse> {
  const vhost = existingVhost(req);
  const queue = vhost.queues.get(param(req, "name"));
  if (queue === undefined) throw notFound();
  const body = await req.body();
  requireKeys(body, ["ackmode", "count", "encoding"]);
  const count = integerField(body, "count")!;
  const ackmode = body["ackmode"];
  if (typeof ackmode !== "string" || !Object.hasOwn(ACK_MODES, ackmode)) throw badRequest(`unknown ackmode '${String(ackmode)}': ${Object.keys(ACK_MODES).join(", ")}`);
  const settle = ACK_MODES[ackmode as keyof typeof ACK_MODES];
  const encoding = body["encoding"];
  if (encoding !== "auto" && encoding !== "base64") throw badRequest("Unsupported encoding. Please use auto or base64.");
  const truncate = integerField(body, "truncate");
  requirePermission(req.ctx, req.principal, vhost.name, "read", "queue", queue.name);
  // The API is never the owner of an exclusive queue (RabbitMQ's internal channel is not either).
  if (queue.owner !== null) throw amqpRefusal(Broker.lockedQueue(queue, "basic.get"));
  // A negative count takes messages until the queue is empty, as in RabbitMQ.
  const wanted = Math.min(count < 0 ? GET_MAX_MESSAGES : count, GET_MAX_MESSAGES);
  const taken: Got[] = [];
  let bytes = 0;
  // One at a time, each held unacknowledged until all are taken: a requeued message would
  // otherwise be the next one got.
  while (taken.length < wanted && bytes < GET_MAX_PAYLOAD_BYTES) {
    const got = await getOne(req.ctx, queue);
    if (got === null) break;
    taken.push(got);
    bytes += got.body.length;
  }
  const { broker } = req.ctx;
  broker.counters.delivered += taken.length;
  if (settle === Settle.ack) broker.counters.acked += taken.length;
  if (taken.length > 0) broker.settle(queue.shard, settle, taken.map((g) => g.deliveryId));
  return ok(
    taken.map((g) => ({
      payload_bytes: g.body.length,
      redelivered: g.redelivered,
      exchange: g.exchange,
      routing_key: g.routingKey,
      message_count: g.remaining,
      properties: propertiesToJson(g.props),
      ...payloadToJson(truncate !== undefined && truncate >= 0 ? g.body.subarray(0, truncate) : g.body, encoding),
    })),
  );
}

export const messageRoutes: Route[] = [
  { method: "POST", path: "/api/exchanges/:vhost/:name/publish", access: "vhost", maxBody_bytes: PUBLISH_MAX_BODY_BYTES, handle: publish },
  { method: "POST", path: "/api/queues/:vhost/:name/get", access: "vhost", handle: get },
];
