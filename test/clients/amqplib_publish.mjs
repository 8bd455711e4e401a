// amqplib against the broker: basic.publish errors, mandatory returns, message properties
// round-tripping, empty and large bodies, and FIFO order. Usage: node amqplib_publish.mjs AMQP_URL
import { createHash } from "node:crypto";
import { amqp, check, collect, connectionCloses, defs, describeError, emit, onFreshChannel, receivedPropertyBytes, unique, url, within } from "./amqplib_common.mjs";

const conn = await amqp.connect(url);

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

/** A body of n bytes whose content depends on its position, so a shifted or dropped frame shows. */
function patterned(n) {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + (i >>> 8) * 7 + (i >>> 16)) & 0xff;
  return buf;
}

await check("missing-exchange", async () => {
  const name = unique("nowhere");
  return { name, result: await onFreshChannel(conn, async (ch) => {
    ch.publish(name, "k", Buffer.from("x"));
    // The publish has no reply; the next RPC on the channel sees the close.
    await ch.checkExchange("amq.direct");
  }) };
});

await check("mandatory-unroutable", async () => {
  const missingQueue = unique("no-queue");
  return await onFreshChannel(conn, async (ch) => {
    const returns = [];
    ch.on("return", (msg) => returns.push({ fields: msg.fields, properties: msg.properties, body: msg.content.toString() }));
    ch.publish("amq.direct", "no-binding", Buffer.from("returned body"), { mandatory: true, headers: { h: "v" }, messageId: "m-1", contentType: "text/plain" });
    ch.sendToQueue(missingQueue, Buffer.from("to missing queue"), { mandatory: true });
    ch.publish("amq.direct", "no-binding", Buffer.from(""), { mandatory: true });
    // Confirms come after the returns (RabbitMQ sends basic.return before basic.ack).
    await ch.waitForConfirms();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("routable"), { mandatory: true });
    await ch.waitForConfirms();
    return { missingQueue, returns, routableReturned: returns.length > 3 };
  }, { confirm: true });
});

await check("non-mandatory-unroutable", async () => {
  return await onFreshChannel(conn, async (ch) => {
    const returns = [];
    ch.on("return", (msg) => returns.push(msg.content.toString()));
    let acked = 0;
    for (let i = 0; i < 3; i++) ch.publish("amq.direct", "no-binding", Buffer.from(`dropped ${i}`), {}, (err) => { if (err === null) acked++; });
    await ch.waitForConfirms();
    // The channel is still usable.
    const after = await ch.checkExchange("amq.direct");
    return { returns, acked, after };
  }, { confirm: true });
});

await check("user-id", async () => {
  const queue = unique("uid");
  await onFreshChannel(conn, (ch) => ch.assertQueue(queue, { durable: false }));
  const mismatch = await onFreshChannel(conn, async (ch) => {
    ch.sendToQueue(queue, Buffer.from("forged"), { userId: "bob" });
    await ch.checkQueue(queue);
  });
  const matching = await onFreshChannel(conn, async (ch) => {
    ch.sendToQueue(queue, Buffer.from("genuine"), { userId: "guest" });
    await ch.waitForConfirms();
    const msg = await ch.get(queue, { noAck: true });
    return msg === false ? null : { userId: msg.properties.userId, body: msg.content.toString() };
  }, { confirm: true });
  const counts = await onFreshChannel(conn, (ch) => ch.deleteQueue(queue));
  return { queue, mismatch, matching, counts };
});

await check("property-errors", async () => {
  const queue = unique("checked");
  await onFreshChannel(conn, (ch) => ch.assertQueue(queue, { durable: false }));
  const publish = (options) => onFreshChannel(conn, async (ch) => {
    ch.sendToQueue(queue, Buffer.from("x"), options);
    await ch.waitForConfirms();
  }, { confirm: true });
  const result = {
    expirationNotANumber: await publish({ expiration: "soon" }),
    expirationEmpty: await publish({ expiration: "" }),
    expirationNegative: await publish({ expiration: "-1" }),
    expirationFraction: await publish({ expiration: "1.5" }),
    expirationTooLarge: await publish({ expiration: "315360000001" }),
    expirationLongLeftover: await publish({ expiration: "1" + "x".repeat(30) }),
    deliveryModeZero: await publish({ deliveryMode: 0 }),
    deliveryModeThree: await publish({ deliveryMode: 3 }),
    // user-id is checked first.
    userIdFirst: await publish({ userId: "bob", expiration: "soon", deliveryMode: 3 }),
    // These are fine.
    accepted: await publish({ expiration: "+60000", deliveryMode: 1 }),
    acceptedLimit: await publish({ expiration: "315360000000", deliveryMode: 2 }),
  };
  result.stored = await onFreshChannel(conn, (ch) => ch.deleteQueue(queue));
  return result;
});

// Every field-table value type amqplib can encode, some chosen so a re-encoding with another type
// would change them (200 as a signed byte is -56, 40000 as a signed short is -25536).
const headers = {
  string: "text ✓",
  emptyString: "",
  true: true,
  false: false,
  int8: -5,
  int16: -30000,
  int32: 2_000_000_000,
  int64: 2 ** 40,
  negativeInt64: -(2 ** 40),
  double: 3.25,
  uint8: { "!": "unsignedbyte", value: 200 },
  uint16: { "!": "unsignedshort", value: 40000 },
  uint32: { "!": "unsignedint", value: 4_000_000_000 },
  explicitInt64: { "!": "int64", value: 7 },
  float: { "!": "float", value: 1.5 },
  timestamp: { "!": "timestamp", value: 1_700_000_000 },
  decimal: { "!": "decimal", value: { places: 2, digits: 12345 } },
  void: null,
  bytes: Buffer.from([0, 1, 2, 254, 255]),
  array: ["a", 1, true, null, ["nested"], { k: "v" }],
  emptyArray: [],
  table: { inner: "x", deeper: { n: 1, list: [1, 2] } },
  emptyTable: {},
};

const allProperties = {
  contentType: "application/json",
  contentEncoding: "gzip",
  headers,
  deliveryMode: 2,
  priority: 7,
  correlationId: "corr-42",
  replyTo: "reply-queue",
  expiration: "600000",
  messageId: "msg-42",
  timestamp: 1_700_000_123,
  type: "example.type",
  userId: "guest",
  appId: "warren-interop",
  clusterId: "cluster-7",
};

await check("properties-round-trip", async () => {
  const queue = unique("props");
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(queue, { exclusive: true });
    const body = Buffer.from("with every property");
    // ch.publish has no cluster-id option; sendMessage takes the full basic properties.
    ch.sendMessage({ exchange: "", routingKey: queue, mandatory: false, immediate: false, ticket: 0 }, allProperties, body);
    ch.sendMessage({ exchange: "", routingKey: queue, mandatory: false, immediate: false, ticket: 0 }, allProperties, body);
    await ch.waitForConfirms();
    const got = await ch.get(queue, { noAck: true });
    const getBytes = receivedPropertyBytes.at(-1);
    const [consumed] = await collect(ch, queue, 1);
    const consumeBytes = receivedPropertyBytes.at(-1);
    // The property bytes amqplib put on the wire: a content header frame is 7 bytes of frame
    // header, class, weight and body size (12), the flags and properties, then the frame end.
    const frame = defs.encodeProperties(defs.BasicProperties, 1, body.length, allProperties);
    const sentBytes = frame.subarray(7 + 12, frame.length - 1);
    return {
      sentPropertyBytes: sentBytes.toString("hex"),
      getPropertyBytes: getBytes?.toString("hex") ?? null,
      consumePropertyBytes: consumeBytes?.toString("hex") ?? null,
      sent: allProperties,
      viaGet: got === false ? null : { properties: got.properties, fields: got.fields, body: got.content.toString() },
      viaConsume: consumed === undefined ? null : { properties: consumed.properties, body: consumed.content.toString() },
    };
  }, { confirm: true });
});

await check("no-properties", async () => {
  const queue = unique("bare");
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(queue, { exclusive: true });
    ch.sendMessage({ exchange: "", routingKey: queue, mandatory: false, immediate: false, ticket: 0 }, {}, Buffer.from("bare"));
    await ch.waitForConfirms();
    const got = await ch.get(queue, { noAck: true });
    return got === false ? null : { properties: got.properties, body: got.content.toString() };
  }, { confirm: true });
});

await check("empty-body", async () => {
  const queue = unique("empty");
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(queue, { exclusive: true });
    ch.sendToQueue(queue, Buffer.alloc(0), { messageId: "empty-1" });
    ch.sendToQueue(queue, Buffer.alloc(0), { messageId: "empty-2" });
    await ch.waitForConfirms();
    const got = await ch.get(queue, { noAck: true });
    const [consumed] = await collect(ch, queue, 1);
    return {
      viaGet: got === false ? null : { length: got.content.length, messageId: got.properties.messageId },
      viaConsume: consumed === undefined ? null : { length: consumed.content.length, messageId: consumed.properties.messageId },
    };
  }, { confirm: true });
});

await check("large-bodies", async () => {
  const queue = unique("large");
  const sizes = [131_072 - 8, 131_072, 1024 * 1024, 20 * 1024 * 1024];
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(queue, { exclusive: true });
    const sent = [];
    for (const size of sizes) {
      const body = patterned(size);
      sent.push({ length: size, sha256: sha256(body) });
      ch.sendToQueue(queue, body, { messageId: `size-${size}` });
    }
    await within(ch.waitForConfirms(), 10_000, "confirms of large bodies");
    const messages = await collect(ch, queue, sizes.length, 10_000);
    const received = messages.map((m) => ({ length: m.content.length, sha256: sha256(m.content), messageId: m.properties.messageId }));
    // And once more through basic.get, which has its own delivery path.
    ch.sendToQueue(queue, patterned(1024 * 1024));
    await ch.waitForConfirms();
    const got = await ch.get(queue, { noAck: true });
    return { frameMax: conn.connection.frameMax, sent, received, viaGet: got === false ? null : { length: got.content.length, sha256: sha256(got.content) } };
  }, { confirm: true });
});

await check("fifo-1000", async () => {
  const queue = unique("fifo");
  const n = 1000;
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(queue, { exclusive: true });
    for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.waitForConfirms();
    const { messageCount } = await ch.checkQueue(queue);
    const messages = await collect(ch, queue, n, 10_000);
    const order = messages.map((m) => Number(m.content.toString()));
    const outOfPlace = order.filter((v, i) => v !== i).length;
    return { messageCount, received: order.length, outOfPlace, first: order.slice(0, 3), last: order.slice(-3) };
  }, { confirm: true });
});

// immediate=true is not supported by RabbitMQ 3.x: a connection error. amqplib never sets the
// flag itself, so the raw publish is used; it closes the connection, so it gets its own.
await check("immediate", async () => {
  const c = await amqp.connect(url);
  let connectionError = null;
  c.on("error", (err) => { connectionError = err; });
  const closed = new Promise((resolve) => c.once("close", resolve));
  const ch = await c.createChannel();
  ch.on("error", () => {});
  ch.sendMessage({ exchange: "amq.direct", routingKey: "k", mandatory: false, immediate: true, ticket: 0 }, {}, Buffer.from("now"));
  const wasClosed = await within(closed, 5_000, "connection close").then(() => true, () => false);
  if (!wasClosed) await c.close().catch(() => {});
  return { connectionClosed: wasClosed, connectionError: describeError(connectionError), close: connectionCloses.pop() ?? null };
});

await conn.close();
emit("done");
