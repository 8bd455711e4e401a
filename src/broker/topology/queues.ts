// queue.declare / queue.delete and the lookups other queue methods share: RabbitMQ 3.x's checks
// in its order (rabbit_channel.erl handle_method/3, rabbit_amqqueue), for every way in.
import { Broker } from "../broker.ts";
import { generatedName, resourceName } from "../names.ts";
import { assertArgumentsEquivalent, checkQueueDeclare } from "../queue_arguments.ts";
import type { QueueRecord } from "../queue_record.ts";
import { checkQueueLimit } from "../resource_limits.ts";
import { AmqpError, ReplyCode } from "../../protocol/errors.ts";
import type { FieldTable } from "../../protocol/table.ts";
import { checkPermission, inequivalent, reservedName, type Actor, type Site } from "./actor.ts";

export interface QueueSpec {
  /** "" asks for a server-named queue (amq.gen-…). */
  name: string;
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  arguments: FieldTable;
  passive: boolean;
}

/**
 * The queue by name, checked for existence (404) and, for a connection, exclusive ownership (405).
 * The management API and imports act for the operator and are not locked out.
 */
export function usableQueue(actor: Actor, name: string, site: Site): QueueRecord {
  const queue = actor.vhost.queues.get(name);
  if (queue === undefined) throw Broker.noQueue(actor.vhost.name, name, site);
  if (queue.owner !== null && actor.connection !== null && queue.owner.id !== actor.connection.id) throw Broker.lockedQueue(queue, site);
  return queue;
}

export function declareQueue(actor: Actor, spec: QueueSpec, site: Site): { queue: QueueRecord; created: boolean } {
  const vhost = actor.vhost;
  if (spec.passive) {
    // A passive declare never generates a name: "" is looked up as is ("no queue ''", as RabbitMQ).
    return { queue: usableQueue(actor, spec.name, site), created: false };
  }
  const name = spec.name === "" ? generatedName("amq.gen-") : spec.name;
  const existing = vhost.queues.get(name);
  checkPermission(actor, "configure", "queue", name, site);
  const what = resourceName("queue", name, vhost.name);
  if (existing === undefined) {
    if (name.startsWith("amq.") && spec.name !== "") throw reservedName("queue", name, site);
    checkQueueDeclare(spec, { what, method: site }); // validates before anything is created
    checkQueueLimit(vhost, name, site); // after the arguments, as RabbitMQ's rabbit_queue_type:declare
    const owner = spec.exclusive ? actor.connection : null;
    const queue = actor.broker.createQueue(vhost, name, spec.durable, spec.autoDelete, owner, spec.arguments);
    actor.broker.definitionsChanged(vhost, spec.durable);
    return { queue, created: true };
  }
  const queue = usableQueue(actor, name, site);
  if (queue.durable !== spec.durable) throw inequivalent("durable", what, spec.durable, queue.durable, site);
  if (queue.autoDelete !== spec.autoDelete) throw inequivalent("auto_delete", what, spec.autoDelete, queue.autoDelete, site);
  if ((queue.owner !== null) !== spec.exclusive) throw Broker.lockedQueue(queue, site);
  assertArgumentsEquivalent(queue.args, spec.arguments, what, site);
  actor.broker.expiry.used(queue);
  return { queue, created: false };
}

/** The queue to delete, or undefined when it does not exist (delete-ok with 0, as RabbitMQ 3.x). */
export function queueForDelete(actor: Actor, name: string, ifUnused: boolean, ifEmpty: boolean, site: Site): QueueRecord | undefined {
  checkPermission(actor, "configure", "queue", name, site);
  if (!actor.vhost.queues.has(name)) return undefined;
  const queue = usableQueue(actor, name, site);
  if (queue.type === "quorum" && (ifUnused || ifEmpty)) {
    const flag = ifUnused ? "if-unused" : "if-empty";
    throw new AmqpError(ReplyCode.notImplemented, `cannot delete ${resourceName("queue", name, actor.vhost.name)}. queue.delete operations with ${flag} flag set are not supported by quorum queues`, site);
  }
  if (ifUnused && queue.consumers.size > 0) {
    throw new AmqpError(ReplyCode.preconditionFailed, `${resourceName("queue", name, actor.vhost.name)} in use`, site);
  }
  return queue;
}
