// The management HTTP server: Bun.serve on the acceptor thread (in plain HTTP, HTTPS, or one of
// each), RabbitMQ's /api paths with HTTP basic auth, plus /metrics and the dashboard's static files
// (dashboard_files.ts). Requests are matched on decoded path segments (so "%2F" is the
// vhost "/"), authenticated, checked against the route's tag rule, and handled; every error,
// whatever a client sent, becomes a JSON error response rather than reaching the broker.
import type { Server } from "bun";
import type { KeyPair } from "../acceptor/tls_settings.ts";
import { log } from "../log.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { AdminContext } from "./admin_context.ts";
import { authenticate, authorise } from "./api_auth.ts";
import { bindingRoutes } from "./api_bindings.ts";
import { connectionRoutes } from "./api_connections.ts";
import { DEFINITIONS_MAX_BYTES, definitionRoutes } from "./api_definitions.ts";
import { dashboardResponse } from "./dashboard_files.ts";
import { ApiError, badRequest, notAuthorised, notFound } from "./api_errors.ts";
import { exchangeRoutes } from "./api_exchanges.ts";
import { messageRoutes } from "./api_messages.ts";
import { limitRoutes } from "./api_limits.ts";
import { alarmRoutes } from "./api_alarms.ts";
import { overviewRoutes } from "./api_overview.ts";
import { permissionRoutes } from "./api_permissions.ts";
import { policyRoutes } from "./api_policies.ts";
import { queueRoutes } from "./api_queues.ts";
import type { ApiRequest, ApiResponse, Route } from "./api_route.ts";
import { userRoutes } from "./api_users.ts";
import { vhostRoutes } from "./api_vhosts.ts";
import { metricsResponse } from "./metrics.ts";

/** Request bodies other than definitions imports are small JSON objects. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const ROUTES: Route[] = [
  ...overviewRoutes,
  ...alarmRoutes,
  ...vhostRoutes,
  ...userRoutes,
  ...permissionRoutes,
  ...policyRoutes,
  ...limitRoutes,
  ...queueRoutes,
  ...exchangeRoutes,
  ...messageRoutes,
  ...bindingRoutes,
  ...connectionRoutes,
  ...definitionRoutes,
];

const COMPILED = ROUTES.map((route) => ({ route, segments: route.path.split("/").slice(1) }));

export interface ManagementServer {
  readonly port: number;
  stop(): void;
}

/** Starts serving, over HTTPS with `tls`; throws when the address cannot be bound. */
export function startManagement(ctx: AdminContext, host: string, port: number, tls: KeyPair | null = null): ManagementServer {
  const server = Bun.serve({
    hostname: host,
    port,
    ...(tls === null ? {} : { tls: { cert: tls.cert, key: tls.key } }),
    maxRequestBodySize: DEFINITIONS_MAX_BYTES,
    fetch: (request, srv) => handle(ctx, request, srv),
    error: (error) => {
      log.error(`management API: ${error.stack ?? error.message}`);
      return json(500, { error: "internal_server_error", reason: "internal error" });
    },
  });
  const bound = server.port ?? port;
  ctx.listeners.push({ protocol: tls === null ? "http" : "https", host, port: bound });
  ctx.rates.start();
  return {
    port: bound,
    stop: () => {
      ctx.rates.stop();
      void server.stop(true);
    },
  };
}

async function handle(ctx: AdminContext, request: Request, srv: Server<undefined>): Promise<Response> {
  try {
    const url = new URL(request.url);
    const metrics = request.method === "GET" ? await metricsResponse(ctx, url.pathname) : null;
    if (metrics !== null) return metrics;
    const page = await dashboardResponse(request.method, url.pathname);
    if (page !== null) return page;
    const { route, params } = match(request.method, url.pathname);
    const ip = srv.requestIP(request);
    const principal = authenticate(ctx, request.headers.get("authorization"), ip === null ? "" : `${ip.address}:${ip.port}`);
    authorise(ctx, principal, route.access, route.method, params["vhost"]);
    const req: ApiRequest = {
      ctx,
      method: route.method,
      principal,
      params,
      query: url.searchParams,
      headers: request.headers,
      body: () => readJsonObject(request, route.maxBody_bytes ?? DEFAULT_MAX_BODY_BYTES),
    };
    return respond(await route.handle(req));
  } catch (error) {
    return errorResponse(error, request.headers.get("x-requested-with") === "XMLHttpRequest");
  }
}

/** The route for a method and raw path: 404 when no path matches, 405 when only the method is wrong. */
function match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
  // RabbitMQ's router takes "/api/connections/" for "/api/connections" on every path (clients'
  // test suites list connections that way); one trailing slash is dropped, "//" still names nothing.
  const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  let segments: string[];
  try {
    segments = path.split("/").slice(1).map(decodeURIComponent);
  } catch {
    throw notFound(); // malformed percent-encoding names nothing
  }
  let pathMatched = false;
  for (const { route, segments: pattern } of COMPILED) {
    const params = matchSegments(pattern, segments);
    if (params === null) continue;
    if (route.method === method) return { route, params };
    pathMatched = true;
  }
  if (pathMatched) throw new ApiError(405, "method_not_allowed", `${method} is not supported here`);
  throw notFound();
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(":")) {
      if (s === "") return null;
      params[p.slice(1)] = s;
    } else if (p !== s) {
      return null;
    }
  }
  return params;
}

/** Reads at most `limit` bytes of body and parses it as a JSON object; an empty body is {}. */
async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const tooLarge = () => new ApiError(413, "bad_request", `request body larger than ${limit} bytes`);
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("not_json");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest("not_json: a JSON object is expected");
  return value as Record<string, unknown>;
}

function respond(result: ApiResponse): Response {
  if (result.json === undefined) return new Response(null, { status: result.status });
  return json(result.status, result.json);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-cache", ...headers },
  });
}

/**
 * `fromScript`: the dashboard's requests say X-Requested-With, and get no Basic challenge with
 * a 401, which would make the browser open its own login dialog over the page's form.
 */
function errorResponse(error: unknown, fromScript: boolean): Response {
  const e = asApiError(error);
  if (e === null) {
    log.error(`management API: ${(error as Error).stack ?? String(error)}`);
    return json(500, { error: "internal_server_error", reason: "internal error" });
  }
  const headers: Record<string, string> = e.status === 401 && !fromScript ? { "www-authenticate": 'Basic realm="RabbitMQ Management"' } : {};
  return json(e.status, { error: e.error, reason: e.reason }, headers);
}

/** Broker checks throw AmqpError (argument validation, equivalence): the API reports their texts. */
function asApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (!(error instanceof AmqpError)) return null;
  if (error.code === ReplyCode.accessRefused) return notAuthorised(error.detail);
  if (error.code === ReplyCode.notFound) return notFound();
  return badRequest(error.detail);
}
