// The dashboard's static files on the management port: GET / and /dashboard/<file> with their
// content types, nothing outside the allow-list (no path traversal), and no Basic challenge for
// the page's own API calls (which would open the browser's login dialog over the page's form).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startAdminBroker, type AdminBroker } from "./admin_helpers.ts";

let w: AdminBroker;
let base = "";

beforeAll(async () => {
  w = await startAdminBroker();
  base = `http://127.0.0.1:${w.mgmtPort}`;
});

afterAll(async () => {
  await w.broker.dispose();
});

describe("dashboard files", () => {
  test("GET / is the page, without authentication", async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await r.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
  });

  test("every file the page imports is served with its content type", async () => {
    const dir = join(import.meta.dir, "..", "src", "admin", "dashboard");
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml", html: "text/html; charset=utf-8" };
    const served = readdirSync(dir).filter((f) => f.split(".").pop()! in types);
    expect(served.length).toBeGreaterThan(10);
    for (const file of served) {
      const r = await fetch(`${base}/dashboard/${file}`);
      expect({ file, status: r.status, type: r.headers.get("content-type") }).toEqual({ file, status: 200, type: types[file.split(".").pop()!]! });
      expect(await r.text()).toBe(await Bun.file(join(dir, file)).text());
      // Every module a module imports is in the folder (and so served).
      for (const [, imported] of (await Bun.file(join(dir, file)).text()).matchAll(/from "\.\/([^"]+)"/g)) expect(served).toContain(imported!);
    }
  });

  test("nothing else: unknown names, other folders and traversal attempts are 404", async () => {
    for (const path of ["/dashboard/nope.js", "/dashboard/", "/dashboard/screenshot.png", "/dashboard/%2e%2e%2fhttp_api.ts", "/dashboard/..%2Fhttp_api.ts", "/dashboard/%2e%2e/%2e%2e/package.json", "/index.html", "/dashboard/app.js/"]) {
      const r = await fetch(`${base}${path}`);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(await r.text()).not.toContain("import ");
    }
    expect((await fetch(`${base}/dashboard/app.js`, { method: "POST" })).status).toBe(405);
    const head = await fetch(`${base}/dashboard/style.css`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  test("a failed login from the page's scripts gets no Basic challenge; other clients do", async () => {
    const auth = { authorization: `Basic ${btoa("guest:wrong")}` };
    const fromPage = await fetch(`${base}/api/whoami`, { headers: { ...auth, "x-requested-with": "XMLHttpRequest" } });
    expect(fromPage.status).toBe(401);
    expect(fromPage.headers.get("www-authenticate")).toBeNull();
    expect(await fromPage.json()).toEqual({ error: "not_authorized", reason: "Login failed" });
    expect((await fetch(`${base}/api/whoami`, { headers: auth })).headers.get("www-authenticate")).toBe('Basic realm="RabbitMQ Management"');
  });
});
