// The Prometheus port, as rabbitmq_prometheus serves it (15692 by default): GET /metrics and
// /metrics/per-object, no authentication, plain text; anything else is 404. Its own Bun.serve,
// so scraping needs no management credentials and the management port can stay closed.
import { log } from "../log.ts";
import type { AdminContext } from "./admin_context.ts";
import type { ManagementServer } from "./http_api.ts";
import { metricsResponse } from "./metrics.ts";

/** Starts serving; throws when the address cannot be bound. */
export function startPrometheus(ctx: AdminContext, host: string, port: number): ManagementServer {
  const server = Bun.serve({
    hostname: host,
    port,
    // Scrapes send no body; anything larger is not a scrape.
    maxRequestBodySize: 64 * 1024,
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      const metrics = request.method === "GET" ? await metricsResponse(ctx, path) : null;
      return metrics ?? new Response("Not Found\n", { status: 404, headers: { "content-type": "text/plain" } });
    },
    error: (error) => {
      log.error(`prometheus: ${error.stack ?? error.message}`);
      return new Response("internal error\n", { status: 500 });
    },
  });
  const bound = server.port ?? port;
  ctx.listeners.push({ protocol: "http/prometheus", host, port: bound });
  return { port: bound, stop: () => void server.stop(true) };
}
