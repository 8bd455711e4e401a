// Per-object traffic in the management API, as RabbitMQ 3.10 shapes it: message_stats counts on
// queues, exchanges, channels and vhosts (recv_oct / send_oct on connections and vhosts), each
// with a *_details rate sampled every 5 s, and no message_stats on an object without traffic yet.
// Driven by real clients against a fresh Warren, so every count is exact.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import { connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import type { AMQPConnection } from "./support/amqp_client_helpers.ts";

const N = 40;
/** Rates are sampled every 5 s: two sweeps of sustained traffic fit well within this. */
const RATE_APPEARS_MS = 15_000;

// API answers are checked field by field below.
type Json = any;

let w: AdminBroker;
const open: AMQPConnection[] = [];

beforeAll(async () => {
  w = await startAdminBroker();
});

afterAll(async () => {
  for (const c of open) if (!c.closed) await c.close().catch(() => {});
  await w.broker.dispose();
});

async function amqp(name: string): Promise<AMQPConnection> {
  const c = await connect(`${w.amqpUrl("guest", "guest")}?name=${name}`);
  open.push(c);
  return c;
}

async function get(path: string): Promise<any> {
  const r = await w.api("GET", path);
  expect(r.status).toBe(200);
  return r.json;
}

/** Polls `read` until `done` holds for what it returns, or fails with the last value after timeout_ms. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeout_ms = 5_000): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeout_ms} ms; last: ${JSON.stringify(value)}`);
    await Bun.sleep(200);
  }
}

async function connectionNamed(name: string): Promise<Json> {
  const all = (await get("/api/connections")) as Json[];
  const found = all.find((c) => c["user_provided_name"] === name);
  if (found === undefined) throw new Error(`no connection ${name}`);
  return found;
}

async function channelsOf(name: string): Promise<Json[]> {
  const connection = await connectionNamed(name);
  return ((await get("/api/channels")) as Json[]).filter((c) => c["connection_details"]["name"] === connection["name"]);
}

/** Consumes from `queue`, acking each message; resolves after `count` messages. */
async function consumeAndAck(ch: AMQPChannel, queue: string, count: number): Promise<void> {
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    ch.basicConsume(queue, { noAck: false }, (msg) => {
      msg.ack().catch(reject);
      if (++seen === count) resolve();
    }).catch(reject);
  });
}

const counted = (stats: Json | undefined, fields: Record<string, number>): boolean =>
  stats !== undefined && Object.entries(fields).every(([key, value]) => stats[key] === value);

test("publish N, consume and ack N: exact counts on queue, exchange, channels, connections and vhost", async () => {
  const publisher = await amqp("rates-publisher");
  const consumer = await amqp("rates-consumer");
  const pch = await publisher.channel();
  await pch.exchangeDeclare("rates-x", "direct");
  await pch.queueDeclare("rates-q");
  await pch.queueBind("rates-q", "rates-x", "k");
  await pch.queueDeclare("rates-idle");
  await pch.exchangeDeclare("rates-idle-x", "fanout");
  const idleChannel = await publisher.channel();
  await pch.confirmSelect();
  const cch = await consumer.channel();
  const consumed = consumeAndAck(cch, "rates-q", N);
  await Promise.all(Array.from({ length: N }, (_, i) => pch.basicPublish("rates-x", "k", `m${i}`)));
  await consumed;

  // The ack counts as the channel sees it; the depth follows once the shard has applied the acks.
  const queue = await eventually(() => get("/api/queues/%2F/rates-q"), (q) => counted(q.message_stats, { ack: N }) && q.messages === 0);
  expect(queue.message_stats).toEqual({
    publish: N, publish_details: { rate: expect.any(Number) },
    ack: N, ack_details: { rate: expect.any(Number) },
    deliver: N, deliver_details: { rate: expect.any(Number) },
    deliver_no_ack: 0, deliver_no_ack_details: { rate: expect.any(Number) },
    get: 0, get_details: { rate: expect.any(Number) },
    get_empty: 0, get_empty_details: { rate: expect.any(Number) },
    get_no_ack: 0, get_no_ack_details: { rate: expect.any(Number) },
    redeliver: 0, redeliver_details: { rate: expect.any(Number) },
    deliver_get: N, deliver_get_details: { rate: expect.any(Number) },
  });
  expect(queue).toMatchObject({ messages: 0, messages_details: { rate: expect.any(Number) }, messages_ready_details: { rate: expect.any(Number) }, messages_unacknowledged_details: { rate: expect.any(Number) } });

  const exchange = await get("/api/exchanges/%2F/rates-x");
  expect(exchange.message_stats).toEqual({ publish_in: N, publish_in_details: { rate: expect.any(Number) }, publish_out: N, publish_out_details: { rate: expect.any(Number) } });

  const [publishing, idle] = await channelsOf("rates-publisher");
  expect(publishing!.message_stats).toEqual({
    publish: N, publish_details: { rate: expect.any(Number) },
    confirm: N, confirm_details: { rate: expect.any(Number) },
    return_unroutable: 0, return_unroutable_details: { rate: expect.any(Number) },
    drop_unroutable: 0, drop_unroutable_details: { rate: expect.any(Number) },
  });
  expect(idle!["number"]).toBe(idleChannel.id);
  expect(idle).not.toHaveProperty("message_stats");
  const [consuming] = await channelsOf("rates-consumer");
  expect(consuming!.message_stats).toMatchObject({ deliver: N, ack: N, deliver_get: N, redeliver: 0, get: 0 });
  expect(consuming!.message_stats).not.toHaveProperty("publish");

  for (const name of ["rates-publisher", "rates-consumer"]) {
    const c = await connectionNamed(name);
    expect(c["recv_oct"]).toBeGreaterThan(0);
    expect(c["send_oct"]).toBeGreaterThan(0);
    expect(c["recv_cnt"]).toBeGreaterThan(0);
    expect(c["send_cnt"]).toBeGreaterThan(0);
    expect(c).toMatchObject({ recv_oct_details: { rate: expect.any(Number) }, send_oct_details: { rate: expect.any(Number) }, send_pend: 0 });
    expect(c).not.toHaveProperty("message_stats");
  }

  const vhostCounts = { publish: N, confirm: N, deliver: N, ack: N, deliver_get: N, return_unroutable: 0, drop_unroutable: 0 };
  expect((await get("/api/vhosts/%2F")).message_stats).toMatchObject(vhostCounts);

  // Objects without traffic carry no message_stats, as RabbitMQ's.
  expect(await get("/api/queues/%2F/rates-idle")).not.toHaveProperty("message_stats");
  expect(await get("/api/exchanges/%2F/rates-idle-x")).not.toHaveProperty("message_stats");

  // Closing channels and connections leaves their traffic in the vhost's totals.
  await consumer.close();
  await idleChannel.close();
  await eventually(() => get("/api/connections"), (all: Json[]) => !all.some((c) => c["user_provided_name"] === "rates-consumer"));
  await eventually(() => channelsOf("rates-publisher"), (channels) => channels.length === 1);
  const vhost = await get("/api/vhosts/%2F");
  expect(vhost.message_stats).toMatchObject(vhostCounts);
  expect(vhost["recv_oct"]).toBeGreaterThan(0);
  await pch.queueDelete("rates-idle");
  await pch.exchangeDelete("rates-idle-x");
});

test("unroutable publishes: returned when mandatory, dropped otherwise; get, empty get and redelivery counted", async () => {
  const conn = await amqp("rates-misc");
  const ch = await conn.channel();
  await ch.queueDeclare("rates-get");
  await ch.basicPublish("amq.direct", "nowhere", "dropped");
  await ch.basicPublish("amq.direct", "nowhere", "returned", {}, true);
  await ch.basicPublish("", "rates-get", "a");
  await ch.basicPublish("", "rates-get", "b");
  const first = await eventually(() => ch.basicGet("rates-get", { noAck: false }), (m) => m !== null);
  await first!.nack(true);
  const again = await ch.basicGet("rates-get", { noAck: false });
  expect(again?.redelivered).toBe(true);
  await again!.ack();
  expect(await ch.basicGet("rates-get", { noAck: true })).not.toBeNull();
  expect(await ch.basicGet("rates-get", { noAck: true })).toBeNull();

  const [channel] = await eventually(() => channelsOf("rates-misc"), (c) => counted(c[0]?.["message_stats"], { get_empty: 1 }));
  expect(channel!.message_stats).toMatchObject({ publish: 4, drop_unroutable: 1, return_unroutable: 1, get: 2, get_no_ack: 1, get_empty: 1, redeliver: 1, ack: 1, deliver: 0, deliver_get: 3 });
  expect((await get("/api/queues/%2F/rates-get")).message_stats).toMatchObject({ publish: 2, get: 2, get_no_ack: 1, get_empty: 1, redeliver: 1, ack: 1, deliver_get: 3 });
  expect((await get("/api/exchanges/%2F/amq.direct")).message_stats).toEqual({ publish_in: 2, publish_in_details: { rate: expect.any(Number) } });
  expect((await get("/api/exchanges/%2F/amq.default")).message_stats).toMatchObject({ publish_in: 2, publish_out: 2 });
  await ch.queueDelete("rates-get");
});

test("sustained traffic shows rates above zero on every object within two sampling intervals", async () => {
  const conn = await amqp("rates-sustained");
  const ch = await conn.channel();
  await ch.exchangeDeclare("rates-fan", "fanout");
  await ch.queueDeclare("rates-consumed");
  await ch.queueDeclare("rates-backlog");
  await ch.queueBind("rates-consumed", "rates-fan", "");
  await ch.queueBind("rates-backlog", "rates-fan", "");
  const cch = await conn.channel();
  await cch.basicConsume("rates-consumed", { noAck: false }, (msg) => void msg.ack());
  let running = true;
  const traffic = (async () => {
    while (running) {
      for (let i = 0; i < 20; i++) await ch.basicPublish("rates-fan", "", "tick");
      await Bun.sleep(50);
    }
  })();
  try {
    const rate = (stats: Json | undefined, key: string): number => stats?.[`${key}_details`]?.rate ?? 0;
    await eventually(async () => {
      const [queue, backlog, exchange, channels, connection, vhost] = await Promise.all([
        get("/api/queues/%2F/rates-consumed"), get("/api/queues/%2F/rates-backlog"), get("/api/exchanges/%2F/rates-fan"),
        channelsOf("rates-sustained"), connectionNamed("rates-sustained"), get("/api/vhosts/%2F"),
      ]);
      return {
        queuePublish: rate(queue.message_stats, "publish"),
        queueDeliver: rate(queue.message_stats, "deliver_get"),
        queueAck: rate(queue.message_stats, "ack"),
        backlogMessages: rate(backlog, "messages"),
        backlogReady: rate(backlog, "messages_ready"),
        exchangeIn: rate(exchange.message_stats, "publish_in"),
        exchangeOut: rate(exchange.message_stats, "publish_out"),
        channelPublish: rate(channels[0]?.["message_stats"], "publish"),
        channelDeliver: rate(channels[1]?.["message_stats"], "deliver"),
        connectionIn: rate(connection, "recv_oct"),
        connectionOut: rate(connection, "send_oct"),
        vhostPublish: rate(vhost.message_stats, "publish"),
        vhostAck: rate(vhost.message_stats, "ack"),
        vhostMessages: rate(vhost, "messages"),
      };
    }, (rates) => Object.values(rates).every((r) => r > 0), RATE_APPEARS_MS);
    const overview = await get("/api/overview");
    expect(overview.message_stats.publish_details.rate).toBeGreaterThan(0);
    expect(overview.queue_totals.messages_details.rate).toBeGreaterThan(0);
  } finally {
    running = false;
    await traffic;
  }
  await ch.queueDelete("rates-consumed");
  await ch.queueDelete("rates-backlog");
  await ch.exchangeDelete("rates-fan");
}, 30_000);
