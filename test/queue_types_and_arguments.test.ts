// Queue types and queue.declare argument validation through @cloudamqp/amqp-client: RabbitMQ 3.10's
// codes and texts for each check and its order, quorum queues' restrictions and answers, and the
// arguments Warren refuses because it does not implement them. Runs against the RabbitMQ at
// INTEROP_REFERENCE_URL too (the Warren-only refusals are skipped there).
import { describe, expect, test } from "bun:test";
import { errorOf, interopBroker, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();
const onWarren = process.env["INTEROP_REFERENCE_URL"] === undefined;

interface Declare {
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  args?: Record<string, unknown>;
}

/** The channel error of declaring `name` (without the "channel N closed: " prefix), or "ok". */
async function declareOutcome(conn: AMQPConnection, name: string, d: Declare): Promise<string> {
  const ch = await conn.channel();
  try {
    await ch.queueDeclare(name, { durable: d.durable ?? true, exclusive: d.exclusive ?? false, autoDelete: d.autoDelete ?? false }, d.args ?? {});
  } catch (e) {
    return (e as Error).message.replace(/^channel \d+ closed: /, "");
  }
  await ch.queueDelete(name);
  await ch.close();
  return "ok";
}

async function expectRefused(conn: AMQPConnection, d: Declare, text: (q: string) => string, code = 406): Promise<void> {
  const q = uniq("qa");
  expect(await declareOutcome(conn, q, d)).toBe(`PRECONDITION_FAILED - ${text(`queue '${q}' in vhost '/'`)} (${code})`);
  // Nothing was created.
  const ch = await conn.channel();
  expect(await errorOf(ch.queueDeclare(q, { passive: true }))).toContain(`NOT_FOUND - no queue '${q}' in vhost '/'`);
}

describe("x-queue-type", () => {
  test("absent and classic are the same type on redeclare, in both directions", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const a = uniq("untyped");
    const b = uniq("classic");
    await ch.queueDeclare(a, { durable: true, autoDelete: false, exclusive: false });
    await ch.queueDeclare(a, { durable: true, autoDelete: false, exclusive: false }, { "x-queue-type": "classic" });
    await ch.queueDeclare(b, { durable: true, autoDelete: false, exclusive: false }, { "x-queue-type": "classic" });
    await ch.queueDeclare(b, { durable: true, autoDelete: false, exclusive: false });
    await ch.queueDelete(a);
    await ch.queueDelete(b);
  });

  test("a quorum queue must be durable, not exclusive and not auto-delete, checked in RabbitMQ's order", async () => {
    const conn = await connect();
    const quorum = { "x-queue-type": "quorum" };
    await expectRefused(conn, { durable: false, args: quorum }, (q) => `invalid property 'non-durable' for ${q}`);
    await expectRefused(conn, { exclusive: true, args: quorum }, (q) => `invalid property 'exclusive-owner' for ${q}`);
    await expectRefused(conn, { autoDelete: true, args: quorum }, (q) => `invalid property 'auto-delete' for ${q}`);
    await expectRefused(conn, { durable: false, exclusive: true, autoDelete: true, args: quorum }, (q) => `invalid property 'auto-delete' for ${q}`);
  });

  test("arguments of other queue types are refused for the declared type, before its property checks", async () => {
    const conn = await connect();
    await expectRefused(conn, { durable: false, args: { "x-queue-type": "quorum", "x-max-priority": 5 } }, (q) => `invalid arg 'x-max-priority' for ${q} of queue type rabbit_quorum_queue`);
    await expectRefused(conn, { args: { "x-queue-type": "quorum", "x-queue-mode": "lazy" } }, (q) => `invalid arg 'x-queue-mode' for ${q} of queue type rabbit_quorum_queue`);
    await expectRefused(conn, { args: { "x-delivery-limit": 5 } }, (q) => `invalid arg 'x-delivery-limit' for ${q} of queue type rabbit_classic_queue`);
    await expectRefused(conn, { args: { "x-max-age": "1D" } }, (q) => `invalid arg 'x-max-age' for ${q} of queue type rabbit_classic_queue`);
    await expectRefused(conn, { args: { "x-queue-type": "stream", "x-message-ttl": 5 } }, (q) => `invalid arg 'x-message-ttl' for ${q} of queue type rabbit_stream_queue`);
  });

  test("a durable quorum queue takes, keeps and delivers messages and redeclares only as quorum", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const q = uniq("quorum");
    const ok = await ch.queueDeclare(q, { durable: true, autoDelete: false, exclusive: false }, { "x-queue-type": "quorum", "x-max-length": 2 });
    expect(ok.name).toBe(q);
    await ch.confirmSelect();
    for (const body of ["a", "b", "c"]) await ch.basicPublish("", q, body);
    // x-max-length drops the head, as a quorum queue's default overflow does.
    expect((await ch.basicGet(q, { noAck: true }))?.bodyToString()).toBe("b");
    const ch2 = await conn.channel();
    expect(await errorOf(ch2.queueDeclare(q, { durable: true, autoDelete: false, exclusive: false }, { "x-max-length": 2 }))).toBe(
      `channel ${ch2.id} closed: PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${q}' in vhost '/': received none but current is the value 'quorum' of type 'longstr' (406)`,
    );
    await ch.queueDelete(q);
  });

  test("a quorum queue refuses delete with if-unused or if-empty and consumers under global qos (540)", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const q = uniq("quorum-ops");
    await ch.queueDeclare(q, { durable: true, autoDelete: false, exclusive: false }, { "x-queue-type": "quorum" });
    // 540 is a connection error.
    expect(await errorOf((await connect()).channel().then((c) => c.queueDelete(q, { ifUnused: true })))).toBe(
      `connection closed: NOT_IMPLEMENTED - cannot delete queue '${q}' in vhost '/'. queue.delete operations with if-unused flag set are not supported by quorum queues (540)`,
    );
    expect(await errorOf((await connect()).channel().then((c) => c.queueDelete(q, { ifEmpty: true })))).toBe(
      `connection closed: NOT_IMPLEMENTED - cannot delete queue '${q}' in vhost '/'. queue.delete operations with if-empty flag set are not supported by quorum queues (540)`,
    );
    const global = await (await connect()).channel();
    await global.basicQos(10, undefined, true);
    expect(await errorOf(global.basicConsume(q, {}, () => {}))).toBe(
      `connection closed: NOT_IMPLEMENTED - queue '${q}' in vhost '/' does not support global qos (540)`,
    );
    // A per-consumer prefetch is fine.
    const perConsumer = await conn.channel();
    await perConsumer.prefetch(10);
    await perConsumer.basicConsume(q, {}, () => {});
    await ch.queueDelete(q);
  });

  test("a stream must be durable, not exclusive and not auto-delete", async () => {
    const conn = await connect();
    const stream = { "x-queue-type": "stream" };
    await expectRefused(conn, { durable: false, args: stream }, (q) => `invalid property 'non-durable' for ${q}`);
    await expectRefused(conn, { exclusive: true, args: stream }, (q) => `invalid property 'exclusive-owner' for ${q}`);
  });

  test.skipIf(!onWarren)("a durable stream is refused: Warren has no streams", async () => {
    const conn = await connect();
    await expectRefused(conn, { args: { "x-queue-type": "stream" } }, (q) => `invalid arg 'x-queue-type' for ${q}: Warren does not support stream queues yet`);
  });

  test("an unknown or non-string queue type is refused", async () => {
    const conn = await connect();
    await expectRefused(conn, { args: { "x-queue-type": "fast" } }, (q) => `invalid arg 'x-queue-type' for ${q}: "unsupported queue type 'fast'"`);
    await expectRefused(conn, { args: { "x-queue-type": true } }, (q) => `invalid arg 'x-queue-type' for ${q}: {unacceptable_type,bool}`);
  });
});

describe("argument validation", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["x-message-ttl", { "x-message-ttl": -1 }, "{value_negative,-1}"],
    ["x-message-ttl", { "x-message-ttl": "10" }, '"expected integer, got longstr"'],
    ["x-expires", { "x-expires": 0 }, "{value_zero,0}"],
    ["x-expires", { "x-expires": -1 }, "{value_negative,-1}"],
    ["x-max-length", { "x-max-length": -1 }, "{value_negative,-1}"],
    ["x-max-priority", { "x-max-priority": 256 }, "{max_value_exceeded,256}"],
    ["x-max-priority", { "x-max-priority": -1 }, "{value_negative,-1}"],
    ["x-max-priority", { "x-max-priority": "5" }, '"expected integer, got longstr"'],
    ["x-overflow", { "x-overflow": "drop-tail" }, "invalid_overflow"],
    ["x-dead-letter-routing-key", { "x-dead-letter-routing-key": "k" }, "routing_key_but_no_dlx_defined"],
    ["x-single-active-consumer", { "x-single-active-consumer": "yes" }, "{unacceptable_type,longstr}"],
    ["x-queue-mode", { "x-queue-mode": "fast" }, `"unsupported queue mode 'fast'"`],
    ["x-queue-version", { "x-queue-version": 3 }, `"unsupported queue version '3'"`],
    // RabbitMQ's order of checks, not the client's order of keys.
    ["x-max-length", { "x-overflow": "drop-tail", "x-max-length": -1 }, "{value_negative,-1}"],
  ];
  for (const [key, args, error] of cases) {
    test(`${JSON.stringify(args)} is 406 ${error}`, async () => {
      const conn = await connect();
      await expectRefused(conn, { args }, (q) => `invalid arg '${key}' for ${q}: ${error}`);
    });
  }

  test("a dead-letter exchange that is not a string is refused with rabbit_channel's text", async () => {
    const conn = await connect();
    const q = uniq("dlx-type");
    const outcome = await declareOutcome(conn, q, { args: { "x-dead-letter-exchange": true } });
    expect(outcome).toBe(`PRECONDITION_FAILED - invalid type 'bool' for arg 'x-dead-letter-exchange' in queue '${q}' in vhost '/' (406)`);
  });

  test("x-message-ttl 0 is valid: a message not delivered at once is dropped", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const q = uniq("ttl-zero");
    await ch.queueDeclare(q, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 0 });
    await ch.confirmSelect();
    await ch.basicPublish("", q, "gone");
    expect(await ch.basicGet(q, { noAck: true })).toBeNull();
    await ch.queueDelete(q);
  });

  test("x-message-ttl 0 and expiration \"0\" still reach a consumer that is waiting", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const q = uniq("ttl-zero-consumer");
    await ch.queueDeclare(q, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 0 });
    const got: string[] = [];
    let arrived = (): void => {};
    const both = new Promise<void>((resolve) => (arrived = resolve));
    const consumer = await ch.basicConsume(q, { noAck: true }, (msg) => {
      got.push(msg.bodyToString() ?? "");
      if (got.length === 2) arrived();
    });
    const pub = await conn.channel();
    await pub.confirmSelect();
    await pub.basicPublish("", q, "queue-ttl");
    await pub.basicPublish("", q, "message-ttl", { expiration: "0" });
    await both;
    expect(got).toEqual(["queue-ttl", "message-ttl"]);
    await consumer.cancel();
    // Without a consumer, expiration "0" alone drops the message (the queue has no TTL of its own).
    const plain = uniq("expiration-zero");
    await ch.queueDeclare(plain, { durable: false, autoDelete: false, exclusive: false });
    await pub.basicPublish("", plain, "nobody-waiting", { expiration: "0" });
    await pub.basicPublish("", plain, "kept");
    expect((await ch.basicGet(plain, { noAck: true }))?.bodyToString()).toBe("kept");
    await ch.queueDelete(q);
    await ch.queueDelete(plain);
  });

  test("an inequivalent x-message-ttl on redeclare is 406 and keeps the queue", async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const q = uniq("ttl-redeclare");
    await ch.queueDeclare(q, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 1000 });
    const ch2 = await conn.channel();
    expect(await errorOf(ch2.queueDeclare(q, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 2000 }))).toBe(
      `channel ${ch2.id} closed: PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '${q}' in vhost '/': received '2000' but current is '1000' (406)`,
    );
    await ch.queueDelete(q);
  });
});

describe.skipIf(!onWarren)("arguments Warren does not implement", () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ["x-max-in-memory-length", { "x-queue-type": "quorum", "x-max-in-memory-length": 3 }, "x-max-in-memory-length 3"],
  ];
  for (const [key, args, what] of refused) {
    test(`${JSON.stringify(args)} is refused, naming the argument`, async () => {
      const conn = await connect();
      await expectRefused(conn, { args }, (q) => `invalid arg '${key}' for ${q}: Warren does not support ${what} yet`);
    });
  }

  test("the values that change nothing are accepted", async () => {
    const conn = await connect();
    for (const args of [{ "x-single-active-consumer": false }, { "x-queue-mode": "default" }, { "x-queue-mode": "lazy" }, { "x-queue-version": 2 }]) {
      expect(await declareOutcome(conn, uniq("noop"), { args })).toBe("ok");
    }
  });
});

describe.skipIf(!onWarren)("checks stricter than RabbitMQ's", () => {
  test("x-delivery-limit must be a non-negative integer (RabbitMQ 3.x takes any value unchecked)", async () => {
    const conn = await connect();
    await expectRefused(conn, { args: { "x-queue-type": "quorum", "x-delivery-limit": -1 } }, (q) => `invalid arg 'x-delivery-limit' for ${q}: {value_negative,-1}`);
    await expectRefused(conn, { args: { "x-queue-type": "quorum", "x-delivery-limit": "3" } }, (q) => `invalid arg 'x-delivery-limit' for ${q}: "expected integer, got longstr"`);
  });
});
