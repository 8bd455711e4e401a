// Definitions export and import: a Warren export imported into a fresh Warren recreates users
// (the same password works: hashes are imported as they are), vhosts, permissions, queues,
// exchanges and bindings; a RabbitMQ-style export with a rabbit_password_hashing_sha256 hash
// imports and logs in; a malformed document changes nothing.
import { beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokersDisposedAfterAll, connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { errorOf } from "./support/amqp_client_helpers.ts";

let source: AdminBroker;
const track = brokersDisposedAfterAll();

beforeAll(async () => {
  source = await track(startAdminBroker());
  const put = async (path: string, body: unknown, status = 201) => expect((await source.api("PUT", path, { body })).status).toBe(status);
  await put("/api/vhosts/orders", {});
  await put("/api/users/shop", { password: "shop-secret", tags: "management" });
  await put("/api/permissions/orders/shop", { configure: "^orders\\.", write: "^orders\\.", read: "^orders\\." });
  await put("/api/permissions/orders/guest", { configure: ".*", write: ".*", read: ".*" });
  await put("/api/exchanges/orders/orders.events", { type: "topic", durable: true });
  await put("/api/queues/orders/orders.created", { durable: true, arguments: { "x-max-length": 1000 } });
  expect((await source.api("POST", "/api/bindings/orders/e/orders.events/q/orders.created", { body: { routing_key: "order.created.#" } })).status).toBe(201);
});


/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), 4-byte salt. */
function rabbitHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash("sha256").update(salt).update(password, "utf8").digest()]).toString("base64");
}

test("export has RabbitMQ's shape", async () => {
  const defs = (await source.api("GET", "/api/definitions")).json as Record<string, unknown[]>;
  expect(defs).toMatchObject({ rabbit_version: "3.10.8", product_name: "Warren", policies: [], parameters: [] });
  expect(defs["users"]).toContainEqual({ name: "shop", password_hash: expect.any(String), hashing_algorithm: "rabbit_password_hashing_sha256", tags: ["management"], limits: {} });
  expect(defs["vhosts"]).toContainEqual({ name: "orders" });
  expect(defs["permissions"]).toContainEqual({ user: "shop", vhost: "orders", configure: "^orders\\.", write: "^orders\\.", read: "^orders\\." });
  expect(defs["exchanges"]).toContainEqual({ name: "orders.events", vhost: "orders", type: "topic", durable: true, auto_delete: false, internal: false, arguments: {} });
  expect(defs["queues"]).toContainEqual({ name: "orders.created", vhost: "orders", durable: true, auto_delete: false, arguments: { "x-max-length": 1000 } });
  expect(defs["bindings"]).toContainEqual({ source: "orders.events", vhost: "orders", destination: "orders.created", destination_type: "queue", routing_key: "order.created.#", arguments: {} });
});

test("export → import into a fresh broker (its own data dir) recreates everything; restarts keep it", async () => {
  const defs = (await source.api("GET", "/api/definitions")).json;
  const dataDir = mkdtempSync(join(tmpdir(), "warren-import-"));
  try {
    let target = await track(startAdminBroker({ dataDir }));
    expect((await target.api("POST", "/api/definitions", { body: defs })).status).toBe(204);
    await target.broker.stop();
    target = await track(startAdminBroker({ dataDir }));
    // The user logs in with the same password, over AMQP and HTTP.
    expect((await target.api("GET", "/api/whoami", { user: "shop", password: "shop-secret" })).json).toEqual({ name: "shop", tags: ["management"] });
    const conn = await connect(target.amqpUrl("shop", "shop-secret", "orders"));
    const ch = await conn.channel();
    await ch.confirmSelect();
    await ch.basicPublish("orders.events", "order.created.eu", "order-1");
    expect((await ch.basicGet("orders.created"))?.bodyToString()).toBe("order-1");
    expect(await errorOf(ch.queueDeclare("elsewhere"))).toContain("ACCESS_REFUSED");
    await conn.close().catch(() => {});
    expect((await target.api("GET", "/api/queues/orders/orders.created")).json).toMatchObject({ durable: true, arguments: { "x-max-length": 1000 } });
    expect((await target.api("GET", "/api/exchanges/orders/orders.events")).json).toMatchObject({ type: "topic", durable: true });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("RabbitMQ-exported definitions with a sha256 password hash import and log in", async () => {
  const target = await track(startAdminBroker());
  const rabbitExport = {
    rabbit_version: "3.10.8",
    rabbitmq_version: "3.10.8",
    product_name: "RabbitMQ",
    product_version: "3.10.8",
    users: [{ name: "legacy", password_hash: rabbitHash("from-rabbit"), hashing_algorithm: "rabbit_password_hashing_sha256", tags: ["administrator"], limits: {} }],
    vhosts: [{ name: "legacy-vhost", limits: [], metadata: { description: "", tags: [] } }],
    permissions: [{ user: "legacy", vhost: "legacy-vhost", configure: ".*", write: ".*", read: ".*" }],
    topic_permissions: [],
    parameters: [],
    global_parameters: [{ name: "cluster_name", value: "rabbit@old" }],
    policies: [],
    queues: [{ name: "jobs", vhost: "legacy-vhost", durable: true, auto_delete: false, arguments: { "x-queue-type": "classic" } }],
    exchanges: [{ name: "jobs.x", vhost: "legacy-vhost", type: "direct", durable: true, auto_delete: false, internal: false, arguments: {} }],
    bindings: [{ source: "jobs.x", vhost: "legacy-vhost", destination: "jobs", destination_type: "queue", routing_key: "jobs", arguments: {} }],
  };
  expect((await target.api("POST", "/api/definitions", { body: rabbitExport })).status).toBe(204);
  expect((await target.api("GET", "/api/whoami", { user: "legacy", password: "from-rabbit" })).json).toEqual({ name: "legacy", tags: ["administrator"] });
  const conn = await connect(target.amqpUrl("legacy", "from-rabbit", "legacy-vhost"));
  const ch = await conn.channel();
  await ch.confirmSelect();
  await ch.basicPublish("jobs.x", "jobs", "job-1");
  expect((await ch.basicGet("jobs"))?.bodyToString()).toBe("job-1");
  await conn.close().catch(() => {});
  expect(await errorOf(connect(target.amqpUrl("legacy", "wrong", "legacy-vhost")))).toContain("ACCESS_REFUSED");
});

test("a malformed document is refused with 400 and changes nothing", async () => {
  const target = await track(startAdminBroker());
  const before = (await target.api("GET", "/api/definitions")).json;
  const bad = [
    { users: [{ name: "ok", password_hash: rabbitHash("x"), tags: "" }, { name: "bad", password_hash: "not base64!", tags: "" }] },
    { users: [{ name: "md5", password_hash: rabbitHash("x"), hashing_algorithm: "rabbit_password_hashing_md5", tags: "" }] },
    { vhosts: [{ name: "v" }], queues: [{ name: "q", vhost: "v", durable: "yes", auto_delete: false, arguments: {} }] },
    { vhosts: [{ name: "v" }], exchanges: [{ name: "x", vhost: "v", type: "nonsense", durable: true, auto_delete: false, internal: false, arguments: {} }] },
    { vhosts: [{ name: "v" }], permissions: [{ user: "guest", vhost: "v", configure: "(", write: "", read: "" }] },
    { vhosts: "all of them" },
  ];
  for (const body of bad) {
    const r = await target.api("POST", "/api/definitions", { body });
    expect({ body, status: r.status, error: (r.json as { error: string }).error }).toEqual({ body, status: 400, error: "bad_request" });
  }
  expect((await target.api("POST", "/api/definitions", { rawBody: "{\"vhosts\": [" })).status).toBe(400);
  expect((await target.api("GET", "/api/definitions")).json).toEqual(before);
});
