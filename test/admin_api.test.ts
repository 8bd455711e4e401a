// The management HTTP API against a running Warren: RabbitMQ's paths, JSON shapes, tag rules and
// error bodies, driven over real HTTP (and real AMQP clients where counts need traffic).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closedBy, connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

let w: AdminBroker;
const open: AMQPConnection[] = [];

beforeAll(async () => {
  w = await startAdminBroker();
  // A management-only user, a monitoring user and a user without tags, all with rights on "/".
  for (const [name, tags] of [["mgmt", "management"], ["mon", "monitoring"], ["notag", ""]] as const) {
    expect((await w.api("PUT", `/api/users/${name}`, { body: { password: "pw", tags } })).status).toBe(201);
  }
  expect((await w.api("PUT", "/api/permissions/%2F/mgmt", { body: { configure: ".*", write: ".*", read: ".*" } })).status).toBe(201);
});

afterAll(async () => {
  for (const c of open) if (!c.closed) await c.close().catch(() => {});
  await w.broker.dispose();
});

async function amqp(user = "guest", password = "guest", vhost = "/"): Promise<AMQPConnection> {
  const c = await connect(w.amqpUrl(user, password, vhost));
  open.push(c);
  return c;
}

const NOT_FOUND = { error: "Object Not Found", reason: "Not Found" };

describe("authentication and tags", () => {
  test("no credentials: 401 with a Basic challenge", async () => {
    const r = await w.api("GET", "/api/overview", { anonymous: true });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Basic realm="RabbitMQ Management"');
  });

  test("wrong password: 401 Login failed", async () => {
    const r = await w.api("GET", "/api/overview", { password: "wrong" });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: "not_authorized", reason: "Login failed" });
  });

  test("a user without a management tag is refused", async () => {
    const r = await w.api("GET", "/api/overview", { user: "notag", password: "pw" });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: "not_authorised", reason: "Not management user" });
  });

  test("management users cannot manage users, see nodes or export definitions", async () => {
    const creds = { user: "mgmt", password: "pw" };
    expect((await w.api("GET", "/api/users", creds)).json).toEqual({ error: "not_authorised", reason: "Not administrator user" });
    expect((await w.api("PUT", "/api/vhosts/x", creds)).status).toBe(403);
    expect((await w.api("GET", "/api/definitions", creds)).status).toBe(403);
    const nodes = await w.api("GET", "/api/nodes", creds);
    expect(nodes.status).toBe(403);
    expect(nodes.json).toEqual({ error: "not_authorised", reason: "Not monitor user" });
  });

  test("monitoring users read everything but change nothing", async () => {
    const creds = { user: "mon", password: "pw" };
    expect((await w.api("GET", "/api/nodes", creds)).status).toBe(200);
    expect((await w.api("GET", "/api/queues/%2F", creds)).status).toBe(200);
    expect((await w.api("GET", "/api/vhosts", creds)).json).toEqual([expect.objectContaining({ name: "/" })]);
    expect((await w.api("PUT", "/api/vhosts/x", creds)).status).toBe(403);
    const declare = await w.api("PUT", "/api/queues/%2F/mon-q", { ...creds, body: {} });
    expect(declare.status).toBe(403);
    expect(declare.json).toEqual({ error: "not_authorised", reason: "User not authorised to access virtual host" });
  });

  test("a management user sees only the vhosts it has permissions in", async () => {
    const vhost = uniq("hidden");
    expect((await w.api("PUT", `/api/vhosts/${vhost}`)).status).toBe(201);
    const creds = { user: "mgmt", password: "pw" };
    expect(((await w.api("GET", "/api/vhosts", creds)).json as { name: string }[]).map((v) => v.name)).toEqual(["/"]);
    expect((await w.api("GET", `/api/queues/${vhost}`, creds)).status).toBe(403);
    expect((await w.api("DELETE", `/api/vhosts/${vhost}`)).status).toBe(204);
  });

  test("whoami", async () => {
    expect((await w.api("GET", "/api/whoami")).json).toEqual({ name: "guest", tags: ["administrator"] });
    expect((await w.api("GET", "/api/whoami", { user: "mon", password: "pw" })).json).toEqual({ name: "mon", tags: ["monitoring"] });
  });
});

describe("errors", () => {
  test("unknown objects and paths: 404 Object Not Found", async () => {
    for (const path of ["/api/vhosts/nope", "/api/users/nope", "/api/queues/nope", "/api/queues/%2F/nope", "/api/exchanges/%2F/nope", "/api/permissions/%2F/nope", "/api/nothing", "/api/queues/%E0%A4%A"]) {
      const r = await w.api("GET", path);
      expect({ path, status: r.status, json: r.json }).toEqual({ path, status: 404, json: NOT_FOUND });
    }
    expect((await w.api("DELETE", "/api/users/nope")).status).toBe(404);
    expect((await w.api("DELETE", "/api/vhosts/nope")).status).toBe(404);
    expect((await w.api("DELETE", "/api/queues/%2F/nope")).status).toBe(404);
  });

  test("every path answers the same with a trailing slash, as RabbitMQ's router does", async () => {
    for (const path of ["/api/vhosts", "/api/vhosts/%2F", "/api/users/guest", "/api/queues/%2F", "/api/exchanges/%2F/amq.direct", "/api/whoami"]) {
      const plain = await w.api("GET", path);
      const slashed = await w.api("GET", `${path}/`);
      expect({ path, status: slashed.status, json: slashed.json }).toEqual({ path, status: 200, json: plain.json });
    }
    expect((await w.api("GET", "/api/vhosts/nope/")).status).toBe(404);
    expect((await w.api("GET", "/api/vhosts//")).status).toBe(404);
  });

  test("malformed JSON: 400 bad_request", async () => {
    const r = await w.api("PUT", "/api/users/x", { rawBody: "{not json" });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: "bad_request", reason: "not_json" });
    expect((await w.api("PUT", "/api/users/x", { rawBody: "[1,2]" })).status).toBe(400);
  });

  test("RabbitMQ's validation errors", async () => {
    expect((await w.api("PUT", "/api/users/x", { body: { password: "p" } })).json).toEqual({ error: "bad_request", reason: "tags_not_present" });
    expect((await w.api("PUT", "/api/users/x", { body: { password: 5, tags: "" } })).status).toBe(400);
    expect((await w.api("PUT", "/api/permissions/%2F/mgmt", { body: { configure: ".*" } })).json).toEqual({
      error: "bad_request",
      reason: "[{key_missing,write},{key_missing,read}]",
    });
    expect((await w.api("PUT", "/api/permissions/%2F/mgmt", { body: { configure: "(", write: "", read: "" } })).status).toBe(400);
    expect((await w.api("PUT", "/api/permissions/nope/mgmt", { body: { configure: "", write: "", read: "" } })).json).toEqual({
      error: "bad_request",
      reason: "vhost_or_user_not_found",
    });
    expect((await w.api("PUT", "/api/exchanges/%2F/x", { body: { type: "bogus" } })).json).toEqual({ error: "bad_request", reason: "unknown exchange type 'bogus'" });
    const badArg = await w.api("PUT", "/api/queues/%2F/badarg", { body: { arguments: { "x-max-length": "ten" } } });
    expect(badArg.status).toBe(400);
    expect((badArg.json as { reason: string }).reason).toContain("x-max-length");
    expect((await w.api("PUT", "/api/queues/%2F/q1", { body: { durable: "maybe" } })).status).toBe(400);
  });

  test("wrong method: 405; oversized body: 413", async () => {
    expect((await w.api("POST", "/api/overview")).status).toBe(405);
    const big = await w.api("PUT", "/api/vhosts/big", { rawBody: JSON.stringify({ description: "x".repeat(2 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    expect((await w.api("GET", "/api/vhosts/big")).status).toBe(404);
  });

  test("the broker keeps serving after garbage", async () => {
    await fetch(`http://127.0.0.1:${w.mgmtPort}/api/queues/%2F/q`, { method: "PUT", body: "\u0000\u0001", headers: { authorization: "Basic !!!" } });
    await fetch(`http://127.0.0.1:${w.mgmtPort}/api/definitions`, { method: "POST", body: "{\"users\": 5}", headers: { authorization: `Basic ${btoa("guest:guest")}` } });
    expect((await w.api("POST", "/api/definitions", { body: { queues: [{ name: 1 }] } })).status).toBe(400);
    expect((await w.api("GET", "/api/overview")).status).toBe(200);
  });
});

describe("vhosts, users, permissions", () => {
  test("vhost lifecycle; '/' is %2F", async () => {
    const name = uniq("v");
    expect((await w.api("PUT", `/api/vhosts/${name}`)).status).toBe(201);
    expect((await w.api("PUT", `/api/vhosts/${name}`)).status).toBe(204);
    const v = (await w.api("GET", `/api/vhosts/${name}`)).json as Record<string, unknown>;
    expect(v).toMatchObject({ name, tracing: false, messages: 0, messages_ready: 0, messages_unacknowledged: 0 });
    expect((await w.api("GET", "/api/vhosts/%2F")).json).toMatchObject({ name: "/" });
    expect((await w.api("DELETE", `/api/vhosts/${name}`)).status).toBe(204);
    expect((await w.api("GET", `/api/vhosts/${name}`)).status).toBe(404);
  });

  test("user lifecycle: password, tags (string or list), hash, delete", async () => {
    const name = uniq("u");
    expect((await w.api("PUT", `/api/users/${name}`, { body: { password: "s3cret", tags: "management,monitoring" } })).status).toBe(201);
    const u = (await w.api("GET", `/api/users/${name}`)).json as Record<string, unknown>;
    expect(u).toEqual({ name, password_hash: expect.any(String), hashing_algorithm: "rabbit_password_hashing_sha256", tags: ["management", "monitoring"], limits: {} });
    expect((await w.api("GET", "/api/whoami", { user: name, password: "s3cret" })).status).toBe(200);
    // Replacing keeps what is given: here the same hash and new tags.
    expect((await w.api("PUT", `/api/users/${name}`, { body: { password_hash: u["password_hash"], tags: ["administrator"] } })).status).toBe(204);
    expect((await w.api("GET", "/api/whoami", { user: name, password: "s3cret" })).json).toEqual({ name, tags: ["administrator"] });
    // Neither password nor hash: no password login, as in RabbitMQ.
    expect((await w.api("PUT", `/api/users/${name}`, { body: { tags: "administrator" } })).status).toBe(204);
    expect((await w.api("GET", "/api/whoami", { user: name, password: "s3cret" })).status).toBe(401);
    expect((await w.api("DELETE", `/api/users/${name}`)).status).toBe(204);
    expect((await w.api("GET", `/api/users/${name}`)).status).toBe(404);
  });

  test("permissions: set, show, list, clear", async () => {
    const vhost = uniq("pv");
    await w.api("PUT", `/api/vhosts/${vhost}`);
    expect((await w.api("PUT", `/api/permissions/${vhost}/mgmt`, { body: { configure: "^a", write: "^b", read: "^c" } })).status).toBe(201);
    expect((await w.api("PUT", `/api/permissions/${vhost}/mgmt`, { body: { configure: "^a", write: "^b", read: "^d" } })).status).toBe(204);
    const expected = { user: "mgmt", vhost, configure: "^a", write: "^b", read: "^d" };
    expect((await w.api("GET", `/api/permissions/${vhost}/mgmt`)).json).toEqual(expected);
    expect((await w.api("GET", `/api/vhosts/${vhost}/permissions`)).json).toEqual([expected]);
    expect((await w.api("GET", "/api/users/mgmt/permissions")).json).toContainEqual(expected);
    expect((await w.api("GET", "/api/permissions")).json).toContainEqual(expected);
    expect((await w.api("DELETE", `/api/permissions/${vhost}/mgmt`)).status).toBe(204);
    expect((await w.api("DELETE", `/api/permissions/${vhost}/mgmt`)).status).toBe(404);
    await w.api("DELETE", `/api/vhosts/${vhost}`);
  });
});

describe("queues, exchanges, bindings", () => {
  test("declare, count, purge, delete a queue", async () => {
    const q = uniq("q");
    expect((await w.api("PUT", `/api/queues/%2F/${q}`, { body: { durable: true, arguments: { "x-max-length": 100 } } })).status).toBe(201);
    expect((await w.api("PUT", `/api/queues/%2F/${q}`, { body: { durable: true, arguments: { "x-max-length": 100 } } })).status).toBe(204);
    expect((await w.api("PUT", `/api/queues/%2F/${q}`, { body: { durable: false } })).json).toEqual({
      error: "bad_request",
      reason: `inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'false' but current is 'true'`,
    });
    const conn = await amqp();
    const ch = await conn.channel();
    await ch.confirmSelect();
    for (let i = 0; i < 5; i++) await ch.basicPublish("", q, `m${i}`);
    await ch.prefetch(2);
    const consumer = await ch.basicConsume(q, { noAck: false }, () => {});
    await Bun.sleep(200);
    const shown = (await w.api("GET", `/api/queues/%2F/${q}`)).json as Record<string, unknown>;
    expect(shown).toMatchObject({
      name: q, vhost: "/", durable: true, auto_delete: false, exclusive: false, arguments: { "x-max-length": 100 },
      messages: 5, messages_ready: 3, messages_unacknowledged: 2, consumers: 1, state: "running", node: expect.stringMatching(/^warren@/),
    });
    expect(shown["consumer_details"]).toEqual([expect.objectContaining({ consumer_tag: consumer.tag, ack_required: true, prefetch_count: 2, queue: { name: q, vhost: "/" } })]);
    expect((await w.api("GET", "/api/queues/%2F")).json).toContainEqual(expect.objectContaining({ name: q, messages: 5 }));
    await consumer.cancel();
    await ch.close();
    expect((await w.api("DELETE", `/api/queues/%2F/${q}/contents`)).status).toBe(204);
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).json).toMatchObject({ messages: 0, messages_ready: 0 });
    await w.api("PUT", `/api/exchanges/%2F/${q}-x`, { body: { type: "fanout" } });
    expect((await w.api("DELETE", `/api/queues/%2F/${q}`)).status).toBe(204);
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).status).toBe(404);
    await w.api("DELETE", `/api/exchanges/%2F/${q}-x`);
  });

  test("a queue's type shows in /api/queues; a quorum queue's checks apply to API declares too", async () => {
    const q = uniq("typed");
    expect((await w.api("PUT", `/api/queues/%2F/${q}`, { body: { durable: true, arguments: { "x-queue-type": "quorum" } } })).status).toBe(201);
    expect((await w.api("PUT", `/api/queues/%2F/${q}-classic`, { body: { durable: true } })).status).toBe(201);
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).json).toMatchObject({ name: q, type: "quorum", arguments: { "x-queue-type": "quorum" } });
    expect((await w.api("GET", `/api/queues/%2F/${q}-classic`)).json).toMatchObject({ name: `${q}-classic`, type: "classic" });
    expect((await w.api("PUT", `/api/queues/%2F/${q}-ad`, { body: { durable: true, auto_delete: true, arguments: { "x-queue-type": "quorum" } } })).json).toEqual({
      error: "bad_request",
      reason: `invalid property 'auto-delete' for queue '${q}-ad' in vhost '/'`,
    });
    expect((await w.api("DELETE", `/api/queues/%2F/${q}`)).status).toBe(204);
    expect((await w.api("DELETE", `/api/queues/%2F/${q}-classic`)).status).toBe(204);
  });

  test("delete with if-empty refuses a queue with messages", async () => {
    const q = uniq("ifempty");
    await w.api("PUT", `/api/queues/%2F/${q}`, { body: {} });
    const ch = await (await amqp()).channel();
    await ch.confirmSelect();
    await ch.basicPublish("", q, "x");
    const r = await w.api("DELETE", `/api/queues/%2F/${q}?if-empty=true`);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: "bad_request", reason: `queue '${q}' in vhost '/' not empty` });
    expect((await w.api("DELETE", `/api/queues/%2F/${q}`)).status).toBe(204);
  });

  test("exchanges and bindings", async () => {
    const x = uniq("x");
    const q = uniq("q");
    expect((await w.api("PUT", `/api/exchanges/%2F/${x}`, { body: { type: "topic", durable: true } })).status).toBe(201);
    expect((await w.api("GET", `/api/exchanges/%2F/${x}`)).json).toMatchObject({ name: x, vhost: "/", type: "topic", durable: true, auto_delete: false, internal: false, arguments: {} });
    expect((await w.api("PUT", `/api/exchanges/%2F/${x}`, { body: { type: "direct", durable: true } })).status).toBe(400);
    expect((await w.api("GET", "/api/exchanges/%2F/amq.default")).json).toMatchObject({ name: "", type: "direct" });
    expect((await w.api("DELETE", "/api/exchanges/%2F/amq.direct")).status).toBe(403);
    await w.api("PUT", `/api/queues/%2F/${q}`, { body: {} });
    expect((await w.api("POST", `/api/bindings/%2F/e/${x}/q/${q}`, { body: { routing_key: "a.#" } })).status).toBe(201);
    const bindings = (await w.api("GET", "/api/bindings/%2F")).json as Record<string, unknown>[];
    expect(bindings).toContainEqual({ source: "", vhost: "/", destination: q, destination_type: "queue", routing_key: q, arguments: {}, properties_key: q });
    const ours = { source: x, vhost: "/", destination: q, destination_type: "queue", routing_key: "a.#", arguments: {}, properties_key: "a.%23" };
    expect(bindings).toContainEqual(ours);
    expect((await w.api("GET", `/api/queues/%2F/${q}/bindings`)).json).toContainEqual(ours);
    expect((await w.api("GET", `/api/exchanges/%2F/${x}/bindings/source`)).json).toEqual([ours]);
    // The binding routes: a publish to the exchange lands in the queue.
    const ch = await (await amqp()).channel();
    await ch.confirmSelect();
    await ch.basicPublish(x, "a.b", "routed");
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).json).toMatchObject({ messages_ready: 1 });
    expect((await w.api("DELETE", `/api/bindings/%2F/e/${x}/q/${q}/a.%2523`)).status).toBe(204);
    expect((await w.api("GET", `/api/bindings/%2F/e/${x}/q/${q}`)).json).toEqual([]);
    expect((await w.api("DELETE", `/api/exchanges/%2F/${x}`)).status).toBe(204);
    expect((await w.api("DELETE", `/api/exchanges/%2F/${x}`)).status).toBe(404);
    await w.api("DELETE", `/api/queues/%2F/${q}`);
  });

  test("a queue in one vhost is invisible in another", async () => {
    const v1 = uniq("iso1");
    const v2 = uniq("iso2");
    await w.api("PUT", `/api/vhosts/${v1}`);
    await w.api("PUT", `/api/vhosts/${v2}`);
    await w.api("PUT", `/api/permissions/${v1}/guest`, { body: { configure: ".*", write: ".*", read: ".*" } });
    expect((await w.api("PUT", `/api/queues/${v1}/shared-name`, { body: {} })).status).toBe(201);
    expect((await w.api("GET", `/api/queues/${v1}/shared-name`)).status).toBe(200);
    expect((await w.api("GET", `/api/queues/${v2}/shared-name`)).status).toBe(404);
    expect((await w.api("GET", `/api/queues/${v2}`)).json).toEqual([]);
    await w.api("DELETE", `/api/vhosts/${v1}`);
    await w.api("DELETE", `/api/vhosts/${v2}`);
  });
});

describe("connections, channels, consumers", () => {
  test("listing and closing a connection (320 with the given reason)", async () => {
    const label = uniq("listed");
    const conn = await connect(`${w.amqpUrl("guest", "guest")}?name=${label}`);
    open.push(conn);
    const ch = await conn.channel();
    const q = uniq("cq");
    await ch.queueDeclare(q, { exclusive: true });
    await ch.basicConsume(q, { tag: "the-tag" }, () => {});
    const list = (await w.api("GET", "/api/connections")).json as Record<string, unknown>[];
    const mine = list.find((c) => c["user_provided_name"] === label);
    expect(mine).toMatchObject({ user: "guest", vhost: "/", peer_host: "127.0.0.1", protocol: "AMQP 0-9-1", state: "running", port: w.broker.port, channels: 1 });
    const name = mine!["name"] as string;
    expect(name).toMatch(/^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
    expect((await w.api("GET", `/api/connections/${encodeURIComponent(name)}`)).json).toMatchObject({ name });
    expect((await w.api("GET", "/api/channels")).json).toContainEqual(expect.objectContaining({ name: `${name} (1)`, number: 1, consumer_count: 1, connection_details: expect.objectContaining({ name }) }));
    expect((await w.api("GET", "/api/consumers/%2F")).json).toContainEqual(expect.objectContaining({ consumer_tag: "the-tag", queue: { name: q, vhost: "/" } }));
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).json).toMatchObject({ exclusive: true, owner_pid_details: { name } });
    // A management user sees neither this connection nor may it close it.
    expect((await w.api("GET", "/api/connections", { user: "mgmt", password: "pw" })).json).toEqual([]);
    expect((await w.api("DELETE", `/api/connections/${encodeURIComponent(name)}`, { user: "mgmt", password: "pw" })).status).toBe(403);
    const closed = closedBy(conn);
    expect((await w.api("DELETE", `/api/connections/${encodeURIComponent(name)}`, { headers: { "x-reason": "maintenance" } })).status).toBe(204);
    expect(await closed).toContain("CONNECTION_FORCED - maintenance");
    await Bun.sleep(100);
    expect((await w.api("GET", `/api/connections/${encodeURIComponent(name)}`)).status).toBe(404);
    expect((await w.api("GET", `/api/queues/%2F/${q}`)).status).toBe(404); // exclusive: gone with its connection
  });

  test("a client that lists /api/connections/ (trailing slash) finds its connection by connection_name and closes it by name", async () => {
    // amqp091-go's recovery tests: GET /api/connections/, match client_properties.connection_name,
    // DELETE /api/connections/ + url.PathEscape(name) (which leaves the colons as they are).
    const label = uniq("recovering");
    const conn = await connect(`${w.amqpUrl("guest", "guest")}?name=${label}`);
    open.push(conn);
    const listed = await w.api("GET", "/api/connections/");
    expect(listed.status).toBe(200);
    const mine = (listed.json as { name: string; client_properties: Record<string, unknown> }[]).find((c) => c.client_properties["connection_name"] === label);
    expect(mine).toBeDefined();
    const closed = closedBy(conn);
    const pathEscaped = encodeURIComponent(mine!.name).replaceAll("%3A", ":");
    expect((await w.api("DELETE", `/api/connections/${pathEscaped}`)).status).toBe(204);
    expect(await closed).toContain("CONNECTION_FORCED - Closed via management plugin");
  });
});

describe("overview, nodes, aliveness, metrics", () => {
  test("overview counts what happened", async () => {
    const before = (await w.api("GET", "/api/overview")).json as { message_stats: { publish: number } };
    const q = uniq("ov");
    const ch = await (await amqp()).channel();
    await ch.queueDeclare(q);
    await ch.confirmSelect();
    for (let i = 0; i < 3; i++) await ch.basicPublish("", q, "x");
    const o = (await w.api("GET", "/api/overview")).json as Record<string, Record<string, unknown>>;
    expect(o).toMatchObject({ product_name: "Warren", rabbitmq_version: "3.10.8", node: expect.stringMatching(/^warren@/) });
    expect(o["message_stats"]!["publish"]).toBe(before.message_stats.publish + 3);
    expect(o["message_stats"]!["publish_details"]).toEqual({ rate: expect.any(Number) });
    expect(o["queue_totals"]!["messages_ready"]).toBeGreaterThanOrEqual(3);
    expect(o["object_totals"]).toMatchObject({ connections: expect.any(Number), channels: expect.any(Number), queues: expect.any(Number), exchanges: expect.any(Number), consumers: expect.any(Number) });
    expect(o["listeners"]).toContainEqual({ node: o["node"], protocol: "amqp", ip_address: "127.0.0.1", port: w.broker.port });
    await ch.queueDelete(q);
  });

  test("nodes and aliveness-test", async () => {
    expect((await w.api("GET", "/api/nodes")).json).toEqual([expect.objectContaining({ running: true, type: "disc", mem_used: expect.any(Number) })]);
    expect((await w.api("GET", "/api/aliveness-test/%2F")).json).toEqual({ status: "ok" });
    expect((await w.api("GET", "/api/aliveness-test/%2F")).json).toEqual({ status: "ok" });
    expect((await w.api("GET", "/api/queues/%2F/aliveness-test")).json).toMatchObject({ messages: 0 });
    expect((await w.api("GET", "/api/aliveness-test/nope")).status).toBe(404);
  });

  test("/metrics: Prometheus text with per-queue counts", async () => {
    const q = uniq("metric");
    const ch = await (await amqp()).channel();
    await ch.queueDeclare(q);
    await ch.confirmSelect();
    await ch.basicPublish("", q, "x");
    await ch.basicPublish("", q, "y");
    const r = await fetch(`http://127.0.0.1:${w.mgmtPort}/metrics`);
    expect(r.headers.get("content-type")).toStartWith("text/plain");
    const text = await r.text();
    expect(text).toContain(`rabbitmq_queue_messages_ready{vhost="/",queue="${q}"} 2`);
    expect(text).toContain(`rabbitmq_queue_messages_unacked{vhost="/",queue="${q}"} 0`);
    for (const name of ["rabbitmq_connections", "rabbitmq_channels", "rabbitmq_queues", "rabbitmq_global_messages_received_total",
      "rabbitmq_global_messages_delivered_total", "rabbitmq_global_messages_acknowledged_total", "rabbitmq_global_messages_confirmed_total",
      "rabbitmq_process_resident_memory_bytes"]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)\\n(# .*\\n)?${name} \\d+$`, "m"));
    }
    await ch.queueDelete(q);
  });

  test("10,000 queues: /metrics and /api/queues stay cheap", async () => {
    const vhost = uniq("many");
    await w.api("PUT", `/api/vhosts/${vhost}`);
    const queues = Array.from({ length: 10_000 }, (_, i) => ({ name: `q${i}`, vhost, durable: true, auto_delete: false, arguments: {} }));
    expect((await w.api("POST", "/api/definitions", { body: { queues } })).status).toBe(204);
    let started = performance.now();
    const text = await (await fetch(`http://127.0.0.1:${w.mgmtPort}/metrics`)).text();
    const metricsMs = performance.now() - started;
    expect(text.split("\n").filter((l) => l.startsWith(`rabbitmq_queue_messages_ready{vhost="${vhost}"`)).length).toBe(10_000);
    started = performance.now();
    const listed = (await w.api("GET", `/api/queues/${vhost}`)).json as unknown[];
    const listMs = performance.now() - started;
    expect(listed.length).toBe(10_000);
    expect(metricsMs).toBeLessThan(2000);
    expect(listMs).toBeLessThan(3000);
    expect((await w.api("DELETE", `/api/vhosts/${vhost}`)).status).toBe(204);
  }, 30_000);
});
