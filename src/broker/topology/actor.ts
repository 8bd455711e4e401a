// Who changes the topology, and the permission check every change goes through. The AMQP
// channel, the management API and a definitions import each describe themselves as an Actor and
// call the same functions (exchanges.ts, queues.ts, bindings.ts), so one place decides.
import type { Broker } from "../broker.ts";
import { resourceName } from "../names.ts";
import type { QueueOwner } from "../queue_record.ts";
import type { PermissionKind } from "../users.ts";
import type { Vhost } from "../vhost.ts";
import { AmqpError, ReplyCode } from "../../protocol/errors.ts";
import type { MethodName } from "../../protocol/methods.ts";

export interface Actor {
  readonly broker: Broker;
  readonly vhost: Vhost;
  /** The user whose permissions apply; null for the broker itself (definitions import, recovery). */
  readonly user: string | null;
  /** The connection, owner of the exclusive queues it declares; null over HTTP and on import. */
  readonly connection: QueueOwner | null;
}

/** The method an error is charged to; null outside AMQP (class and method id 0). */
export type Site = MethodName | null;

export const DEFAULT_EXCHANGE_REFUSED = "operation not permitted on the default exchange";

/**
 * RabbitMQ's permission check: the resource name must match the user's configure / write / read
 * pattern for the vhost; otherwise 403 with RabbitMQ's text.
 */
export function checkPermission(actor: Actor, kind: PermissionKind, resource: "queue" | "exchange", name: string, site: Site): void {
  if (actor.user === null) return;
  // RabbitMQ names the default exchange "amq.default" in permission checks.
  if (actor.broker.users.allowed(actor.user, actor.vhost.name, kind, resource === "exchange" && name === "" ? "amq.default" : name)) return;
  throw new AmqpError(ReplyCode.accessRefused, `access to ${resourceName(resource, name, actor.vhost.name)} refused for user '${actor.user}'`, site);
}

export function reservedName(kind: "exchange" | "queue", name: string, site: Site): AmqpError {
  return new AmqpError(ReplyCode.accessRefused, `${kind} name '${name}' contains reserved prefix 'amq.*'`, site);
}

export function noExchange(vhost: string, name: string, site: Site): AmqpError {
  return new AmqpError(ReplyCode.notFound, `no exchange '${name}' in vhost '${vhost}'`, site);
}

export function inequivalent(arg: string, what: string, received: unknown, current: unknown, site: Site): AmqpError {
  return new AmqpError(ReplyCode.preconditionFailed, `inequivalent arg '${arg}' for ${what}: received '${String(received)}' but current is '${String(current)}'`, site);
}
