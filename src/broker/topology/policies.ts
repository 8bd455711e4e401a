// Setting and clearing policies and operator policies, for every way in (the management API and
// ctl through it, a definitions import, recovery): the policy is validated (policies.ts), stored
// in its vhost, and the change applies at once to every queue and exchange of the vhost, as
// RabbitMQ's rabbit_policy:update_matched_objects does: a queue whose effective settings change
// gets its new limits in its shard, and an exchange its policy's alternate exchange.
import type { Broker } from "../broker.ts";
import { parsePolicy, policyAlternateExchange, queueSettings, sameSettings, type PolicyKind } from "../policies.ts";
import type { Vhost } from "../vhost.ts";

/** True when the policy is new. Throws AmqpError (406) with RabbitMQ's text for an invalid one. */
export function setPolicy(broker: Broker, vhost: Vhost, kind: PolicyKind, name: string, body: Readonly<Record<string, unknown>>): boolean {
  const policy = parsePolicy(kind, vhost.name, name, body);
  const created = vhost.policies.get(kind, name) === undefined;
  if (vhost.policies.set(kind, policy)) policiesChanged(broker, vhost);
  return created;
}

/** False when there was no such policy. */
export function clearPolicy(broker: Broker, vhost: Vhost, kind: PolicyKind, name: string): boolean {
  if (!vhost.policies.delete(kind, name)) return false;
  policiesChanged(broker, vhost);
  return true;
}

/** A new exchange takes the alternate exchange of the policy that matches it. */
export function applyExchangePolicy(vhost: Vhost, exchange: string): void {
  vhost.routes.setPolicyAlternate(exchange, policyAlternateExchange(vhost.policies, exchange));
}

function policiesChanged(broker: Broker, vhost: Vhost): void {
  // Policies are kept with the durable definitions, whatever they apply to.
  broker.definitionsChanged(vhost, true);
  for (const queue of vhost.queues.values()) {
    const settings = queueSettings(vhost.policies, queue.name, queue.args);
    if (!sameSettings(settings, queue.settings)) broker.updateQueueSettings(queue, settings);
  }
  for (const x of [...vhost.routes.exchanges()]) applyExchangePolicy(vhost, x.name);
}
