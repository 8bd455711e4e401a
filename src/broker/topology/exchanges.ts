// exchange.declare / exchange.delete: RabbitMQ 3.x's checks in its order (rabbit_channel.erl
// handle_method/3, rabbit_exchange:assert_equivalence), for every way in.
import { resourceName } from "../names.ts";
import { inequivalentArgument } from "../queue_arguments.ts";
import { AmqpError, ReplyCode } from "../../protocol/errors.ts";
import type { FieldTable } from "../../protocol/table.ts";
import { isExchangeType } from "../../routing/exchange.ts";
import type { ExchangeEntry, VhostRoutes } from "../../routing/vhost_routes.ts";
import { checkPermission, DEFAULT_EXCHANGE_REFUSED, inequivalent, noExchange, reservedName, type Actor, type Site } from "./actor.ts";
import { applyExchangePolicy } from "./policies.ts";

export interface ExchangeSpec {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
  passive: boolean;
}

/** Declares the exchange, or checks a redeclare's equivalence; true when it was created. */
export function declareExchange(actor: Actor, spec: ExchangeSpec, site: Site): boolean {
  const vhost = actor.vhost;
  const what = resourceName("exchange", spec.name, vhost.name);
  if (spec.passive) {
    // RabbitMQ refuses even a passive declare of the default exchange (check_not_default_exchange).
    if (spec.name === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, site);
    if (vhost.routes.exchange(spec.name) === undefined) throw noExchange(vhost.name, spec.name, site);
    return false;
  }
  const type = spec.type;
  if (!isExchangeType(type)) throw new AmqpError(ReplyCode.commandInvalid, `unknown exchange type '${type}'`, site);
  if (spec.name === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, site);
  checkPermission(actor, "configure", "exchange", spec.name, site);
  const existing = vhost.routes.exchange(spec.name);
  if (existing === undefined) {
    if (spec.name.startsWith("amq.")) throw reservedName("exchange", spec.name, site);
    vhost.routes.declareExchange({ name: spec.name, type, durable: spec.durable, autoDelete: spec.autoDelete, internal: spec.internal, arguments: spec.arguments });
    applyExchangePolicy(vhost, spec.name);
    actor.broker.definitionsChanged(vhost, spec.durable);
    return true;
  }
  if (existing.type !== type) throw inequivalent("type", what, type, existing.type, site);
  if (existing.durable !== spec.durable) throw inequivalent("durable", what, spec.durable, existing.durable, site);
  if (existing.autoDelete !== spec.autoDelete) throw inequivalent("auto_delete", what, spec.autoDelete, existing.autoDelete, site);
  if (existing.internal !== spec.internal) throw inequivalent("internal", what, spec.internal, existing.internal, site);
  // Compared both ways, as rabbit_exchange:assert_args_equivalence does: a redeclare without the
  // alternate exchange the exchange has is as inequivalent as one naming another.
  const ae = spec.arguments["alternate-exchange"];
  const currentAe = existing.arguments["alternate-exchange"];
  if (ae !== currentAe) throw inequivalentArgument("alternate-exchange", what, currentAe, ae, site);
  return false;
}

/** Deletes the exchange; false when there was none (which succeeds, as in RabbitMQ 3.x). */
export function deleteExchange(actor: Actor, name: string, ifUnused: boolean, site: Site): boolean {
  const vhost = actor.vhost;
  if (name === "") throw new AmqpError(ReplyCode.accessRefused, DEFAULT_EXCHANGE_REFUSED, site);
  // Any amq.* name, existing or not: RabbitMQ's check_exchange_deletion looks only at the prefix.
  if (name.startsWith("amq.")) {
    throw new AmqpError(ReplyCode.accessRefused, `deletion of system ${resourceName("exchange", name, vhost.name)} not allowed`, site);
  }
  checkPermission(actor, "configure", "exchange", name, site);
  const existing = vhost.routes.exchange(name);
  if (existing === undefined) return false;
  if (ifUnused && vhost.routes.hasBindings(name).asSource) {
    throw new AmqpError(ReplyCode.preconditionFailed, `${resourceName("exchange", name, vhost.name)} in use`, site);
  }
  vhost.routes.deleteExchange(name);
  actor.broker.definitionsChanged(vhost, existing.durable);
  return true;
}

/**
 * The exchange a basic.publish (or the API's publish) names: 404 when it does not exist, 403 when
 * it is internal; null for the default exchange ("").
 */
export function publishableExchange(vhost: { readonly name: string; readonly routes: VhostRoutes }, name: string): ExchangeEntry | null {
  if (name === "") return null;
  const exchange = vhost.routes.entry(name);
  if (exchange === undefined) throw noExchange(vhost.name, name, "basic.publish");
  if (exchange.def.internal) {
    throw new AmqpError(ReplyCode.accessRefused, `cannot publish to internal ${resourceName("exchange", name, vhost.name)}`, "basic.publish");
  }
  return exchange;
}
