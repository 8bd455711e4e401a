// Exchange, queue and binding methods: RabbitMQ 3.x's checks, in its order, with its reply codes
// and texts (rabbit_channel.erl handle_method/3 for exchange.*, queue.*). Each function throws
// AmqpError; the channel turns that into a close.
import { Broker } from "../broker/broker.ts";
import { generatedName, resourceName } from "../broker/names.ts";
import { assertArgumentsEquivalent, inequivalentArgument, queueLimits } from "../broker/queue_arguments.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { MethodOf } from "../protocol/methods.ts";
import { bindingRecord, type BindingDef } from "../routing/binding.ts";
import { isExchangeType } from "../routing/exchange.ts";
import type { PermissionKind } from "../broker/users.ts";
import type { ChannelHost } from "./channel_host.ts";

/** The pseudo-queue of direct reply-to; consuming from it needs no declare. */
export const REPLY_TO_QUEUE = "amq.rabbitmq.reply-to";

const DEFAULT_EXCHANGE_REFUSED = "operation not permitted on the default exchange";

function reservedName(kind: "exchange" | "queue", name: string, classId: number, methodId: number): AmqpError {
  return new AmqpError(ReplyCode.accessRefused, `${kind} name '${name}' contains reserved prefix 'amq.*'`, classId, methodId);
}

function noExchange(vhost: string, name: string, classId: number, methodId: number): AmqpError {
  return new AmqpError(ReplyCode.notFound, `no exchange '${name}' in vhost '${vhost}'`, classId, methodId);
}

function inequivalent(arg: string, what: string, received: unknown, current: unknown, classId: number, methodId: number): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `inequivalent arg '${arg}' for ${what}: received '${String(received)}' but current is '${String(current)}'`, classId, methodId);
}

/**
 * RabbitMQ's permission check: the resource name must match the user's configure / write / read
 * pattern for the vhost; otherwise 403 with RabbitMQ's text.
 */
export function checkPermission(host: ChannelHost, kind: PermissionKind, resource: "queue" | "exchange", name: string, classId: number, methodId: number): void {
  // RabbitMQ names the default exchange "amq.default" in permission checks.
  if (host.broker.users.allowed(host.user, host.vhost.name, kind, resource === "exchange" && name === "" ? "amq.default" : name)) return;
  throw new AmqpError(ReplyCode.accessRefused, `access to ${resourceName(resource, name, host.vhost.name)} refused for user '${host.user}'`, classId, methodId);
}

// --- exchanges -------------------------------------------------------------------------------

export function declareExchange(host: ChannelHost, m: MethodOf<"exchange.declare">): void {
  const vhost = host.vhost;
  const what = resourceName("exchange", m.exchange, vhost.name);
  if (m.passive) {
    // RabbitMQ refuses even a passive declare of the default exchange (check_not_default_exchange).
    if (m.exchange === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, 40, 10);
    if (vhost.routes.exchange(m.exchange) === undefined) throw noExchange(vhost.name, m.exchange, 40, 10);
    return;
  }
  if (!isExchangeType(m.type)) throw new AmqpError(ReplyCode.commandInvalid, `unknown exchange type '${m.type}'`, 40, 10);
  if (m.exchange === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, 40, 10);
  checkPermission(host, "configure", "exchange", m.exchange, 40, 10);
  const existing = vhost.routes.exchange(m.exchange);
  if (existing === undefined) {
    if (m.exchange.startsWith("amq.")) throw reservedName("exchange", m.exchange, 40, 10);
    vhost.routes.declareExchange({
      name: m.exchange,
      type: m.type,
      durable: m.durable,
      autoDelete: m.autoDelete,
      internal: m.internal,
      arguments: m.arguments,
    });
    host.broker.definitionsChanged(vhost, m.durable);
    return;
  }
  if (existing.type !== m.type) throw inequivalent("type", what, m.type, existing.type, 40, 10);
  if (existing.durable !== m.durable) throw inequivalent("durable", what, m.durable, existing.durable, 40, 10);
  if (existing.autoDelete !== m.autoDelete) throw inequivalent("auto_delete", what, m.autoDelete, existing.autoDelete, 40, 10);
  if (existing.internal !== m.internal) throw inequivalent("internal", what, m.internal, existing.internal, 40, 10);
  // Compared both ways, as rabbit_exchange:assert_args_equivalence does: a redeclare without the
  // alternate exchange the exchange has is as inequivalent as one naming another.
  const ae = m.arguments["alternate-exchange"];
  const currentAe = existing.arguments["alternate-exchange"];
  if (ae !== currentAe) throw inequivalentArgument("alternate-exchange", what, currentAe, ae, 40, 10);
}

export function deleteExchange(host: ChannelHost, m: MethodOf<"exchange.delete">): void {
  const vhost = host.vhost;
  if (m.exchange === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, 40, 20);
  // Any amq.* name, existing or not: RabbitMQ's check_exchange_deletion looks only at the prefix.
  if (m.exchange.startsWith("amq.")) {
    throw new AmqpError(ReplyCode.accessRefused, `deletion of system ${resourceName("exchange", m.exchange, vhost.name)} not allowed`, 40, 20);
  }
  checkPermission(host, "configure", "exchange", m.exchange, 40, 20);
  const existing = vhost.routes.exchange(m.exchange);
  if (existing === undefined) return; // deleting a missing exchange succeeds, as in RabbitMQ 3.x
  if (m.ifUnused && vhost.routes.hasBindings(m.exchange).asSource) {
    throw new AmqpError(ReplyCode.preconditionFailed, `${resourceName("exchange", m.exchange, vhost.name)} in use`, 40, 20);
  }
  vhost.routes.deleteExchange(m.exchange);
  host.broker.definitionsChanged(vhost, existing.durable);
}

// Bindings follow rabbit_channel:binding_action's order: write permission on the destination, the
// default exchange refused at either end, read permission on the source, then existence (source
// before destination, as rabbit_binding reports resources_missing), and last the exclusive lock of
// a destination queue. RabbitMQ 3.x unbinds idempotently: a missing source, destination or binding
// is unbind-ok, and a queue locked by another connection refuses only a binding that exists.

function checkBindingEnds(host: ChannelHost, source: string, destination: string, kind: "queue" | "exchange", classId: number, methodId: number): void {
  checkPermission(host, "write", kind, destination, classId, methodId);
  if ((kind === "exchange" && destination === "") || source === "") {
    throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, classId, methodId);
  }
  checkPermission(host, "read", "exchange", source, classId, methodId);
}

/** The 404 for the first missing end of a binding, or null when both exist. */
function missingEnd(host: ChannelHost, source: string, destination: string, kind: "queue" | "exchange", classId: number, methodId: number): AmqpError | null {
  const vhost = host.vhost;
  if (vhost.routes.exchange(source) === undefined) return noExchange(vhost.name, source, classId, methodId);
  if (kind === "exchange" && vhost.routes.exchange(destination) === undefined) return noExchange(vhost.name, destination, classId, methodId);
  if (kind === "queue" && !vhost.queues.has(destination)) return Broker.noQueue(vhost.name, destination, classId, methodId);
  return null;
}

/** Adds the binding; the routing table's own refusals (a headers x-match) are charged to this method. */
function addBinding(host: ChannelHost, def: BindingDef, classId: number, methodId: number): void {
  try {
    host.vhost.routes.bind(def);
  } catch (error) {
    if (error instanceof AmqpError && error.classId === 0) throw new AmqpError(error.code, error.detail, classId, methodId);
    throw error;
  }
}

export function bindExchange(host: ChannelHost, m: MethodOf<"exchange.bind">): void {
  checkBindingEnds(host, m.source, m.destination, "exchange", 40, 30);
  const missing = missingEnd(host, m.source, m.destination, "exchange", 40, 30);
  if (missing !== null) throw missing;
  addBinding(host, { source: m.source, destination: m.destination, destinationKind: "exchange", routingKey: m.routingKey, arguments: m.arguments }, 40, 30);
  host.broker.definitionsChanged(host.vhost, true);
}

export function unbindExchange(host: ChannelHost, m: MethodOf<"exchange.unbind">): void {
  checkBindingEnds(host, m.source, m.destination, "exchange", 40, 40);
  if (missingEnd(host, m.source, m.destination, "exchange", 40, 40) !== null) return;
  host.vhost.routes.unbind({ source: m.source, destination: m.destination, destinationKind: "exchange", routingKey: m.routingKey, arguments: m.arguments });
  host.broker.definitionsChanged(host.vhost, true);
}

/** basic.publish's exchange checks (404 missing, 403 internal). */
export function checkPublishExchange(host: ChannelHost, name: string): void {
  if (name === "") return;
  const exchange = host.vhost.routes.exchange(name);
  if (exchange === undefined) throw noExchange(host.vhost.name, name, 60, 40);
  if (exchange.internal) {
    throw new AmqpError(ReplyCode.accessRefused, `cannot publish to internal ${resourceName("exchange", name, host.vhost.name)}`, 60, 40);
  }
}

// --- queues ----------------------------------------------------------------------------------

/** The queue by name, checked for existence (404) and exclusive ownership (405). */
export function usableQueue(host: ChannelHost, name: string, classId: number, methodId: number): QueueRecord {
  const queue = host.vhost.queues.get(name);
  if (queue === undefined) throw Broker.noQueue(host.vhost.name, name, classId, methodId);
  if (queue.owner !== null && queue.owner.id !== host.id) throw Broker.lockedQueue(queue, classId, methodId);
  return queue;
}

export function declareQueue(host: ChannelHost, m: MethodOf<"queue.declare">): { queue: QueueRecord; created: boolean } {
  const vhost = host.vhost;
  if (m.passive) {
    // A passive declare never generates a name: "" is looked up as is ("no queue ''", as RabbitMQ).
    if (!vhost.queues.has(m.queue)) throw Broker.noQueue(vhost.name, m.queue, 50, 10);
    return { queue: usableQueue(host, m.queue, 50, 10), created: false };
  }
  const name = m.queue === "" ? generatedName("amq.gen-") : m.queue;
  const existing = vhost.queues.get(name);
  checkPermission(host, "configure", "queue", name, 50, 10);
  if (existing === undefined) {
    if (name.startsWith("amq.") && m.queue !== "") throw reservedName("queue", name, 50, 10);
    queueLimits(m.arguments, { what: resourceName("queue", name, vhost.name), classId: 50, methodId: 10 }); // validates before anything is created
    const queue = host.broker.createQueue(vhost, name, m.durable, m.autoDelete, m.exclusive ? host : null, m.arguments);
    if (m.exclusive) host.ownQueue(queue);
    host.broker.definitionsChanged(vhost, m.durable);
    return { queue, created: true };
  }
  const queue = usableQueue(host, name, 50, 10);
  const what = resourceName("queue", name, vhost.name);
  if (queue.durable !== m.durable) throw inequivalent("durable", what, m.durable, queue.durable, 50, 10);
  if (queue.autoDelete !== m.autoDelete) throw inequivalent("auto_delete", what, m.autoDelete, queue.autoDelete, 50, 10);
  if ((queue.owner !== null) !== m.exclusive) throw Broker.lockedQueue(queue, 50, 10);
  assertArgumentsEquivalent(queue.args, m.arguments, what, 50, 10);
  return { queue, created: false };
}

/** The queue to delete, or undefined when it does not exist (delete-ok with 0, as RabbitMQ 3.x). */
export function queueForDelete(host: ChannelHost, name: string, ifUnused: boolean): QueueRecord | undefined {
  checkPermission(host, "configure", "queue", name, 50, 40);
  if (!host.vhost.queues.has(name)) return undefined;
  const queue = usableQueue(host, name, 50, 40);
  if (ifUnused && queue.consumers.size > 0) {
    throw new AmqpError(ReplyCode.preconditionFailed, `${resourceName("queue", name, host.vhost.name)} in use`, 50, 40);
  }
  return queue;
}

/** The binding a queue.bind / queue.unbind names, with RabbitMQ's empty-name shortcuts applied. */
function queueBindingDef(m: MethodOf<"queue.bind"> | MethodOf<"queue.unbind">, lastQueue: string, methodId: number): BindingDef {
  const name = m.queue === "" ? lastQueue : m.queue;
  if (name === "") throw new AmqpError(ReplyCode.notFound, "no previously declared queue", 50, methodId);
  // An empty queue name with an empty routing key binds with the queue's name (RabbitMQ's shortcut).
  const key = m.queue === "" && m.routingKey === "" ? name : m.routingKey;
  return { source: m.exchange, destination: name, destinationKind: "queue", routingKey: key, arguments: m.arguments };
}

export function bindQueue(host: ChannelHost, m: MethodOf<"queue.bind">, lastQueue: string): void {
  const def = queueBindingDef(m, lastQueue, 20);
  checkBindingEnds(host, def.source, def.destination, "queue", 50, 20);
  const missing = missingEnd(host, def.source, def.destination, "queue", 50, 20);
  if (missing !== null) throw missing;
  const queue = usableQueue(host, def.destination, 50, 20);
  addBinding(host, def, 50, 20);
  host.broker.definitionsChanged(host.vhost, queue.durable);
}

export function unbindQueue(host: ChannelHost, m: MethodOf<"queue.unbind">, lastQueue: string): void {
  const def = queueBindingDef(m, lastQueue, 50);
  checkBindingEnds(host, def.source, def.destination, "queue", 50, 50);
  if (missingEnd(host, def.source, def.destination, "queue", 50, 50) !== null) return;
  const queue = host.vhost.queues.get(def.destination)!;
  if (queue.owner !== null && queue.owner.id !== host.id) {
    const identity = bindingRecord(def).identity;
    if (host.vhost.routes.bindingsOfQueue(queue.name).some((b) => bindingRecord(b).identity === identity)) throw Broker.lockedQueue(queue, 50, 50);
    return;
  }
  host.vhost.routes.unbind(def);
  host.broker.definitionsChanged(host.vhost, queue.durable);
}
