// /api/users[/name[/permissions]] and /api/whoami. Creating or replacing a user takes tags
// (RabbitMQ refuses a PUT without them) and a password, a rabbit_password_hashing_sha256 hash,
// or neither (then the user cannot log in with a password, as in RabbitMQ).
import { PASSWORD_HASHING, type User } from "../broker/users.ts";
import { permissionJson } from "./api_permissions.ts";
import { badRequest, notFound } from "./api_errors.ts";
import { stringField, tagsField } from "./api_fields.ts";
import { created, noContent, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";
import { deleteUser, putUser, type Secret } from "./user_admin.ts";

function userJson(u: User): Record<string, unknown> {
  return { name: u.name, password_hash: u.passwordHash, hashing_algorithm: PASSWORD_HASHING, tags: u.tags, limits: u.limits };
}

export function existingUser(req: ApiRequest): User {
  const user = req.ctx.broker.users.get(param(req, "user"));
  if (user === undefined) throw notFound();
  return user;
}

/** base64 of salt(4) ++ sha256(32), or "" for no password. */
export function isPasswordHash(hash: string): boolean {
  return hash === "" || (/^[A-Za-z0-9+/]+={0,2}$/.test(hash) && hash.length % 4 === 0 && Buffer.from(hash, "base64").length === 36);
}

async function putUserRoute(req: ApiRequest): Promise<ApiResponse> {
  const body = await req.body();
  if (body["tags"] === undefined) throw badRequest("tags_not_present");
  const tags = tagsField(body["tags"]);
  const password = stringField(body, "password");
  const passwordHash = stringField(body, "password_hash");
  const algorithm = stringField(body, "hashing_algorithm");
  if (algorithm !== undefined && algorithm !== PASSWORD_HASHING) throw badRequest(`unsupported hashing algorithm ${algorithm}`);
  if (passwordHash !== undefined && !isPasswordHash(passwordHash)) throw badRequest("password_hash is not a base64 rabbit_password_hashing_sha256 hash");
  const secret: Secret = password !== undefined ? { password } : passwordHash !== undefined ? { passwordHash } : null;
  return putUser(req.ctx, param(req, "user"), secret, tags) ? created : noContent;
}

export const userRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/users",
    access: "administrator",
    handle: ({ ctx }) => ok([...ctx.broker.users.list()].map(userJson).sort((a, b) => (String(a["name"]) < String(b["name"]) ? -1 : 1))),
  },
  { method: "GET", path: "/api/users/:user", access: "administrator", handle: (req) => ok(userJson(existingUser(req))) },
  { method: "PUT", path: "/api/users/:user", access: "administrator", handle: putUserRoute },
  {
    method: "DELETE",
    path: "/api/users/:user",
    access: "administrator",
    handle: (req) => {
      if (!deleteUser(req.ctx, param(req, "user"))) throw notFound();
      return noContent;
    },
  },
  {
    method: "GET",
    path: "/api/users/:user/permissions",
    access: "administrator",
    handle: (req) => {
      const user = existingUser(req);
      return ok([...req.ctx.broker.users.allPermissions()].filter((p) => p.user === user.name).map(permissionJson));
    },
  },
  {
    method: "GET",
    path: "/api/whoami",
    access: "management",
    handle: ({ principal }) => ok({ name: principal.name, tags: principal.tags }),
  },
];
