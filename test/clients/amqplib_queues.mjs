// amqplib against the broker: queue.declare/delete/purge, their counts and their errors.
// Usage: node amqplib_queues.mjs AMQP_URL
import { amqp, check, emit, onFreshChannel, unique, url } from "./amqplib_common.mjs";

const conn = await amqp.connect(url);
const other = await amqp.connect(url);

/** Publishes n messages to the queue through the default exchange and waits for the confirms. */
async function fill(queue, n) {
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
  await ch.waitForConfirms();
  await ch.close();
}

/** Polls a passive declare until it 404s (the queue is gone) or ms pass. */
async function goneWithin(queue, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await onFreshChannel(conn, (ch) => ch.checkQueue(queue));
    if (!r.ok) return { gone: true, error: r.error };
    if (Date.now() > deadline) return { gone: false, last: r.value };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

await check("declare-flags", async () => {
  const durable = unique("durable");
  const transient = unique("transient");
  const exclusive = unique("exclusive");
  const autoDelete = unique("autodelete");
  const results = await onFreshChannel(conn, async (ch) => ({
    durable: await ch.assertQueue(durable, { durable: true }),
    transient: await ch.assertQueue(transient, { durable: false }),
    exclusive: await ch.assertQueue(exclusive, { exclusive: true, durable: false }),
    autoDelete: await ch.assertQueue(autoDelete, { autoDelete: true, durable: false }),
  }));
  // Each redeclared with its own flags is equivalent; flipped, it is not.
  const redeclare = await onFreshChannel(conn, async (ch) => ({
    durable: await ch.assertQueue(durable, { durable: true }),
    transient: await ch.assertQueue(transient, { durable: false }),
    exclusive: await ch.assertQueue(exclusive, { exclusive: true, durable: false }),
    autoDelete: await ch.assertQueue(autoDelete, { autoDelete: true, durable: false }),
  }));
  const flippedAutoDelete = await onFreshChannel(conn, (ch) => ch.assertQueue(autoDelete, { autoDelete: false, durable: false }));
  const flippedDurable = await onFreshChannel(conn, (ch) => ch.assertQueue(durable, { durable: false }));
  await onFreshChannel(conn, async (ch) => {
    for (const q of [durable, transient, exclusive, autoDelete]) await ch.deleteQueue(q);
  });
  return { names: { durable, transient, exclusive, autoDelete }, results, redeclare, flippedAutoDelete, flippedDurable };
});

await check("server-named", async () => {
  const r = await onFreshChannel(conn, async (ch) => {
    const first = await ch.assertQueue("", { exclusive: true });
    const second = await ch.assertQueue("", { exclusive: true });
    // The generated name is a real queue: a message sent to it arrives.
    ch.sendToQueue(first.queue, Buffer.from("to-generated"));
    let got = false;
    for (let i = 0; i < 100 && got === false; i++) {
      got = await ch.get(first.queue, { noAck: true });
      if (got === false) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { first, second, body: got === false ? null : got.content.toString() };
  });
  return r;
});

await check("passive-missing", async () => {
  const name = unique("missing");
  return { name, result: await onFreshChannel(conn, (ch) => ch.checkQueue(name)) };
});

await check("passive-empty-name", async () => {
  // On a channel that has declared a queue: a passive declare of "" still looks up "" itself.
  return await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue("", { exclusive: true });
    return ch.checkQueue("");
  });
});

await check("passive-existing-counts", async () => {
  const withMessages = unique("counted");
  const withConsumer = unique("consumed");
  await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(withMessages, { durable: false });
    await ch.assertQueue(withConsumer, { durable: false });
  });
  await fill(withMessages, 3);
  const consumerCh = await conn.createChannel();
  await consumerCh.consume(withConsumer, () => {}, { noAck: true });
  const passive = await onFreshChannel(conn, async (ch) => ({
    withMessages: await ch.checkQueue(withMessages),
    withConsumer: await ch.checkQueue(withConsumer),
  }));
  // An equivalent (non-passive) redeclare reports the same counts.
  const redeclared = await onFreshChannel(conn, async (ch) => ({
    withMessages: await ch.assertQueue(withMessages, { durable: false }),
    withConsumer: await ch.assertQueue(withConsumer, { durable: false }),
  }));
  await consumerCh.close();
  await onFreshChannel(conn, async (ch) => {
    await ch.deleteQueue(withMessages);
    await ch.deleteQueue(withConsumer);
  });
  return { names: { withMessages, withConsumer }, passive, redeclared };
});

await check("inequivalent-durable", async () => {
  // The name the brief's text uses; deleted first in case a previous run left it.
  const name = "q";
  await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false }));
  const result = await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: true }));
  const stillThere = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  return { name, result, stillThere };
});

await check("inequivalent-arguments", async () => {
  const name = unique("args");
  await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false, arguments: { "x-max-length": 10 } }));
  const different = await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false, arguments: { "x-max-length": 20 } }));
  const same = await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false, arguments: { "x-max-length": 10 } }));
  await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  return { name, different, same };
});

await check("argument-errors", async () => {
  const name = unique("badargs");
  const declare = (args) => onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false, arguments: args }));
  const result = {
    name,
    negative: await declare({ "x-max-length": -1 }),
    negativeBytes: await declare({ "x-max-length-bytes": -5 }),
    notInteger: await declare({ "x-max-length": "ten" }),
    fraction: await declare({ "x-max-length": 1.5 }),
    overflow: await declare({ "x-overflow": "drop-tail" }),
    // None of them created the queue.
    created: await onFreshChannel(conn, (ch) => ch.checkQueue(name)),
  };
  // A string argument present on one side only: RabbitMQ names its type.
  const overflowQueue = unique("overflow");
  await onFreshChannel(conn, (ch) => ch.assertQueue(overflowQueue, { durable: false, arguments: { "x-overflow": "drop-head" } }));
  result.overflowQueue = overflowQueue;
  result.overflowDropped = await onFreshChannel(conn, (ch) => ch.assertQueue(overflowQueue, { durable: false }));
  result.overflowChanged = await onFreshChannel(conn, (ch) => ch.assertQueue(overflowQueue, { durable: false, arguments: { "x-overflow": "reject-publish" } }));
  await onFreshChannel(conn, (ch) => ch.deleteQueue(overflowQueue));
  return result;
});

await check("exclusive-other-connection", async () => {
  const name = unique("locked");
  await onFreshChannel(conn, async (ch) => {
    await ch.assertQueue(name, { exclusive: true });
    await ch.bindQueue(name, "amq.fanout", "");
  });
  const attempts = {
    declare: await onFreshChannel(other, (ch) => ch.assertQueue(name, { exclusive: true })),
    declareNonExclusive: await onFreshChannel(other, (ch) => ch.assertQueue(name, { durable: true })),
    passive: await onFreshChannel(other, (ch) => ch.checkQueue(name)),
    bind: await onFreshChannel(other, (ch) => ch.bindQueue(name, "amq.direct", "k")),
    consume: await onFreshChannel(other, (ch) => ch.consume(name, () => {})),
    get: await onFreshChannel(other, (ch) => ch.get(name)),
    purge: await onFreshChannel(other, (ch) => ch.purgeQueue(name)),
    delete: await onFreshChannel(other, (ch) => ch.deleteQueue(name)),
  };
  // The owner still can use it.
  const owner = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  return { name, attempts, owner };
});

await check("exclusive-gone-with-connection", async () => {
  const name = unique("owned");
  const owner = await amqp.connect(url);
  await onFreshChannel(owner, (ch) => ch.assertQueue(name, { exclusive: true }));
  const beforeClose = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  await owner.close();
  return { name, beforeClose, after: await goneWithin(name, 3_000) };
});

await check("auto-delete-after-last-consumer", async () => {
  const name = unique("auto");
  const ch = await conn.createChannel();
  await ch.assertQueue(name, { autoDelete: true, durable: false });
  // Declared but never consumed: an auto-delete queue stays.
  const neverConsumed = await onFreshChannel(conn, (c) => c.checkQueue(name));
  const a = await ch.consume(name, () => {}, { noAck: true });
  const b = await ch.consume(name, () => {}, { noAck: true });
  await ch.cancel(a.consumerTag);
  const afterFirstCancel = await onFreshChannel(conn, (c) => c.checkQueue(name));
  await ch.cancel(b.consumerTag);
  const after = await goneWithin(name, 3_000);
  await ch.close();
  return { name, neverConsumed, afterFirstCancel, after };
});

await check("auto-delete-after-consumer-channel-closes", async () => {
  const name = unique("auto-close");
  const ch = await conn.createChannel();
  await ch.assertQueue(name, { autoDelete: true, durable: false });
  await ch.consume(name, () => {}, { noAck: true });
  await ch.close();
  return { name, after: await goneWithin(name, 3_000) };
});

await check("purge-count", async () => {
  const name = unique("purge");
  await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false }));
  await fill(name, 5);
  const result = await onFreshChannel(conn, async (ch) => ({
    first: await ch.purgeQueue(name),
    second: await ch.purgeQueue(name),
    after: await ch.checkQueue(name),
  }));
  const missing = await onFreshChannel(conn, (ch) => ch.purgeQueue(unique("nope")));
  await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  return { name, result, missing };
});

await check("delete-count", async () => {
  const name = unique("delete");
  await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: true }));
  await fill(name, 4);
  const result = await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  const after = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  const missing = await onFreshChannel(conn, (ch) => ch.deleteQueue(name));
  return { name, result, after, missing };
});

await check("delete-if-unused", async () => {
  const name = unique("unused");
  const consumerCh = await conn.createChannel();
  await consumerCh.assertQueue(name, { durable: false });
  const { consumerTag } = await consumerCh.consume(name, () => {}, { noAck: true });
  const inUse = await onFreshChannel(conn, (ch) => ch.deleteQueue(name, { ifUnused: true }));
  const stillThere = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  await consumerCh.cancel(consumerTag);
  const unused = await onFreshChannel(conn, (ch) => ch.deleteQueue(name, { ifUnused: true }));
  await consumerCh.close();
  return { name, inUse, stillThere, unused };
});

await check("delete-if-empty", async () => {
  const name = unique("empty");
  await onFreshChannel(conn, (ch) => ch.assertQueue(name, { durable: false }));
  await fill(name, 2);
  const notEmpty = await onFreshChannel(conn, (ch) => ch.deleteQueue(name, { ifEmpty: true }));
  const stillThere = await onFreshChannel(conn, (ch) => ch.checkQueue(name));
  await onFreshChannel(conn, (ch) => ch.purgeQueue(name));
  const empty = await onFreshChannel(conn, (ch) => ch.deleteQueue(name, { ifEmpty: true }));
  return { name, notEmpty, stillThere, empty };
});

await check("reserved-name", async () => {
  const result = await onFreshChannel(conn, (ch) => ch.assertQueue("amq.x", { durable: false }));
  // Passive declare of a missing amq.* name is a plain 404, not 403.
  const passive = await onFreshChannel(conn, (ch) => ch.checkQueue("amq.x"));
  return { result, passive };
});

await other.close();
await conn.close();
emit("done");
