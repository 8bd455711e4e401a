// exchange.bind / queue.bind and their unbinds, for every way in. The order is
// rabbit_channel:binding_action's: write permission on the destination, the default exchange
// refused at either end, read permission on the source, then existence (source before
// destination, as rabbit_binding reports resources_missing), and last the exclusive lock of a
// destination queue. RabbitMQ 3.x unbinds idempotently: a missing source, destination or binding
// is unbind-ok, and a queue locked by another connection refuses only a binding that exists.
import { Broker } from "../broker.ts";
import { AmqpError, ReplyCode } from "../../protocol/errors.ts";
import { bindingRecord, type BindingDef } from "../../routing/binding.ts";
import { checkPermission, DEFAULT_EXCHANGE_REFUSED, noExchange, type Actor, type Site } from "./actor.ts";
import { usableQueue } from "./queues.ts";

function checkBindingEnds(actor: Actor, def: BindingDef, site: Site): void {
  checkPermission(actor, "write", def.destinationKind, def.destination, site);
  if ((def.destinationKind === "exchange" && def.destination === "") || def.source === "") {
    throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, site);
  }
  checkPermission(actor, "read", "exchange", def.source, site);
}

/** The 404 for the first missing end of a binding, or null when both exist. */
function missingEnd(actor: Actor, def: BindingDef, site: Site): AmqpError | null {
  const vhost = actor.vhost;
  if (vhost.routes.exchange(def.source) === undefined) return noExchange(vhost.name, def.source, site);
  if (def.destinationKind === "exchange" && vhost.routes.exchange(def.destination) === undefined) return noExchange(vhost.name, def.destination, site);
  if (def.destinationKind === "queue" && !vhost.queues.has(def.destination)) return Broker.noQueue(vhost.name, def.destination, site);
  return null;
}

/** Whether the binding's destination is kept in the durable definitions. */
function durableDestination(actor: Actor, def: BindingDef): boolean {
  return def.destinationKind === "exchange" || (actor.vhost.queues.get(def.destination)?.durable ?? false);
}

export function bind(actor: Actor, def: BindingDef, site: Site): void {
  checkBindingEnds(actor, def, site);
  const missing = missingEnd(actor, def, site);
  if (missing !== null) throw missing;
  if (def.destinationKind === "queue") usableQueue(actor, def.destination, site);
  try {
    actor.vhost.routes.bind(def);
  } catch (error) {
    // The routing table's own refusals (a headers x-match) are charged to this method.
    if (error instanceof AmqpError && error.classId === 0) throw new AmqpError(error.code, error.detail, site);
    throw error;
  }
  actor.broker.definitionsChanged(actor.vhost, durableDestination(actor, def));
}

export function unbind(actor: Actor, def: BindingDef, site: Site): void {
  checkBindingEnds(actor, def, site);
  if (missingEnd(actor, def, site) !== null) return;
  if (def.destinationKind === "queue") {
    const queue = actor.vhost.queues.get(def.destination)!;
    if (queue.owner !== null && actor.connection !== null && queue.owner.id !== actor.connection.id) {
      const identity = bindingRecord(def).identity;
      if (actor.vhost.routes.bindingsOfQueue(queue.name).some((b) => bindingRecord(b).identity === identity)) throw Broker.lockedQueue(queue, site);
      return;
    }
  }
  actor.vhost.routes.unbind(def);
  actor.broker.definitionsChanged(actor.vhost, durableDestination(actor, def));
}
