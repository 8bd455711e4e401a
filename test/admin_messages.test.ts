// POST /api/exchanges/V/X/publish and POST /api/queues/V/Q/get against a running Warren: what
// they publish reaches AMQP consumers and what clients publish comes out of get, in RabbitMQ's
// JSON; ack modes, permissions and bad input as RabbitMQ 3.10 answers them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

let w: AdminBroker;
let conn: AMQPConnection;

beforeAll(async () => {
  w = await startAdminBroker();
  conn = await connect(w.amqpUrl("guest", "guest"));
  for (const [name, tags] of [["mgmt", "management"], ["notag", ""]] as const) {
    expect((await w.api("PUT", `/api/users/${name}`, { body: { password: "pw", tags } })).status).toBe(201);
  }
  // mgmt may write to and read from "mine.*" only.
  expect((await w.api("PUT", "/api/permissions/%2F/mgmt", { body: { configure: ".*", write: "^mine\\.", read: "^mine\\." } })).status).toBe(201);
  expect((await w.api("PUT", "/api/permissions/%2F/notag", { body: { configure: ".*", write: ".*", read: ".*" } })).status).toBe(201);
});

afterAll(async () => {
  if (!conn.closed) await conn.close().catch(() => {});
  await w.broker.dispose();
});

const publishBody = (routing_key: string, payload: string, extra: Record<string, unknown> = {}) => ({
  properties: {},
  routing_key,
  payload,
  payload_encoding: "string",
  ...extra,
});

async function declared(prefix: string, args: Record<string, unknown> = {}): Promise<string> {
  const name = uniq(prefix);
  expect((await w.api("PUT", `/api/queues/%2F/${name}`, { body: { arguments: args } })).status).toBe(201);
  return name;
}

const get = (queue: string, body: Record<string, unknown>, creds: { user?: string; password?: string } = {}) =>
  w.api("POST", `/api/queues/%2F/${encodeURIComponent(queue)}/get`, { ...creds, body });

describe("publish", () => {
  test("through the default exchange (amq.default in the path): routed, and an AMQP client gets it with its properties", async () => {
    const q = await declared("pub-default");
    const properties = { content_type: "text/plain", delivery_mode: 2, priority: 3, headers: { a: 1, b: "x" }, message_id: "m-1", timestamp: 1700000000, user_id: "guest" };
    const r = await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { body: publishBody(q, "hello", { properties }) });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ routed: true });
    const ch = await conn.channel();
    const msg = await ch.basicGet(q, { noAck: true });
    expect(msg?.bodyToString()).toBe("hello");
    expect(msg?.properties).toMatchObject({ contentType: "text/plain", deliveryMode: 2, priority: 3, headers: { a: 1, b: "x" }, messageId: "m-1", userId: "guest" });
    expect(msg?.properties.timestamp?.getTime()).toBe(1700000000 * 1000);
    await ch.close();
  });

  test("through a topic exchange's bindings, and routed=false when nothing matches", async () => {
    const q = await declared("pub-topic");
    expect((await w.api("POST", `/api/bindings/%2F/e/amq.topic/q/${q}`, { body: { routing_key: "orders.*" } })).status).toBe(201);
    expect((await w.api("POST", "/api/exchanges/%2F/amq.topic/publish", { body: publishBody("orders.new", "o1") })).json).toEqual({ routed: true });
    expect((await w.api("POST", "/api/exchanges/%2F/amq.topic/publish", { body: publishBody("invoices.new", "i1") })).json).toEqual({ routed: false });
    const got = await get(q, { count: 10, ackmode: "ack_requeue_false", encoding: "auto" });
    expect((got.json as { payload: string }[]).map((m) => m.payload)).toEqual(["o1"]);
  });

  test("base64 payloads are published as their bytes", async () => {
    const q = await declared("pub-b64");
    const r = await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { body: publishBody(q, "AP8BAg==", { payload_encoding: "base64" }) });
    expect(r.json).toEqual({ routed: true });
    const ch = await conn.channel();
    const msg = await ch.basicGet(q, { noAck: true });
    expect([...(msg?.body ?? [])]).toEqual([0, 255, 1, 2]);
    await ch.close();
  });

  test("CC headers route to more queues and BCC is removed before delivery", async () => {
    const [a, b] = [await declared("pub-cc"), await declared("pub-bcc")];
    const properties = { headers: { CC: [a], BCC: [b] } };
    expect((await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { body: publishBody("nowhere", "cc", { properties }) })).json).toEqual({ routed: true });
    for (const q of [a, b]) {
      const [m] = (await get(q, { count: 1, ackmode: "ack_requeue_false", encoding: "auto" })).json as { properties: { headers: Record<string, unknown> } }[];
      expect(m?.properties.headers).toEqual({ CC: [a] });
    }
  });

  test("a persistent message in a durable queue is on disk when the answer comes", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "warren-publish-"));
    let b = await startAdminBroker({ dataDir });
    try {
      expect((await b.api("PUT", "/api/queues/%2F/kept", { body: { durable: true } })).status).toBe(201);
      const body = publishBody("kept", "survives", { properties: { delivery_mode: 2 } });
      expect((await b.api("POST", "/api/exchanges/%2F/amq.default/publish", { body })).json).toEqual({ routed: true });
      // SIGKILL: no shutdown flush, only what was synced before the answer.
      await b.broker.stop("SIGKILL");
      b = await startAdminBroker({ dataDir });
      const got = await b.api("POST", "/api/queues/%2F/kept/get", { body: { count: 1, ackmode: "ack_requeue_false", encoding: "auto" } });
      expect((got.json as { payload: string }[]).map((m) => m.payload)).toEqual(["survives"]);
    } finally {
      await b.broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("get", () => {
  async function withMessages(prefix: string, payloads: string[], args: Record<string, unknown> = {}): Promise<string> {
    const q = await declared(prefix, args);
    const ch = await conn.channel();
    for (const p of payloads) await ch.basicPublish("", q, p, { contentType: "text/plain", headers: { n: p } });
    await ch.close();
    return q;
  }

  test("RabbitMQ's fields for messages a client published; ack_requeue_true leaves them, redelivered", async () => {
    const q = await withMessages("get-fields", ["one", "two"]);
    const first = await get(q, { count: 5, ackmode: "ack_requeue_true", encoding: "auto" });
    expect(first.status).toBe(200);
    expect(first.json).toEqual([
      { payload_bytes: 3, redelivered: false, exchange: "", routing_key: q, message_count: 1, properties: { content_type: "text/plain", headers: { n: "one" } }, payload: "one", payload_encoding: "string" },
      { payload_bytes: 3, redelivered: false, exchange: "", routing_key: q, message_count: 0, properties: { content_type: "text/plain", headers: { n: "two" } }, payload: "two", payload_encoding: "string" },
    ]);
    const again = (await get(q, { count: "5", ackmode: "ack_requeue_true", encoding: "auto" })).json as { payload: string; redelivered: boolean }[];
    expect(again.map((m) => [m.payload, m.redelivered])).toEqual([["one", true], ["two", true]]);
  });

  test("ack_requeue_false removes what it got, count limits it", async () => {
    const q = await withMessages("get-ack", ["a", "b", "c"]);
    expect(((await get(q, { count: 2, ackmode: "ack_requeue_false", encoding: "auto" })).json as unknown[]).length).toBe(2);
    const rest = (await get(q, { count: 5, ackmode: "ack_requeue_false", encoding: "auto" })).json as { payload: string }[];
    expect(rest.map((m) => m.payload)).toEqual(["c"]);
    expect((await get(q, { count: 5, ackmode: "ack_requeue_false", encoding: "auto" })).json).toEqual([]);
  });

  test("reject_requeue_false dead-letters, reject_requeue_true requeues", async () => {
    const dlq = await declared("get-dlq");
    const q = await withMessages("get-reject", ["x"], { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq });
    expect(((await get(q, { count: 1, ackmode: "reject_requeue_true", encoding: "auto" })).json as unknown[]).length).toBe(1);
    expect(((await get(q, { count: 1, ackmode: "reject_requeue_false", encoding: "auto" })).json as unknown[]).length).toBe(1);
    expect((await get(q, { count: 1, ackmode: "ack_requeue_false", encoding: "auto" })).json).toEqual([]);
    let dead: { payload: string; properties: { headers: Record<string, unknown> } }[] = [];
    for (let i = 0; i < 50 && dead.length === 0; i++) {
      dead = (await get(dlq, { count: 1, ackmode: "ack_requeue_false", encoding: "auto" })).json as typeof dead;
      if (dead.length === 0) await Bun.sleep(20);
    }
    expect(dead[0]?.payload).toBe("x");
    expect(dead[0]?.properties.headers["x-first-death-reason"]).toBe("rejected");
  });

  test("encodings: auto gives base64 for bytes that are not UTF-8; truncate cuts the payload, not payload_bytes", async () => {
    const q = await declared("get-enc");
    const ch = await conn.channel();
    await ch.basicPublish("", q, new Uint8Array([0xff, 0xfe, 0x00]));
    await ch.basicPublish("", q, "long text");
    await ch.close();
    const got = (await get(q, { count: 2, ackmode: "ack_requeue_true", encoding: "auto", truncate: 4 })).json as Record<string, unknown>[];
    expect(got.map((m) => [m["payload"], m["payload_encoding"], m["payload_bytes"], m["properties"]])).toEqual([
      ["//4A", "base64", 3, []],
      ["long", "string", 9, []],
    ]);
    const b64 = (await get(q, { count: 2, ackmode: "ack_requeue_true", encoding: "base64" })).json as Record<string, unknown>[];
    expect(b64.map((m) => m["payload"])).toEqual(["//4A", Buffer.from("long text").toString("base64")]);
  });
});

describe("permissions", () => {
  const mgmt = { user: "mgmt", password: "pw" };

  test("publish needs write on the exchange (the default one is amq.default)", async () => {
    const r = await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { ...mgmt, body: publishBody("mine.q", "x") });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: "not_authorised", reason: "access to exchange 'amq.default' in vhost '/' refused for user 'mgmt'" });
    expect((await w.api("PUT", "/api/exchanges/%2F/mine.x", { body: { type: "fanout" } })).status).toBe(201);
    expect((await w.api("POST", "/api/exchanges/%2F/mine.x/publish", { ...mgmt, body: publishBody("", "x") })).json).toEqual({ routed: false });
  });

  test("get needs read on the queue", async () => {
    const other = await declared("theirs");
    const r = await get(other, { count: 1, ackmode: "ack_requeue_true", encoding: "auto" }, mgmt);
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: "not_authorised", reason: `access to queue '${other}' in vhost '/' refused for user 'mgmt'` });
    expect((await w.api("PUT", "/api/queues/%2F/mine.q", { body: {} })).status).toBe(201);
    expect((await get("mine.q", { count: 1, ackmode: "ack_requeue_true", encoding: "auto" }, mgmt)).json).toEqual([]);
  });

  test("a user without a management tag is refused whatever its permissions", async () => {
    const r = await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { user: "notag", password: "pw", body: publishBody("q", "x") });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: "not_authorised", reason: "Not management user" });
  });
});

describe("bad input", () => {
  const publish = (exchange: string, body: unknown) => w.api("POST", `/api/exchanges/%2F/${exchange}/publish`, { body });
  const bad = (reason: unknown) => ({ status: 400, json: { error: "bad_request", reason } });
  const answer = async (r: Promise<{ status: number; json: unknown }>) => {
    const { status, json } = await r;
    return { status, json };
  };

  test("publish: RabbitMQ's reasons for missing keys, encodings, payloads and property types", async () => {
    expect(await answer(publish("amq.default", { routing_key: "q", payload: "x" }))).toEqual(bad("[{key_missing,properties},{key_missing,payload_encoding}]"));
    expect(await answer(publish("amq.default", publishBody("q", "x", { payload_encoding: "foo" })))).toEqual(bad(["unsupported_encoding", "foo"]));
    expect(await answer(publish("amq.default", publishBody("q", "!!!", { payload_encoding: "base64" })))).toEqual(bad(["not_base64", "!!!"]));
    expect(await answer(publish("amq.default", publishBody("q", 5 as unknown as string)))).toEqual(bad("payload_not_string"));
    expect(await answer(publish("amq.default", publishBody("q", "x", { properties: { priority: "high" } })))).toEqual(bad(["not_int", "priority"]));
    expect((await w.api("POST", "/api/exchanges/%2F/amq.default/publish", { rawBody: "{nope" })).json).toEqual({ error: "bad_request", reason: "not_json" });
  });

  test("publish: the AMQP channel's refusals as 400s with their reply code, as RabbitMQ's API", async () => {
    expect(await answer(publish("amq.default", publishBody("q", "x", { properties: { delivery_mode: 7 } })))).toEqual(bad("406 PRECONDITION_FAILED - invalid message: {delivery_mode_unknown,7}"));
    expect(await answer(publish("amq.default", publishBody("q", "x", { properties: { expiration: "abc" } })))).toEqual(bad("406 PRECONDITION_FAILED - invalid expiration 'abc': no_integer"));
    expect(await answer(publish("amq.default", publishBody("q", "x", { properties: { headers: { CC: "x" } } })))).toEqual(
      bad('406 PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}'),
    );
    expect(await answer(publish("amq.default", publishBody("q", "x", { properties: { user_id: "bob" } })))).toEqual(
      bad("406 PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"),
    );
    expect(await answer(publish("nonexist", publishBody("q", "x")))).toEqual(bad("404 NOT_FOUND - no exchange 'nonexist' in vhost '/'"));
    expect((await w.api("PUT", "/api/exchanges/%2F/internal-x", { body: { type: "direct", internal: true } })).status).toBe(201);
    expect(await answer(publish("internal-x", publishBody("q", "x")))).toEqual(bad("403 ACCESS_REFUSED - cannot publish to internal exchange 'internal-x' in vhost '/'"));
  });

  test("get: missing keys, bad count, ackmode and encoding; unknown queue 404; an exclusive queue is locked", async () => {
    const q = await declared("get-bad");
    expect(await answer(get(q, {}))).toEqual(bad("[{key_missing,ackmode},{key_missing,count},{key_missing,encoding}]"));
    expect(await answer(get(q, { count: "x", ackmode: "ack_requeue_true", encoding: "auto" }))).toEqual(bad(["not_integer", "x"]));
    expect(await answer(get(q, { count: 1, ackmode: "ack_requeue_true", encoding: "foo" }))).toEqual(bad("Unsupported encoding. Please use auto or base64."));
    expect((await get(q, { count: 1, ackmode: "keep", encoding: "auto" })).status).toBe(400);
    expect((await get("nope", { count: 1, ackmode: "ack_requeue_true", encoding: "auto" })).status).toBe(404);
    const ch = await conn.channel();
    const excl = await ch.queue("", { exclusive: true });
    const locked = await get(excl.name, { count: 1, ackmode: "ack_requeue_true", encoding: "auto" });
    expect(locked.status).toBe(400);
    expect((locked.json as { reason: string }).reason).toStartWith(`405 RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${excl.name}' in vhost '/'`);
    await ch.close();
  });
});
