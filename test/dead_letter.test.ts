// Dead-lettering through @cloudamqp/amqp-client: rejected, expired and over-length messages go to
// the queue's dead-letter exchange with RabbitMQ's x-death header; a missing exchange or a cycle
// without a rejection drops them.
import { expect, test } from "bun:test";
import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";
import { arrival, interopBroker, publisher, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();


type Death = Record<string, unknown>;
const deaths = (msg: AMQPMessage | null): Death[] => (msg?.properties.headers?.["x-death"] ?? []) as Death[];

async function setup(args: Record<string, unknown>): Promise<{ ch: AMQPChannel; source: string; target: string }> {
  const ch = await publisher(await connect());
  const source = uniq("src");
  const target = uniq("dead");
  await ch.queueDeclare(target, { durable: false, autoDelete: false, exclusive: false });
  await ch.queueDeclare(source, { durable: false, autoDelete: false, exclusive: false }, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target, ...args });
  return { ch, source, target };
}

test("a rejected message goes to the dead-letter exchange with its routing key, x-death and x-first-death-*", async () => {
  const ch = await publisher(await connect());
  const dlx = uniq("dlx");
  const source = uniq("src");
  const target = uniq("dead");
  await ch.exchangeDeclare(dlx, "direct", { durable: false });
  await ch.queueDeclare(target, { durable: false, autoDelete: false, exclusive: false });
  await ch.queueBind(target, dlx, "dead-key");
  await ch.queueDeclare(source, { durable: false, autoDelete: false, exclusive: false }, { "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "dead-key" });
  await ch.basicPublish("", source, "payload", { headers: { app: "kept" } });
  const got = await ch.basicGet(source, { noAck: false });
  await got!.reject(false);
  const msg = await arrival(ch, target);
  expect(msg?.bodyToString()).toBe("payload");
  expect(msg?.exchange).toBe(dlx);
  expect(msg?.routingKey).toBe("dead-key");
  const h = msg!.properties.headers!;
  expect(h["app"]).toBe("kept");
  expect(h["x-first-death-queue"]).toBe(source);
  expect(h["x-first-death-reason"]).toBe("rejected");
  expect(h["x-first-death-exchange"]).toBe("");
  const [death] = deaths(msg);
  expect(death).toMatchObject({ count: 1, reason: "rejected", queue: source, exchange: "", "routing-keys": [source] });
  expect(death!["time"]).toBeInstanceOf(Date);
});

test("nack with requeue=false dead-letters too; requeue=true does not", async () => {
  const { ch, source, target } = await setup({});
  await ch.basicPublish("", source, "n");
  const first = await ch.basicGet(source, { noAck: false });
  await first!.nack(true);
  const again = await ch.basicGet(source, { noAck: false });
  expect(again?.redelivered).toBe(true);
  await again!.nack(false);
  expect(deaths(await arrival(ch, target))[0]).toMatchObject({ reason: "rejected", count: 1 });
});

test("expiry by x-message-ttl dead-letters with reason expired", async () => {
  const { ch, source, target } = await setup({ "x-message-ttl": 20 });
  await ch.basicPublish("", source, "old");
  const msg = await arrival(ch, target);
  expect(msg?.bodyToString()).toBe("old");
  expect(deaths(msg)[0]).toMatchObject({ reason: "expired", queue: source });
});

test("a message expiring in a queue nobody reads is dead-lettered when its TTL is up, not a sweep later (bunny's dead_lettering_spec)", async () => {
  const { ch, source, target } = await setup({ "x-message-ttl": 100 });
  // A far expiry first: the sweep must still come at the nearer one published after it.
  const far = uniq("far");
  await ch.queueDeclare(far, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 60_000 });
  await ch.basicPublish("", far, "stays");
  await ch.basicPublish("", source, "expires");
  // One basic.get, no polling, as bunny's spec (which looks at twice the TTL): RabbitMQ times the
  // head exactly, so the message is in the dead-letter queue well before the TTL plus 70 ms.
  await Bun.sleep(170);
  const msg = await ch.basicGet(target, { noAck: true });
  expect(msg?.bodyToString()).toBe("expires");
  expect(deaths(msg)[0]).toMatchObject({ reason: "expired", queue: source });
  await ch.queueDelete(far);
});

test("a per-message expiration is kept as original-expiration and removed from the message", async () => {
  const { ch, source, target } = await setup({});
  await ch.basicPublish("", source, "short-lived", { expiration: "20" });
  const msg = await arrival(ch, target);
  expect(msg?.properties.expiration).toBeUndefined();
  expect(deaths(msg)[0]).toMatchObject({ reason: "expired", "original-expiration": "20" });
});

test("x-max-length with drop-head dead-letters the oldest with reason maxlen", async () => {
  const { ch, source, target } = await setup({ "x-max-length": 1 });
  await ch.basicPublish("", source, "first");
  await ch.basicPublish("", source, "second");
  const msg = await arrival(ch, target);
  expect(msg?.bodyToString()).toBe("first");
  expect(deaths(msg)[0]).toMatchObject({ reason: "maxlen" });
  expect((await ch.basicGet(source, { noAck: true }))?.bodyToString()).toBe("second");
});

test("x-overflow reject-publish-dlx refuses the new message (nack) and dead-letters it", async () => {
  const { ch, source, target } = await setup({ "x-max-length": 1, "x-overflow": "reject-publish-dlx" });
  await ch.basicPublish("", source, "kept");
  const refused = await ch.basicPublish("", source, "refused").then(() => "acked", (e: Error) => e.message);
  expect(refused).not.toBe("acked");
  const msg = await arrival(ch, target);
  expect(msg?.bodyToString()).toBe("refused");
  expect(deaths(msg)[0]).toMatchObject({ reason: "maxlen" });
});

test("a second rejection in the same queue increments its x-death count and moves it to the front", async () => {
  const ch = await publisher(await connect());
  const a = uniq("a");
  const b = uniq("b");
  await ch.queueDeclare(a, { durable: false, autoDelete: false, exclusive: false }, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": b });
  await ch.queueDeclare(b, { durable: false, autoDelete: false, exclusive: false }, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": a });
  await ch.basicPublish("", a, "ping-pong");
  const rejectFrom = async (q: string): Promise<AMQPMessage> => {
    let msg: AMQPMessage | null = null;
    for (let i = 0; i < 100 && msg === null; i++) {
      msg = await ch.basicGet(q, { noAck: false });
      if (msg === null) await Bun.sleep(20);
    }
    await msg!.reject(false);
    return msg!;
  };
  await rejectFrom(a);
  await rejectFrom(b);
  const third = await rejectFrom(a);
  expect(deaths(third).map((d) => [d["queue"], d["count"]])).toEqual([[b, 1], [a, 1]]);
  const final = await arrival(ch, b);
  expect(deaths(final).map((d) => [d["queue"], d["reason"], d["count"]])).toEqual([[a, "rejected", 2], [b, "rejected", 1]]);
  expect(final!.properties.headers!["x-first-death-queue"]).toBe(a);
});

test("a missing dead-letter exchange drops the message; an expiry cycle back into the same queue is dropped", async () => {
  const ch = await publisher(await connect());
  const nowhere = uniq("src");
  await ch.queueDeclare(nowhere, { durable: false, autoDelete: false, exclusive: false }, { "x-dead-letter-exchange": "no-such-exchange" });
  await ch.basicPublish("", nowhere, "lost");
  const got = await ch.basicGet(nowhere, { noAck: false });
  await got!.reject(false);
  const loop = uniq("loop");
  await ch.queueDeclare(loop, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 20, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": loop });
  await ch.basicPublish("", loop, "cycle");
  await Bun.sleep(400);
  expect(await ch.basicGet(loop, { noAck: true })).toBeNull();
  expect(await ch.basicGet(nowhere, { noAck: true })).toBeNull();
});
