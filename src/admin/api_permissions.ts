// /api/permissions[/vhost/user] and /api/vhosts/vhost/permissions: list, show, set and clear a
// user's configure / write / read patterns in a vhost (administrator only, as in RabbitMQ).
import { keysMissing } from "../broker/erlang_term.ts";
import type { Permission } from "../broker/users.ts";
import { badRequest, notFound } from "./api_errors.ts";
import { stringField } from "./api_fields.ts";
import { created, existingVhost, noContent, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";
import { clearPermission, setPermission } from "./user_admin.ts";

export function permissionJson(p: { user: string; vhost: string } & Permission): Record<string, unknown> {
  return { user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read };
}

const KINDS = ["configure", "write", "read"] as const;

async function putPermission(req: ApiRequest): Promise<ApiResponse> {
  const vhost = param(req, "vhost");
  const user = param(req, "user");
  const body = await req.body();
  const missing = keysMissing(body, KINDS);
  if (missing !== null) throw badRequest(missing);
  const p: Permission = { configure: stringField(body, "configure") ?? "", write: stringField(body, "write") ?? "", read: stringField(body, "read") ?? "" };
  for (const k of KINDS) {
    try {
      new RegExp(p[k]);
    } catch {
      throw badRequest(`invalid_regexp: ${k} pattern '${p[k]}' is not a valid regular expression`);
    }
  }
  if (req.ctx.broker.vhost(vhost) === undefined || req.ctx.broker.users.get(user) === undefined) throw badRequest("vhost_or_user_not_found");
  const isNew = req.ctx.broker.users.permission(user, vhost) === undefined;
  setPermission(req.ctx, user, vhost, p);
  return isNew ? created : noContent;
}

function onePermission(req: ApiRequest): ApiResponse {
  const vhost = param(req, "vhost");
  const user = param(req, "user");
  const p = req.ctx.broker.users.permission(user, vhost);
  if (p === undefined) throw notFound();
  return ok(permissionJson({ user, vhost, ...p }));
}

export const permissionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/permissions",
    access: "administrator",
    handle: ({ ctx }) => ok([...ctx.broker.users.allPermissions()].map(permissionJson)),
  },
  { method: "GET", path: "/api/permissions/:vhost/:user", access: "administrator", handle: onePermission },
  { method: "PUT", path: "/api/permissions/:vhost/:user", access: "administrator", handle: putPermission },
  {
    method: "DELETE",
    path: "/api/permissions/:vhost/:user",
    access: "administrator",
    handle: (req) => {
      if (!clearPermission(req.ctx, param(req, "user"), param(req, "vhost"))) throw notFound();
      return noContent;
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost/permissions",
    access: "administrator",
    handle: (req) => {
      const vhost = existingVhost(req);
      return ok([...req.ctx.broker.users.allPermissions()].filter((p) => p.vhost === vhost.name).map(permissionJson));
    },
  },
];
