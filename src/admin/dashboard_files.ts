// The management dashboard's static files (src/admin/dashboard/), served on the management port:
// GET / is index.html, GET /dashboard/NAME one of the files below. Only names in this list are
// served, looked up as whole strings, so no request path can reach another file. The files are
// read once, on first use, and kept in memory (they are a few tens of KiB).
import { join } from "node:path";

const DASHBOARD_DIR = join(import.meta.dir, "dashboard");

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** Every file the page loads: index.html's stylesheet and ES modules. */
const FILES = [
  "index.html",
  "style.css",
  "logo.svg",
  "app.js",
  "api.js",
  "ui.js",
  "chart.js",
  "table.js",
  "overview.js",
  "connections.js",
  "channels.js",
  "exchanges.js",
  "queues.js",
  "messages.js",
  "admin.js",
] as const;

const ALLOWED = new Set<string>(FILES);
const cache = new Map<string, Uint8Array>();

/** The response for a dashboard path, or null when the path is not the dashboard's. */
export async function dashboardResponse(method: string, pathname: string): Promise<Response | null> {
  const name = pathname === "/" ? "index.html" : pathname.startsWith("/dashboard/") ? pathname.slice("/dashboard/".length) : null;
  if (name === null) return null;
  if (!ALLOWED.has(name)) return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  if (method !== "GET" && method !== "HEAD") return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  let body = cache.get(name);
  if (body === undefined) {
    body = new Uint8Array(await Bun.file(join(DASHBOARD_DIR, name)).arrayBuffer());
    cache.set(name, body);
  }
  const type = CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
  return new Response(method === "HEAD" ? null : body, {
    headers: {
      "content-type": type,
      // The page and its modules change only with Warren itself; no-cache keeps an upgraded
      // broker from running an old page against its new API (the browser revalidates each load).
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    },
  });
}
