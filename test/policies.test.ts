// Policies and operator policies acting on queues and exchanges, through @cloudamqp/amqp-client and
// the management API, as RabbitMQ 3.x behaves. Each run uses a vhost of its own. Set
// INTEROP_REFERENCE_URL (AMQP, e.g. amqp://guest:guest@127.0.0.1:5675) and
// INTEROP_REFERENCE_MGMT_URL (e.g. http://guest:guest@127.0.0.1:15675) to run the same file against
// a RabbitMQ; the RabbitMQ 3.12+ parts (consumer-timeout, overflow in operator policies) are skipped
// there.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import { startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { arrival, drain, errorOf, publisher, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

const referenceAmqp = process.env["INTEROP_REFERENCE_URL"];
const referenceMgmt = process.env["INTEROP_REFERENCE_MGMT_URL"];
const onWarren = referenceAmqp === undefined || referenceMgmt === undefined;

let warren: AdminBroker | undefined;
let mgmtBase = "";
let mgmtAuth = "";
let amqpBase = "";
const vhost = uniq("policies");
const v = encodeURIComponent(vhost);
const open: AMQPConnection[] = [];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${mgmtBase}${path}`, {
    method,
    headers: { authorization: mgmtAuth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? null : (JSON.parse(text) as unknown) };
}

beforeAll(async () => {
  if (onWarren) {
    warren = await startAdminBroker();
    mgmtBase = `http://127.0.0.1:${warren.mgmtPort}`;
    mgmtAuth = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
    amqpBase = `amqp://guest:guest@127.0.0.1:${warren.broker.port}`;
  } else {
    const url = new URL(referenceMgmt!);
    mgmtBase = `${url.protocol}//${url.host}`;
    mgmtAuth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`;
    amqpBase = referenceAmqp!.replace(/\/+$/, "");
  }
  expect((await api("PUT", `/api/vhosts/${v}`, {})).status).toBe(201);
  // RabbitMQ grants the vhost's creator permissions already (204 then).
  expect([201, 204]).toContain((await api("PUT", `/api/permissions/${v}/guest`, { configure: ".*", write: ".*", read: ".*" })).status);
});

afterEach(async () => {
  for (const conn of open.splice(0)) if (!conn.closed) await conn.close().catch(() => {});
  // Each test starts with no policies in the vhost.
  for (const kind of ["policies", "operator-policies"]) {
    for (const p of (await api("GET", `/api/${kind}/${v}`)).json as { name: string }[]) await api("DELETE", `/api/${kind}/${v}/${encodeURIComponent(p.name)}`);
  }
});

afterAll(async () => {
  await api("DELETE", `/api/vhosts/${v}`);
  await warren?.broker.dispose();
});

async function channel(): Promise<AMQPChannel> {
  const conn = await new AMQPClient(`${amqpBase}/${v}`).connect();
  open.push(conn);
  return await publisher(conn);
}

async function setPolicy(name: string, body: Record<string, unknown>, kind = "policies"): Promise<void> {
  const result = await api("PUT", `/api/${kind}/${v}/${name}`, body);
  expect(result.json).toBeNull();
  expect(result.status).toBe(201);
}

async function queueRow(name: string): Promise<Record<string, unknown>> {
  return (await api("GET", `/api/queues/${v}/${encodeURIComponent(name)}`)).json as Record<string, unknown>;
}

/**
 * Polls until `probe` gives `expected`, or ~12 s: RabbitMQ applies a policy to its queues
 * asynchronously and its API shows a queue's policy only once the queue's stats are emitted
 * (every 5 s); Warren answers the first time.
 */
async function eventually<T>(probe: () => Promise<T>, expected: T): Promise<T> {
  let last = await probe();
  for (let i = 0; i < 240 && !Bun.deepEquals(last, expected); i++) {
    await Bun.sleep(50);
    last = await probe();
  }
  return last;
}

const ready = (ch: AMQPChannel, queue: string) => async (): Promise<number> => (await ch.queueDeclare(queue, { passive: true })).messageCount;

async function declare(ch: AMQPChannel, name: string, args: Record<string, unknown> = {}): Promise<void> {
  await ch.queueDeclare(name, { durable: false, autoDelete: false, exclusive: false }, args);
}


test("a max-length policy trims an existing queue at once, dropping the oldest; new messages stay within it", async () => {
  const ch = await channel();
  const q = uniq("trim");
  await declare(ch, q);
  for (let i = 1; i <= 5; i++) await ch.basicPublish("", q, `m${i}`);
  await setPolicy("cap", { pattern: `^${q}$`, definition: { "max-length": 2 }, "apply-to": "queues" });
  expect(await eventually(ready(ch, q), 2)).toBe(2);
  await ch.basicPublish("", q, "m6");
  expect(await drain(ch, q)).toEqual(["m5", "m6"]);
  expect(await eventually(async () => (await queueRow(q))["effective_policy_definition"], { "max-length": 2 })).toEqual({ "max-length": 2 });
  expect((await queueRow(q))["policy"]).toBe("cap");
});

test("messages a max-length policy trims are dead-lettered with reason maxlen when the queue has a dead-letter exchange", async () => {
  const ch = await channel();
  const q = uniq("trim-dlx");
  const target = uniq("trimmed");
  await declare(ch, target);
  await declare(ch, q, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target });
  for (let i = 1; i <= 3; i++) await ch.basicPublish("", q, `m${i}`);
  await setPolicy("cap", { pattern: `^${q}$`, definition: { "max-length": 1 } });
  expect(await eventually(ready(ch, target), 2)).toBe(2);
  const first = await ch.basicGet(target, { noAck: true });
  expect(first?.bodyToString()).toBe("m1");
  expect((first?.properties.headers?.["x-death"] as Record<string, unknown>[])[0]).toMatchObject({ reason: "maxlen", queue: q });
  expect(await drain(ch, q)).toEqual(["m3"]);
});

test("a message-ttl policy expires messages published after it is set", async () => {
  const ch = await channel();
  const q = uniq("ttl");
  await declare(ch, q);
  await setPolicy("ttl", { pattern: `^${q}$`, definition: { "message-ttl": 50 } });
  await ch.basicPublish("", q, "short-lived");
  await Bun.sleep(300);
  expect(await ch.basicGet(q, { noAck: true })).toBeNull();
});

test("a dead-letter-exchange policy dead-letters rejected messages of a queue declared before it", async () => {
  const ch = await channel();
  const source = uniq("src");
  const target = uniq("dead");
  await declare(ch, target);
  await declare(ch, source);
  await setPolicy("dlx", { pattern: `^${source}$`, definition: { "dead-letter-exchange": "", "dead-letter-routing-key": target } });
  await eventually(async () => (await queueRow(source))["policy"], "dlx");
  await ch.basicPublish("", source, "refused");
  const got = await ch.basicGet(source, { noAck: false });
  await got!.reject(false);
  const dead = await arrival(ch, target);
  expect(dead?.bodyToString()).toBe("refused");
  expect((dead?.properties.headers?.["x-death"] as Record<string, unknown>[])[0]).toMatchObject({ reason: "rejected", queue: source });
});

test("the highest priority of the matching policies wins; apply-to exchanges does not touch queues", async () => {
  const ch = await channel();
  const q = uniq("prio");
  await declare(ch, q);
  await setPolicy("low", { pattern: "^prio", definition: { "max-length": 1 }, priority: 1 });
  await setPolicy("high", { pattern: `^${q}$`, definition: { "max-length": 3 }, priority: 5 });
  await setPolicy("exchanges-only", { pattern: ".*", definition: { "alternate-exchange": "nowhere" }, priority: 9, "apply-to": "exchanges" });
  expect(await eventually(async () => (await queueRow(q))["policy"], "high")).toBe("high");
  for (let i = 1; i <= 5; i++) await ch.basicPublish("", q, `m${i}`);
  expect(await drain(ch, q)).toEqual(["m3", "m4", "m5"]);
});

test("clearing a policy stops it: the queue takes its arguments' limits again", async () => {
  const ch = await channel();
  const q = uniq("clear");
  await declare(ch, q);
  await setPolicy("cap", { pattern: `^${q}$`, definition: { "max-length": 1 } });
  await eventually(async () => (await queueRow(q))["policy"], "cap");
  expect((await api("DELETE", `/api/policies/${v}/cap`)).status).toBe(204);
  expect(await eventually(async () => (await queueRow(q))["policy"], null)).toBeNull();
  for (let i = 1; i <= 3; i++) await ch.basicPublish("", q, `m${i}`);
  expect(await drain(ch, q)).toEqual(["m1", "m2", "m3"]);
});

test("argument against policy: the lower max-length wins either way; the queue's own dead-letter exchange and overflow win", async () => {
  const ch = await channel();
  const lowArg = uniq("len-low");
  const highArg = uniq("len-high");
  const own = uniq("own");
  const byArg = uniq("to-arg");
  const byPolicy = uniq("to-policy");
  for (const q of [byArg, byPolicy]) await declare(ch, q);
  await declare(ch, lowArg, { "x-max-length": 2 });
  await declare(ch, highArg, { "x-max-length": 5 });
  await declare(ch, own, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": byArg, "x-overflow": "reject-publish", "x-max-length": 1 });
  await setPolicy("lengths", { pattern: "^len-", definition: { "max-length": 3 } });
  await setPolicy("args", {
    pattern: `^${own}$`,
    definition: { "dead-letter-exchange": "", "dead-letter-routing-key": byPolicy, overflow: "drop-head" },
  });
  expect(await eventually(async () => (await queueRow(lowArg))["policy"], "lengths")).toBe("lengths");
  expect(await eventually(async () => (await queueRow(own))["policy"], "args")).toBe("args");
  for (let i = 1; i <= 6; i++) {
    await ch.basicPublish("", lowArg, `m${i}`);
    await ch.basicPublish("", highArg, `m${i}`);
  }
  expect(await drain(ch, lowArg)).toEqual(["m5", "m6"]);
  expect(await drain(ch, highArg)).toEqual(["m4", "m5", "m6"]);
  // x-overflow reject-publish stays (the policy's drop-head does not apply): the second publish is nacked.
  await ch.basicPublish("", own, "kept");
  await errorOf(ch.basicPublish("", own, "refused"));
  const got = await ch.basicGet(own, { noAck: false });
  expect(got?.bodyToString()).toBe("kept");
  await got!.reject(false);
  expect((await arrival(ch, byArg))?.bodyToString()).toBe("kept");
  expect(await ch.basicGet(byPolicy, { noAck: true })).toBeNull();
});

test("an operator policy lowers a policy's limit; the effective definition shows the merge", async () => {
  const ch = await channel();
  const q = uniq("op");
  await declare(ch, q);
  await setPolicy("roomy", { pattern: `^${q}$`, definition: { "max-length": 10, "message-ttl": 60000 } });
  await setPolicy("tight", { pattern: "^op-", definition: { "max-length": 2 }, "apply-to": "queues" }, "operator-policies");
  const row = await eventually(async () => (await queueRow(q))["operator_policy"], "tight");
  expect(row).toBe("tight");
  expect(await eventually(async () => (await queueRow(q))["effective_policy_definition"], { "max-length": 2, "message-ttl": 60000 })).toEqual({ "max-length": 2, "message-ttl": 60000 });
  expect((await queueRow(q))["policy"]).toBe("roomy");
  for (let i = 1; i <= 4; i++) await ch.basicPublish("", q, `m${i}`);
  expect(await drain(ch, q)).toEqual(["m3", "m4"]);
});

test("an alternate-exchange policy routes what an exchange cannot route; the exchange's own argument wins", async () => {
  const ch = await channel();
  const ae = uniq("ae");
  const other = uniq("ae-other");
  const caught = uniq("caught");
  const caughtOther = uniq("caught-other");
  const plain = uniq("plain");
  const withArg = uniq("with-arg");
  await ch.exchangeDeclare(ae, "fanout", { durable: false });
  await ch.exchangeDeclare(other, "fanout", { durable: false });
  await declare(ch, caught);
  await declare(ch, caughtOther);
  await ch.queueBind(caught, ae, "");
  await ch.queueBind(caughtOther, other, "");
  await ch.exchangeDeclare(plain, "direct", { durable: false });
  await ch.exchangeDeclare(withArg, "direct", { durable: false }, { "alternate-exchange": other });
  await setPolicy("ae", { pattern: `^(${plain}|${withArg})$`, definition: { "alternate-exchange": ae }, "apply-to": "exchanges" });
  const listed = await eventually(async () => ((await api("GET", `/api/exchanges/${v}/${plain}`)).json as Record<string, unknown>)["policy"], "ae");
  expect(listed).toBe("ae");
  await ch.basicPublish(plain, "no-binding", "to the policy's");
  await ch.basicPublish(withArg, "no-binding", "to the argument's");
  expect((await arrival(ch, caught))?.bodyToString()).toBe("to the policy's");
  expect((await arrival(ch, caughtOther))?.bodyToString()).toBe("to the argument's");
  expect(await ch.basicGet(caught, { noAck: true })).toBeNull();
});

test("an expires policy deletes an unused queue", async () => {
  const ch = await channel();
  const q = uniq("exp");
  await declare(ch, q);
  await setPolicy("exp", { pattern: `^${q}$`, definition: { expires: 300 } });
  const gone = await eventually(async () => (await api("GET", `/api/queues/${v}/${q}`)).status, 404);
  expect(gone).toBe(404);
});

test("a delivery-limit policy applies to quorum queues only (classic queues do not take it)", async () => {
  const ch = await channel();
  const quorum = uniq("dl-quorum");
  const classic = uniq("dl-classic");
  await ch.queueDeclare(quorum, { durable: true, autoDelete: false, exclusive: false }, { "x-queue-type": "quorum" });
  await declare(ch, classic);
  await setPolicy("limit", { pattern: "^dl-", definition: { "delivery-limit": 3 } });
  expect(await eventually(async () => (await queueRow(quorum))["policy"], "limit")).toBe("limit");
  expect(await queueRow(quorum)).toMatchObject({ effective_policy_definition: { "delivery-limit": 3 } });
  expect(await eventually(async () => (await queueRow(classic))["effective_policy_definition"], {})).toEqual({});
  expect((await queueRow(classic))["policy"]).toBeNull();
  await ch.queueDelete(quorum);
});

test.skipIf(!onWarren)("a consumer-timeout policy (RabbitMQ 3.12+) closes a channel whose delivery stays unacked past it", async () => {
  const conn = await new AMQPClient(`${amqpBase}/${v}`).connect();
  open.push(conn);
  const ch = await conn.channel();
  const q = uniq("ct");
  await declare(ch, q);
  await setPolicy("ct", { pattern: `^${q}$`, definition: { "consumer-timeout": 200 } });
  const closed = new Promise<string>((resolve) => (ch.onerror = (reason: string) => resolve(reason)));
  await ch.basicConsume(q, { noAck: false }, () => {});
  await ch.basicPublish("", q, "held");
  expect(await closed).toContain("Timeout value used: 200 ms");
}, 15_000);

test.skipIf(!onWarren)("an operator policy's overflow (RabbitMQ 3.12+) wins over the policy's", async () => {
  const ch = await channel();
  const q = uniq("ovf");
  await declare(ch, q);
  await setPolicy("p", { pattern: `^${q}$`, definition: { "max-length": 1, overflow: "drop-head" } });
  await setPolicy("o", { pattern: `^${q}$`, definition: { overflow: "reject-publish" } }, "operator-policies");
  expect(await eventually(async () => (await queueRow(q))["effective_policy_definition"], { "max-length": 1, overflow: "reject-publish" })).toEqual({ "max-length": 1, overflow: "reject-publish" });
  await ch.basicPublish("", q, "first");
  await errorOf(ch.basicPublish("", q, "second"));
  expect(await drain(ch, q)).toEqual(["first"]);
});
