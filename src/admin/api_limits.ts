// /api/vhost-limits and /api/user-limits: RabbitMQ's listings ([{"vhost": V, "value": {...}}]),
// one limit set with {"value": N} and cleared, with RabbitMQ's validation texts and statuses (a
// set or clear is always 204). Warren's own, for `bun run ctl`: PUT of a whole limits object on
// /api/vhost-limits/V (replaces them, as set_vhost_limits) and /api/user-limits/U (merges, as
// set_user_limits), and DELETE of every limit there. Every change is saved with the definitions.
import { sortedLimits, validateLimit, validateLimits, type LimitKind } from "../broker/resource_limits.ts";
import type { User } from "../broker/users.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { AdminContext } from "./admin_context.ts";
import { vhostsInScope } from "./api_auth.ts";
import { ApiError, badRequest, notFound } from "./api_errors.ts";
import { existingUser } from "./api_users.ts";
import { existingVhost, noContent, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

type Limits = Record<string, number>;

function listing(key: "vhost" | "user", owners: Iterable<{ name: string; limits: Limits }>): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const o of owners) if (Object.keys(o.limits).length > 0) rows.push({ [key]: o.name, value: o.limits });
  return rows.sort((a, b) => (String(a[key]) < String(b[key]) ? -1 : 1));
}

/** The vhost a set or clear names: RabbitMQ answers a missing one with its own 404 body. */
function vhostToChange(req: ApiRequest): Vhost {
  const vhost = req.ctx.broker.vhost(param(req, "vhost"));
  if (vhost === undefined) throw new ApiError(404, "not_found", "vhost_not_found");
  return vhost;
}

function userToChange(req: ApiRequest): User {
  const name = param(req, "user");
  const user = req.ctx.broker.users.get(name);
  if (user === undefined) throw new ApiError(400, "bad_request", ["no_such_user", name]);
  return user;
}

/** {"value": N} for the path's limit name, validated as RabbitMQ does. */
async function oneLimit(req: ApiRequest, kind: LimitKind): Promise<Limits> {
  const body = await req.body();
  if (body["value"] === undefined) throw badRequest("[{key_missing,value}]");
  const name = param(req, "name");
  return { [name]: validateLimit(kind, name, body["value"]) };
}

function saved(ctx: AdminContext, owner: { limits: Limits }, limits: Limits): ApiResponse {
  owner.limits = sortedLimits(limits);
  ctx.broker.definitionsChanged(null, true);
  return noContent;
}

function without(limits: Limits, name: string): Limits {
  return Object.fromEntries(Object.entries(limits).filter(([k]) => k !== name));
}

/** PUT {"value": N} and DELETE of /api/KIND-limits/OWNER/NAME. */
function oneLimitRoutes(kind: LimitKind, owner: (req: ApiRequest) => { limits: Limits }): Route[] {
  const path = `/api/${kind}-limits/:${kind}/:name`;
  return [
    {
      method: "PUT",
      path,
      access: "administrator",
      handle: async (req) => {
        const o = owner(req);
        return saved(req.ctx, o, { ...o.limits, ...(await oneLimit(req, kind)) });
      },
    },
    {
      method: "DELETE",
      path,
      access: "administrator",
      handle: (req) => {
        const o = owner(req);
        return saved(req.ctx, o, without(o.limits, param(req, "name")));
      },
    },
  ];
}

export const limitRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/vhost-limits",
    access: "management",
    handle: ({ ctx, principal }) => ok(listing("vhost", vhostsInScope(ctx, principal, undefined))),
  },
  { method: "GET", path: "/api/vhost-limits/:vhost", access: "vhost", handle: (req) => ok(listing("vhost", [existingVhost(req)])) },
  ...oneLimitRoutes("vhost", vhostToChange),
  {
    method: "PUT",
    path: "/api/vhost-limits/:vhost",
    access: "administrator",
    handle: async (req) => saved(req.ctx, vhostToChange(req), validateLimits("vhost", await req.body())),
  },
  {
    method: "DELETE",
    path: "/api/vhost-limits/:vhost",
    access: "administrator",
    handle: (req) => {
      const vhost = vhostToChange(req);
      // rabbitmqctl clear_vhost_limits: "Parameter does not exist" when there is nothing to clear.
      if (Object.keys(vhost.limits).length === 0) throw notFound();
      return saved(req.ctx, vhost, {});
    },
  },
  { method: "GET", path: "/api/user-limits", access: "administrator", handle: ({ ctx }) => ok(listing("user", ctx.broker.users.list())) },
  { method: "GET", path: "/api/user-limits/:user", access: "administrator", handle: (req) => ok(listing("user", [existingUser(req)])) },
  ...oneLimitRoutes("user", userToChange),
  {
    method: "PUT",
    path: "/api/user-limits/:user",
    access: "administrator",
    handle: async (req) => {
      const user = userToChange(req);
      return saved(req.ctx, user, { ...user.limits, ...validateLimits("user", await req.body()) });
    },
  },
  {
    method: "DELETE",
    path: "/api/user-limits/:user",
    access: "administrator",
    handle: (req) => {
      return saved(req.ctx, userToChange(req), {});
    },
  },
];
