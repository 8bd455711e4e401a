// The shape of a management API route and of what its handler gets and returns. Each api_*.ts
// file exports the routes of one resource; http_api.ts matches requests against all of them.
import type { Vhost } from "../broker/vhost.ts";
import type { AdminContext } from "./admin_context.ts";
import type { Access, Principal } from "./api_auth.ts";
import { notFound } from "./api_errors.ts";

export type Method = "GET" | "PUT" | "POST" | "DELETE";

export interface ApiRequest {
  readonly ctx: AdminContext;
  readonly method: Method;
  readonly principal: Principal;
  /** Decoded path parameters: ":vhost" in the route's path is params["vhost"]. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  /** The body as a JSON object ({} when empty): 400 when it is not one, 413 past the route's limit. */
  body(): Promise<Record<string, unknown>>;
}

export interface ApiResponse {
  readonly status: number;
  /** Serialised as JSON; no body when undefined. */
  readonly json?: unknown;
}

export interface Route {
  readonly method: Method;
  /** Literal segments and ":name" parameters, e.g. "/api/queues/:vhost/:name". */
  readonly path: string;
  readonly access: Access;
  /** Largest request body accepted (default 1 MiB). */
  readonly maxBody_bytes?: number;
  readonly handle: (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;
}

export const ok = (json: unknown): ApiResponse => ({ status: 200, json });
export const created: ApiResponse = { status: 201 };
export const noContent: ApiResponse = { status: 204 };

/** Param lookup that the router guarantees for the route's own path. */
export function param(req: ApiRequest, name: string): string {
  const value = req.params[name];
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}

/** The vhost the path's ":vhost" names; 404 when there is none. */
export function existingVhost(req: ApiRequest): Vhost {
  const vhost = req.ctx.broker.vhost(param(req, "vhost"));
  if (vhost === undefined) throw notFound();
  return vhost;
}

/** RabbitMQ's default order for listings: by vhost, then by name (code-point order). */
export function sortedByVhostAndName<T extends Record<string, unknown>>(rows: T[]): T[] {
  const key = (row: T, field: string): string => String(row[field] ?? "");
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => compare(key(a, "vhost"), key(b, "vhost")) || compare(key(a, "name"), key(b, "name")));
}
