// User lifecycle: create or replace (password, hash or none, and tags), delete (closing the
// user's connections with 320 "user 'x' is deleted", as RabbitMQ does), and permissions. Every
// change is saved with the durable definitions.
import { log } from "../log.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { Permission } from "../broker/users.ts";
import type { AdminContext } from "./admin_context.ts";

/** A password, an existing rabbit_password_hashing_sha256 hash, or none (the user cannot log in with a password). */
export type Secret = { password: string } | { passwordHash: string } | null;

/** Creates or replaces a user; true when it was created. Permissions are kept on replace. */
export function putUser(ctx: AdminContext, name: string, secret: Secret, tags: string[]): boolean {
  const users = ctx.broker.users;
  const created = users.get(name) === undefined;
  users.add(name, secret ?? { passwordHash: "" }, tags);
  ctx.broker.definitionsChanged(null, true);
  log.info(`user '${name}' ${created ? "added" : "updated"}`);
  return created;
}

/** False when there is no such user. */
export function deleteUser(ctx: AdminContext, name: string): boolean {
  if (!ctx.broker.users.delete(name)) return false;
  ctx.broker.definitionsChanged(null, true);
  const reason = new AmqpError(ReplyCode.connectionForced, `user '${name}' is deleted`);
  for (const connection of [...ctx.server.connections]) if (connection.user === name) connection.closeWith(reason);
  log.info(`user '${name}' deleted`);
  return true;
}

/** Throws a SyntaxError naming the pattern when one is not a valid regular expression. */
export function setPermission(ctx: AdminContext, user: string, vhost: string, p: Permission): void {
  ctx.broker.users.setPermission(user, vhost, p);
  ctx.broker.definitionsChanged(null, true);
}

/** False when the user had no permissions in the vhost. */
export function clearPermission(ctx: AdminContext, user: string, vhost: string): boolean {
  if (!ctx.broker.users.clearPermission(user, vhost)) return false;
  ctx.broker.definitionsChanged(null, true);
  return true;
}
