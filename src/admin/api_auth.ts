// Who is calling the management API and what their tags allow, by RabbitMQ's rules
// (rabbit_mgmt_util:is_authorized*): HTTP basic auth against the user store (guest only from
// loopback, as for AMQP); "management", "policymaker", "monitoring" or "administrator" to use
// the API at all; "monitoring" (or administrator) to see every vhost, connection and channel;
// "administrator" to manage users, vhosts, permissions and definitions. Without those, a user
// sees the vhosts it has permissions in, and its own connections.
import type { Actor, Site } from "../broker/topology/actor.ts";
import { resourceName } from "../broker/names.ts";
import type { PermissionKind } from "../broker/users.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { AdminContext } from "./admin_context.ts";
import { loginFailed, notAuthorised } from "./api_errors.ts";

export interface Principal {
  readonly name: string;
  readonly tags: readonly string[];
}

/**
 * What a route requires beyond a valid login with a management tag: "vhost" is access to the
 * path's vhost (any permission there); "policymaker" is administrator, or policymaker with access
 * to the vhost (rabbit_mgmt_util:is_authorized_policies).
 */
export type Access = "management" | "monitoring" | "administrator" | "vhost" | "policymaker";

const MANAGEMENT_TAGS = new Set(["management", "policymaker", "monitoring", "administrator"]);

export function isAdmin(p: Principal): boolean {
  return p.tags.includes("administrator");
}

export function isMonitor(p: Principal): boolean {
  return isAdmin(p) || p.tags.includes("monitoring");
}

/** Checks the Authorization header; throws 401 when it is missing or wrong. */
export function authenticate(ctx: AdminContext, authorization: string | null, peer: string): Principal {
  const credentials = parseBasic(authorization);
  if (credentials === null) throw loginFailed();
  const name = ctx.broker.authenticate(credentials.user, credentials.password, peer);
  const user = name === null ? undefined : ctx.broker.users.get(name);
  if (user === undefined) throw loginFailed();
  return { name: user.name, tags: user.tags };
}

/** Throws 403 unless the principal's tags (and, for "vhost", permissions) allow the route. */
export function authorise(ctx: AdminContext, p: Principal, access: Access, method: string, vhost: string | undefined): void {
  if (!p.tags.some((t) => MANAGEMENT_TAGS.has(t))) throw notAuthorised("Not management user");
  switch (access) {
    case "management":
      return;
    case "monitoring":
      if (!isMonitor(p)) throw notAuthorised("Not monitor user");
      return;
    case "administrator":
      if (!isAdmin(p)) throw notAuthorised("Not administrator user");
      return;
    case "vhost": {
      // A vhost that does not exist passes here and is a 404 in the handler, as in RabbitMQ.
      if (vhost === undefined || ctx.broker.vhost(vhost) === undefined) return;
      const allowed = method === "GET" ? canSeeVhost(ctx, p, vhost) : isAdmin(p) || hasPermissions(ctx, p, vhost);
      if (!allowed) throw notAuthorised("User not authorised to access virtual host");
      return;
    }
    case "policymaker": {
      if (isAdmin(p)) return;
      // A vhost that does not exist passes here too (404 in the handler).
      const inVhost = vhost !== undefined && (ctx.broker.vhost(vhost) === undefined || hasPermissions(ctx, p, vhost));
      if (!p.tags.includes("policymaker") || !inVhost) throw notAuthorised("User not authorised to access object");
      return;
    }
  }
}

function hasPermissions(ctx: AdminContext, p: Principal, vhost: string): boolean {
  return ctx.broker.users.permission(p.name, vhost) !== undefined;
}

/** Monitors see every vhost; other users the vhosts they have permissions in. */
export function canSeeVhost(ctx: AdminContext, p: Principal, vhost: string): boolean {
  return isMonitor(p) || hasPermissions(ctx, p, vhost);
}

/** The vhosts a listing covers: one (when the path names it) or every vhost the principal sees. */
export function vhostsInScope(ctx: AdminContext, p: Principal, vhost: string | undefined): Vhost[] {
  const all = vhost === undefined ? [...ctx.broker.vhosts.values()] : [ctx.broker.vhost(vhost)].filter((v) => v !== undefined);
  return all.filter((v) => canSeeVhost(ctx, p, v.name));
}

/**
 * The AMQP permission check the API's queue, exchange and binding operations go through, as
 * RabbitMQ's do (they run as the calling user): 403 with RabbitMQ's ACCESS_REFUSED text.
 */
/** The management API as a topology actor: the caller's permissions, no connection. */
export function apiActor(req: { ctx: AdminContext; principal: Principal }, vhost: Vhost): Actor {
  return { broker: req.ctx.broker, vhost, user: req.principal.name, connection: null };
}

/** API errors carry no AMQP method. */
export const NO_METHOD: Site = null;

export function requirePermission(ctx: AdminContext, p: Principal, vhost: string, kind: PermissionKind, resource: "queue" | "exchange", name: string): void {
  // RabbitMQ names the default exchange "amq.default" in permission checks.
  const checked = resource === "exchange" && name === "" ? "amq.default" : name;
  if (ctx.broker.users.allowed(p.name, vhost, kind, checked)) return;
  throw notAuthorised(`access to ${resourceName(resource, name, vhost)} refused for user '${p.name}'`);
}

function parseBasic(header: string | null): { user: string; password: string } | null {
  if (header === null || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
