// Vhost lifecycle as RabbitMQ runs it: adding is idempotent; deleting closes the vhost's
// connections (320 CONNECTION_FORCED "vhost 'x' is deleted"), then drops its queues with their
// messages, its exchanges and bindings, and every permission on it, and saves the definitions.
import { log } from "../log.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { AdminContext } from "./admin_context.ts";

/** True when the vhost was created, false when it already existed. */
export function addVhost(ctx: AdminContext, name: string): boolean {
  if (ctx.broker.vhost(name) !== undefined) return false;
  ctx.broker.addVhost(name);
  ctx.broker.definitionsChanged(null, true);
  log.info(`vhost '${name}' added`);
  return true;
}

/** False when there is no such vhost. Resolves once its queues are gone from their shards. */
export async function deleteVhost(ctx: AdminContext, name: string): Promise<boolean> {
  if (ctx.broker.vhost(name) === undefined) return false;
  const reason = new AmqpError(ReplyCode.connectionForced, `vhost '${name}' is deleted`);
  // Closed first, so no client can declare into the vhost while it is being emptied.
  for (const connection of [...ctx.server.inVhost(name)]) connection.closeWith(reason);
  await ctx.broker.deleteVhost(name);
  log.info(`vhost '${name}' deleted`);
  return true;
}
