// The management dashboard in a real browser: Debian's chromium, headless, driven over the
// DevTools protocol (test/support/cdp_browser.ts) against a Warren process, with real AMQP
// clients making the traffic the pages must show. Screenshots of every page go to
// test-artifacts/screenshots/. Without chromium these tests skip (apt-get install chromium).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedBy, connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";
import { Browser, findChromium, type Page } from "./support/cdp_browser.ts";

const chromium = findChromium();
if (chromium === null) console.warn("dashboard_browser.test.ts: skipped, chromium is not installed (apt-get install chromium)");

const SCREENSHOTS = join(import.meta.dir, "..", "test-artifacts", "screenshots");
/** Two refreshes of the page (5 s each) and the broker's 5 s rate sampling, with slack. */
const LIVE_TIMEOUT_MS = 25_000;

let w: AdminBroker;
let browser: Browser;
let page: Page;
let base = "";
const open: AMQPConnection[] = [];

async function client(name?: string): Promise<AMQPConnection> {
  const url = w.amqpUrl("guest", "guest") + (name === undefined ? "" : `?name=${encodeURIComponent(name)}`);
  const c = await connect(url);
  open.push(c);
  return c;
}

const shot = (name: string) => page.screenshot(join(SCREENSHOTS, `${name}.png`));

/** The text of a table cell: the row whose data-key is `key`, the column `col`. */
const cell = (key: string, col: string) =>
  `[...document.querySelectorAll("tr[data-key]")].find((tr) => tr.dataset.key === ${JSON.stringify(key)})?.querySelector('td[data-col="${col}"]')?.textContent`;

async function login(user: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitFor("document.querySelector('#login-form')", "the login form");
  await page.fill({ "#login-form input[name=username]": user, "#login-form input[name=password]": password });
  await page.click("#login-form button[type=submit]");
}

describe.skipIf(chromium === null)("dashboard in chromium", () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    w = await startAdminBroker();
    base = `http://127.0.0.1:${w.mgmtPort}`;
    expect((await w.api("PUT", "/api/users/no-tags", { body: { password: "pw", tags: "" } })).status).toBe(201);
    browser = await Browser.launch(chromium!);
    page = await browser.newPage(1280, 800);
  });

  afterAll(async () => {
    for (const c of open) if (!c.closed) await c.close().catch(() => {});
    await browser?.close();
    await w?.broker.dispose();
  });

  test("a user without a management tag is told so at login", async () => {
    await login("no-tags", "pw");
    await page.waitFor("document.querySelector('#login-message.login-error')", "the login error");
    expect(await page.evaluate<string>("document.querySelector('#login-message').textContent")).toContain("Not management user");
    await login("guest", "wrong");
    await page.waitFor("document.querySelector('#login-message.login-error')?.textContent.includes('Login failed')", "the login failure");
    await shot("login-refused");
  });

  test("guest logs in and sees the overview with its node and listeners", async () => {
    await login("guest", "guest");
    await page.waitFor("!document.querySelector('#tabs').hidden && document.querySelector('[data-total=queues]')", "the overview");
    expect(await page.evaluate<string>("document.querySelector('#user-name').textContent")).toBe("guest");
    expect(await page.evaluate<boolean>("!document.querySelector('#admin-tab').hidden")).toBe(true);
    await page.waitFor(`document.querySelector('tr[data-key="amqp:${w.broker.port}"]')`, "the AMQP listener row");
    expect(page.errors).toEqual([]);
  });

  test("a queue a client declares appears in the queues page, and its depth and the publish rate move", async () => {
    await page.goto(`${base}/#/queues`);
    await page.waitFor("document.querySelector('table.list tbody tr')", "the queues table");
    const queue = uniq("dash-q");
    const c = await client();
    const ch = await c.channel();
    await ch.queue(queue, { durable: true });
    await page.waitFor(cell(`//${queue}`, "name"), "the new queue's row", LIVE_TIMEOUT_MS);
    expect(await page.evaluate<string>(cell(`//${queue}`, "ready"))).toBe("0");
    expect(await page.evaluate<string>(cell(`//${queue}`, "features"))).toContain("D");
    for (let i = 0; i < 120; i++) await ch.basicPublish("", queue, `m${i}`);
    await page.waitFor(`${cell(`//${queue}`, "ready")} === "120"`, "the queue's depth to reach 120", LIVE_TIMEOUT_MS);
    expect(await page.evaluate<string>(cell(`//${queue}`, "total"))).toBe("120");
    await page.fill({ "input.filter": queue });
    expect(await page.evaluate<number>("document.querySelectorAll('table.list tbody tr[data-key]').length")).toBe(1);
    await page.fill({ "input.filter": "" });
    await shot("queues");
    await page.goto(`${base}/#/`);
    // Keep publishing so the broker's 5 s rate window sees messages whatever its phase.
    const publishing = setInterval(() => void ch.basicPublish("", queue, "tick").catch(() => {}), 50);
    try {
      await page.waitFor(`parseFloat(document.querySelector('[data-series="Publish"]')?.textContent ?? "0") > 0`, "a publish rate above 0", LIVE_TIMEOUT_MS);
    } finally {
      clearInterval(publishing);
    }
    await page.waitFor(`parseInt(document.querySelector('[data-series="Ready"]')?.textContent.replace(/,/g, "") ?? "0") >= 120`, "the queued-messages chart", LIVE_TIMEOUT_MS);
    await shot("overview");
  }, 90_000);

  test("publish a message and get it back on the queue page", async () => {
    const queue = uniq("dash-pub");
    expect((await w.api("PUT", `/api/queues/%2F/${queue}`, { body: {} })).status).toBe(201);
    await page.goto(`${base}/#/queues/%2F/${queue}`);
    await page.waitFor("document.querySelector('#queue-ready')", "the queue page");
    await page.fill({ ".publish-form textarea[name=payload]": "hello from the dashboard", ".publish-form textarea[name=properties]": "content_type=text/plain" });
    await page.click(".publish-form button[type=submit]");
    await page.waitFor("document.querySelector('#toast').textContent === 'Message published.'", "the published toast");
    await page.click(".get-form button[type=submit]");
    await page.waitFor("document.querySelector('.message .payload')", "the got message");
    expect(await page.evaluate<string>("document.querySelector('.message .payload').textContent")).toBe("hello from the dashboard");
    expect(await page.evaluate<string>("document.querySelector('.message').textContent")).toContain("content_type: text/plain");
    await shot("queue");
    // The default ack mode requeues: a client still gets the message, now redelivered.
    const ch = await (await client()).channel();
    const msg = await ch.basicGet(queue, { noAck: true });
    expect(msg?.bodyToString()).toBe("hello from the dashboard");
    expect(msg?.redelivered).toBe(true);
    // Get on the empty queue says so.
    await page.click(".get-form button[type=submit]");
    await page.waitFor("document.querySelector('#queue-empty')", "'Queue is empty'");
  });

  test("force close a connection from its page: the client sees the close", async () => {
    const name = uniq("dash-conn");
    const c = await client(name);
    const ch = await c.channel();
    await ch.confirmSelect();
    await page.goto(`${base}/#/connections`);
    const row = `[...document.querySelectorAll("tr[data-key]")].find((tr) => tr.textContent.includes(${JSON.stringify(name)}))`;
    await page.waitFor(row, "the connection's row", LIVE_TIMEOUT_MS);
    await shot("connections");
    await page.evaluate(`${row}.querySelector("a").click()`);
    await page.waitFor("document.querySelector('#connection-name') && document.querySelector('td[data-col=mode]')", "the connection page with its channel");
    expect(await page.evaluate<string>("document.querySelector('td[data-col=mode]').textContent")).toBe("C");
    await shot("connection");
    const closed = closedBy(c);
    await page.fill({ "#close-connection input[name=reason]": "closed from the dashboard test" });
    await page.click("#close-connection button[type=submit]");
    expect(await closed).toContain("closed from the dashboard test");
    await page.waitFor("location.hash === '#/connections'", "the connections list after the close");
  });

  test("definitions: download an export, upload an import", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warren-dashboard-defs-"));
    try {
      expect((await w.api("PUT", "/api/queues/%2F/exported-q", { body: { durable: true } })).status).toBe(201);
      await browser.allowDownloads(dir);
      await page.goto(`${base}/#/`);
      await page.waitFor("document.querySelector('#export-definitions')", "the export button");
      await page.click("#export-definitions");
      const deadline = Date.now() + 20_000;
      let file: string | undefined;
      while ((file = readdirSync(dir).find((f) => f.startsWith("warren_definitions_") && f.endsWith(".json"))) === undefined && Date.now() < deadline) await Bun.sleep(100);
      if (file === undefined) {
        const toast = await page.evaluate<string>("document.querySelector('#toast')?.textContent ?? ''");
        throw new Error(`no definitions file in ${dir}; downloads: ${JSON.stringify(browser.downloads)}; toast: ${toast}; files: ${readdirSync(dir).join(", ")}`);
      }
      const exported = JSON.parse(readFileSync(join(dir, file!), "utf8")) as { queues: { name: string }[] };
      expect(exported.queues.map((q) => q.name)).toContain("exported-q");
      const upload = join(dir, "import.json");
      writeFileSync(upload, JSON.stringify({ vhosts: [{ name: "imported-vhost" }], queues: [{ name: "imported-q", vhost: "/", durable: true, auto_delete: false, arguments: {} }] }));
      await page.setFiles("#import-file", [upload]);
      await page.click("#import-definitions");
      await page.waitFor("document.querySelector('#toast').textContent.startsWith('Definitions imported')", "the import's toast");
      expect((await w.api("GET", "/api/queues/%2F/imported-q")).status).toBe(200);
      expect((await w.api("GET", "/api/vhosts/imported-vhost")).status).toBe(200);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });

  test("exchanges, channels and admin pages render their tables", async () => {
    await page.goto(`${base}/#/exchanges`);
    await page.waitFor(cell("//amq.topic", "type") + " === 'topic'", "amq.topic in the exchanges table");
    await shot("exchanges");
    await page.goto(`${base}/#/exchanges/%2F/amq.direct`);
    await page.waitFor("document.querySelector('#exchange-name')?.textContent === 'amq.direct' && document.querySelector('.publish-form')", "the exchange page");
    await shot("exchange");
    await (await client()).channel();
    await page.goto(`${base}/#/channels`);
    await page.waitFor("document.querySelector('tr[data-key] td[data-col=vhost]')", "a channel row");
    await shot("channels");
    await page.goto(`${base}/#/admin`);
    await page.waitFor(cell("guest", "tags") + " === 'administrator'", "guest in the users table");
    await page.fill({ "#add-vhost input[name=name]": "from-dashboard" });
    await page.click("#add-vhost button[type=submit]");
    await page.waitFor(cell("from-dashboard", "name"), "the new vhost's row");
    expect((await w.api("GET", "/api/vhosts/from-dashboard")).status).toBe(200);
    await shot("admin");
    expect(page.errors).toEqual([]);
  });
});
