// Exchange, queue and binding methods: the AMQP adapter of the topology domain
// (src/broker/topology). Each function throws AmqpError; the channel turns that into a close.
import type { QueueRecord } from "../broker/queue_record.ts";
import { checkPermission as check, type Actor } from "../broker/topology/actor.ts";
import { bind, unbind } from "../broker/topology/bindings.ts";
import * as exchanges from "../broker/topology/exchanges.ts";
import * as queues from "../broker/topology/queues.ts";
import type { PermissionKind } from "../broker/users.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { MethodName, MethodOf } from "../protocol/methods.ts";
import type { BindingDef } from "../routing/binding.ts";
import type { ExchangeCounts } from "../routing/exchange_state.ts";
import type { ChannelHost } from "./channel_host.ts";

function actor(host: ChannelHost): Actor {
  return { broker: host.broker, vhost: host.vhost, user: host.user, connection: host };
}

export function checkPermission(host: ChannelHost, kind: PermissionKind, resource: "queue" | "exchange", name: string, method: MethodName): void {
  check(actor(host), kind, resource, name, method);
}

export function declareExchange(host: ChannelHost, m: MethodOf<"exchange.declare">): void {
  exchanges.declareExchange(actor(host), { name: m.exchange, type: m.type, durable: m.durable, autoDelete: m.autoDelete, internal: m.internal, arguments: m.arguments, passive: m.passive }, m.name);
}

export function deleteExchange(host: ChannelHost, m: MethodOf<"exchange.delete">): void {
  exchanges.deleteExchange(actor(host), m.exchange, m.ifUnused, m.name);
}

export function bindExchange(host: ChannelHost, m: MethodOf<"exchange.bind">): void {
  bind(actor(host), { source: m.source, destination: m.destination, destinationKind: "exchange", routingKey: m.routingKey, arguments: m.arguments }, m.name);
}

export function unbindExchange(host: ChannelHost, m: MethodOf<"exchange.unbind">): void {
  unbind(actor(host), { source: m.source, destination: m.destination, destinationKind: "exchange", routingKey: m.routingKey, arguments: m.arguments }, m.name);
}

/** basic.publish's exchange checks (404 missing, 403 internal); its counters, or null for the default exchange. */
export function checkPublishExchange(host: ChannelHost, name: string): ExchangeCounts | null {
  return exchanges.publishableExchange(host.vhost, name)?.counts ?? null;
}

/** The queue by name, checked for existence (404) and exclusive ownership (405). */
export function usableQueue(host: ChannelHost, name: string, method: MethodName): QueueRecord {
  return queues.usableQueue(actor(host), name, method);
}

export function declareQueue(host: ChannelHost, m: MethodOf<"queue.declare">): { queue: QueueRecord; created: boolean } {
  const result = queues.declareQueue(actor(host), { name: m.queue, durable: m.durable, autoDelete: m.autoDelete, exclusive: m.exclusive, arguments: m.arguments, passive: m.passive }, m.name);
  if (result.created && m.exclusive) host.ownQueue(result.queue);
  return result;
}

/** The queue to delete, or undefined when it does not exist (delete-ok with 0, as RabbitMQ 3.x). */
export function queueForDelete(host: ChannelHost, name: string, ifUnused: boolean, ifEmpty: boolean): QueueRecord | undefined {
  return queues.queueForDelete(actor(host), name, ifUnused, ifEmpty, "queue.delete");
}

/** The binding a queue.bind / queue.unbind names, with RabbitMQ's empty-name shortcuts applied. */
function queueBindingDef(m: MethodOf<"queue.bind"> | MethodOf<"queue.unbind">, lastQueue: string): BindingDef {
  const name = m.queue === "" ? lastQueue : m.queue;
  if (name === "") throw new AmqpError(ReplyCode.notFound, "no previously declared queue", m.name);
  // An empty queue name with an empty routing key binds with the queue's name (RabbitMQ's shortcut).
  const key = m.queue === "" && m.routingKey === "" ? name : m.routingKey;
  return { source: m.exchange, destination: name, destinationKind: "queue", routingKey: key, arguments: m.arguments };
}

export function bindQueue(host: ChannelHost, m: MethodOf<"queue.bind">, lastQueue: string): void {
  bind(actor(host), queueBindingDef(m, lastQueue), m.name);
}

export function unbindQueue(host: ChannelHost, m: MethodOf<"queue.unbind">, lastQueue: string): void {
  unbind(actor(host), queueBindingDef(m, lastQueue), m.name);
}
