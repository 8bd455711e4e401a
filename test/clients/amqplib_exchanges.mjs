// amqplib against the broker: exchange types routing end to end, the default and amq.*
// exchanges, exchange.declare/delete errors, internal and auto-delete exchanges, alternate
// exchanges and exchange-to-exchange bindings. Usage: node amqplib_exchanges.mjs AMQP_URL
import { amqp, check, connectionCloses, describeError, drain, emit, onFreshChannel, unique, url, within } from "./amqplib_common.mjs";

const conn = await amqp.connect(url);

/**
 * Declares the exchange and one queue per binding spec, publishes every message (body = its
 * label) with confirms, then reports what each queue holds. Bindings: {queue, key, args}.
 */
async function route(exchange, type, bindings, messages, exchangeOptions = {}) {
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange, type, { durable: false, autoDelete: false, ...exchangeOptions });
  const queues = {};
  for (const b of bindings) {
    if (queues[b.queue] === undefined) {
      queues[b.queue] = unique(`${exchange}-${b.queue}`);
      await ch.assertQueue(queues[b.queue], { durable: false, exclusive: true });
    }
    await ch.bindQueue(queues[b.queue], exchange, b.key ?? "", b.args ?? {});
  }
  for (const m of messages) ch.publish(exchange, m.key ?? "", Buffer.from(m.label), m.headers === undefined ? {} : { headers: m.headers });
  await ch.waitForConfirms();
  const received = {};
  for (const [label, q] of Object.entries(queues)) received[label] = (await drain(ch, q)).sort();
  for (const q of Object.values(queues)) await ch.deleteQueue(q);
  await ch.deleteExchange(exchange);
  await ch.close();
  return received;
}

await check("direct-routing", async () =>
  route(unique("direct"), "direct",
    [{ queue: "q1", key: "a" }, { queue: "q2", key: "b" }, { queue: "q3", key: "a" }, { queue: "q3", key: "b" }, { queue: "q4", key: "" }],
    [{ label: "to-a", key: "a" }, { label: "to-b", key: "b" }, { label: "to-c", key: "c" }, { label: "to-empty", key: "" }, { label: "to-A", key: "A" }]));

await check("fanout-routing", async () =>
  route(unique("fanout"), "fanout",
    [{ queue: "q1", key: "x" }, { queue: "q2", key: "" }, { queue: "q3", key: "y" }, { queue: "q3", key: "z" }],
    [{ label: "m1", key: "x" }, { label: "m2", key: "anything" }, { label: "m3", key: "" }]));

const topicPatterns = ["a.b.c", "a.*", "a.#", "#", "*.b.*", "#.c", "*", "a.*.#", "*.*", "a.#.c", "#.b.#", "", "a..c"];
const topicKeys = ["a", "a.b", "a.b.c", "a.x.y.c", "x.b.y", "c", "", "a.b.c.d", "b", "a..c", "x.y", "a.c"];
await check("topic-routing", async () => {
  const bindings = topicPatterns.map((key, i) => ({ queue: `p${i}`, key }));
  const received = await route(unique("topic"), "topic", bindings, topicKeys.map((key) => ({ label: `k:${key}`, key })));
  // Reported by pattern, which is what a reader wants to see.
  const byPattern = {};
  topicPatterns.forEach((p, i) => { byPattern[p] = received[`p${i}`]; });
  return byPattern;
});

await check("headers-routing", async () =>
  route(unique("headers"), "headers",
    [
      { queue: "all", args: { "x-match": "all", format: "pdf", type: "report" } },
      { queue: "any", args: { "x-match": "any", format: "pdf", type: "log" } },
      { queue: "default", args: { format: "pdf", type: "report" } },
      { queue: "empty-all", args: { "x-match": "all" } },
      { queue: "empty-any", args: { "x-match": "any" } },
      { queue: "number", args: { "x-match": "all", n: 42 } },
    ],
    [
      { label: "pdf-report", headers: { format: "pdf", type: "report" } },
      { label: "pdf-report-extra", headers: { format: "pdf", type: "report", extra: "yes" } },
      { label: "pdf-only", headers: { format: "pdf" } },
      { label: "log-only", headers: { type: "log" } },
      { label: "none" },
      { label: "zip-summary", headers: { format: "zip", type: "summary" } },
      { label: "n-42", headers: { n: 42 } },
      { label: "n-42-string", headers: { n: "42" } },
    ]));

await check("default-exchange", async () => ({
  declare: await onFreshChannel(conn, (ch) => ch.assertExchange("", "direct")),
  passive: await onFreshChannel(conn, (ch) => ch.checkExchange("")),
  delete: await onFreshChannel(conn, (ch) => ch.deleteExchange("")),
  bindQueue: await onFreshChannel(conn, async (ch) => {
    const { queue } = await ch.assertQueue("", { exclusive: true });
    return ch.bindQueue(queue, "", "key");
  }),
  unbindQueue: await onFreshChannel(conn, async (ch) => {
    const { queue } = await ch.assertQueue("", { exclusive: true });
    return ch.unbindQueue(queue, "", queue);
  }),
  bindExchangeSource: await onFreshChannel(conn, (ch) => ch.bindExchange("amq.fanout", "", "key")),
  bindExchangeDestination: await onFreshChannel(conn, (ch) => ch.bindExchange("", "amq.fanout", "key")),
  // Publishing to "" routes by queue name.
  publish: await onFreshChannel(conn, async (ch) => {
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("via-default"));
    await ch.waitForConfirms();
    return drain(ch, queue);
  }, { confirm: true }),
}));

await check("amq-exchanges", async () => {
  const names = ["amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"];
  const passive = {};
  for (const name of names) passive[name] = await onFreshChannel(conn, (ch) => ch.checkExchange(name));
  return {
    passive,
    // Redeclaring with the same type and durable=true is equivalent.
    redeclareDirect: await onFreshChannel(conn, (ch) => ch.assertExchange("amq.direct", "direct", { durable: true })),
    redeclareMatch: await onFreshChannel(conn, (ch) => ch.assertExchange("amq.match", "headers", { durable: true })),
    redeclareOtherType: await onFreshChannel(conn, (ch) => ch.assertExchange("amq.direct", "fanout", { durable: true })),
    declareNew: await onFreshChannel(conn, (ch) => ch.assertExchange("amq.foo", "direct")),
    deleteSystem: await onFreshChannel(conn, (ch) => ch.deleteExchange("amq.direct")),
    deleteMissingReserved: await onFreshChannel(conn, (ch) => ch.deleteExchange("amq.nope")),
  };
});

await check("declare-errors", async () => {
  const name = unique("ex");
  await onFreshChannel(conn, (ch) => ch.assertExchange(name, "direct", { durable: false }));
  const missing = unique("missing");
  const result = {
    name,
    missing,
    typeMismatch: await onFreshChannel(conn, (ch) => ch.assertExchange(name, "topic", { durable: false })),
    durableMismatch: await onFreshChannel(conn, (ch) => ch.assertExchange(name, "direct", { durable: true })),
    autoDeleteMismatch: await onFreshChannel(conn, (ch) => ch.assertExchange(name, "direct", { durable: false, autoDelete: true })),
    internalMismatch: await onFreshChannel(conn, (ch) => ch.assertExchange(name, "direct", { durable: false, internal: true })),
    equivalent: await onFreshChannel(conn, (ch) => ch.assertExchange(name, "direct", { durable: false })),
    passiveMissing: await onFreshChannel(conn, (ch) => ch.checkExchange(missing)),
    passiveExisting: await onFreshChannel(conn, (ch) => ch.checkExchange(name)),
    deleteMissing: await onFreshChannel(conn, (ch) => ch.deleteExchange(missing)),
    bindQueueMissingExchange: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.bindQueue(queue, missing, "k");
    }),
    bindMissingQueue: await onFreshChannel(conn, (ch) => ch.bindQueue(missing, name, "k")),
    bindExchangeMissingSource: await onFreshChannel(conn, (ch) => ch.bindExchange(name, missing, "k")),
    bindExchangeMissingDestination: await onFreshChannel(conn, (ch) => ch.bindExchange(missing, name, "k")),
  };
  await onFreshChannel(conn, (ch) => ch.deleteExchange(name));
  return result;
});

await check("headers-x-match-invalid", async () => {
  const x = unique("hdr");
  await onFreshChannel(conn, (ch) => ch.assertExchange(x, "headers", { durable: false }));
  const result = {
    x,
    badValue: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.bindQueue(queue, x, "", { "x-match": "some", a: "1" });
    }),
    badValueExchangeBind: await onFreshChannel(conn, (ch) => ch.bindExchange("amq.fanout", x, "", { "x-match": "most" })),
    // An unbind with the same arguments is not validated: the binding is not there, unbind-ok.
    unbind: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.unbindQueue(queue, x, "", { "x-match": "some" });
    }),
    withX: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.bindQueue(queue, x, "", { "x-match": "any-with-x", "x-k": "v" });
    }),
  };
  await onFreshChannel(conn, (ch) => ch.deleteExchange(x));
  return result;
});

await check("binding-missing-ends", async () => {
  const nq = unique("nq");
  const nx = unique("nx");
  const nx2 = unique("nx2");
  return {
    nq,
    nx,
    nx2,
    // rabbit_binding looks up the source first.
    bindBothMissing: await onFreshChannel(conn, (ch) => ch.bindQueue(nq, nx, "k")),
    bindExchangeBothMissing: await onFreshChannel(conn, (ch) => ch.bindExchange(nx, nx2, "k")),
    // Unbinding is idempotent in RabbitMQ 3.x: missing ends or bindings are unbind-ok.
    unbindMissingQueue: await onFreshChannel(conn, (ch) => ch.unbindQueue(nq, "amq.direct", "k")),
    unbindMissingExchange: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.unbindQueue(queue, nx, "k");
    }),
    unbindMissingBinding: await onFreshChannel(conn, async (ch) => {
      const { queue } = await ch.assertQueue("", { exclusive: true });
      return ch.unbindQueue(queue, "amq.direct", "never-bound");
    }),
    unbindExchangeMissingSource: await onFreshChannel(conn, (ch) => ch.unbindExchange("amq.direct", nx, "k")),
    unbindExchangeMissingDestination: await onFreshChannel(conn, (ch) => ch.unbindExchange(nx, "amq.direct", "k")),
    // The default exchange is still refused.
    unbindDefault: await onFreshChannel(conn, (ch) => ch.unbindQueue(nq, "", "k")),
  };
});

await check("binding-locked-queue", async () => {
  const owner = await amqp.connect(url);
  const q = unique("locked");
  await onFreshChannel(owner, async (ch) => {
    await ch.assertQueue(q, { exclusive: true });
    await ch.bindQueue(q, "amq.direct", "bound");
  });
  const result = {
    q,
    bind: await onFreshChannel(conn, (ch) => ch.bindQueue(q, "amq.direct", "other")),
    bindMissingExchange: await onFreshChannel(conn, (ch) => ch.bindQueue(q, "no-such-exchange", "k")),
    unbindExisting: await onFreshChannel(conn, (ch) => ch.unbindQueue(q, "amq.direct", "bound")),
    unbindNonexistent: await onFreshChannel(conn, (ch) => ch.unbindQueue(q, "amq.direct", "never")),
  };
  await owner.close();
  return result;
});

await check("delete-if-unused", async () => {
  const source = unique("src");
  const destinationOnly = unique("dst");
  const queue = unique("q");
  await onFreshChannel(conn, async (ch) => {
    await ch.assertExchange(source, "fanout", { durable: false });
    await ch.assertExchange(destinationOnly, "fanout", { durable: false });
    await ch.assertQueue(queue, { exclusive: true });
    await ch.bindQueue(queue, source, "");
    await ch.bindExchange(destinationOnly, source, "");
  });
  const inUse = await onFreshChannel(conn, (ch) => ch.deleteExchange(source, { ifUnused: true }));
  const stillThere = await onFreshChannel(conn, (ch) => ch.checkExchange(source));
  // Being only the destination of a binding does not count as in use.
  const destination = await onFreshChannel(conn, (ch) => ch.deleteExchange(destinationOnly, { ifUnused: true }));
  const destinationGone = await onFreshChannel(conn, (ch) => ch.checkExchange(destinationOnly));
  await onFreshChannel(conn, (ch) => ch.unbindQueue(queue, source, ""));
  const unused = await onFreshChannel(conn, (ch) => ch.deleteExchange(source, { ifUnused: true }));
  const gone = await onFreshChannel(conn, (ch) => ch.checkExchange(source));
  return { source, inUse, stillThere, destination, destinationGone, unused, gone };
});

await check("internal-exchange", async () => {
  const internal = unique("internal");
  const front = unique("front");
  const queue = unique("q");
  await onFreshChannel(conn, async (ch) => {
    await ch.assertExchange(internal, "fanout", { durable: false, internal: true });
    await ch.assertExchange(front, "fanout", { durable: false });
    await ch.bindExchange(internal, front, "");
    await ch.assertQueue(queue, { durable: false });
    await ch.bindQueue(queue, internal, "");
  });
  const direct = await onFreshChannel(conn, async (ch) => {
    ch.publish(internal, "", Buffer.from("direct"));
    await ch.waitForConfirms();
  }, { confirm: true });
  // Through an exchange-to-exchange binding an internal exchange does route.
  const viaFront = await onFreshChannel(conn, async (ch) => {
    ch.publish(front, "", Buffer.from("via-front"));
    await ch.waitForConfirms();
    return drain(ch, queue);
  }, { confirm: true });
  await onFreshChannel(conn, async (ch) => {
    await ch.deleteQueue(queue);
    await ch.deleteExchange(front);
    await ch.deleteExchange(internal);
  });
  return { internal, direct, viaFront };
});

await check("auto-delete-exchange", async () => {
  const x = unique("auto");
  const q1 = unique("q1");
  const q2 = unique("q2");
  const neverBound = unique("never");
  const byQueueDelete = unique("byq");
  const q3 = unique("q3");
  await onFreshChannel(conn, async (ch) => {
    await ch.assertExchange(x, "direct", { durable: false, autoDelete: true });
    await ch.assertExchange(neverBound, "direct", { durable: false, autoDelete: true });
    await ch.assertExchange(byQueueDelete, "direct", { durable: false, autoDelete: true });
    await ch.assertQueue(q1, { durable: false });
    await ch.assertQueue(q2, { durable: false });
    await ch.assertQueue(q3, { durable: false });
    await ch.bindQueue(q1, x, "k");
    await ch.bindQueue(q2, x, "k");
    await ch.bindQueue(q3, byQueueDelete, "k");
  });
  const neverBoundStays = await onFreshChannel(conn, (ch) => ch.checkExchange(neverBound));
  await onFreshChannel(conn, (ch) => ch.unbindQueue(q1, x, "k"));
  const afterFirstUnbind = await onFreshChannel(conn, (ch) => ch.checkExchange(x));
  await onFreshChannel(conn, (ch) => ch.unbindQueue(q2, x, "k"));
  const afterLastUnbind = await onFreshChannel(conn, (ch) => ch.checkExchange(x));
  // Deleting the only bound queue removes the binding, and with it the exchange.
  await onFreshChannel(conn, (ch) => ch.deleteQueue(q3));
  const afterQueueDelete = await onFreshChannel(conn, (ch) => ch.checkExchange(byQueueDelete));
  await onFreshChannel(conn, async (ch) => {
    await ch.deleteQueue(q1);
    await ch.deleteQueue(q2);
    await ch.deleteExchange(neverBound);
  });
  return { x, neverBoundStays, afterFirstUnbind, afterLastUnbind, afterQueueDelete };
});

await check("alternate-exchange", async () => {
  const ae = unique("ae");
  const main = unique("main");
  const routedQ = unique("routed");
  const aeQ = unique("unrouted");
  const setup = await onFreshChannel(conn, async (ch) => {
    await ch.assertExchange(ae, "fanout", { durable: false });
    await ch.assertExchange(main, "direct", { durable: false, alternateExchange: ae });
    await ch.assertQueue(routedQ, { durable: false });
    await ch.assertQueue(aeQ, { durable: false });
    await ch.bindQueue(routedQ, main, "known");
    await ch.bindQueue(aeQ, ae, "");
  });
  const returns = [];
  const published = await onFreshChannel(conn, async (ch) => {
    ch.on("return", (msg) => returns.push(msg.content.toString()));
    ch.publish(main, "known", Buffer.from("known"), { mandatory: true });
    ch.publish(main, "unknown", Buffer.from("unknown"), { mandatory: true });
    await ch.waitForConfirms();
    return { routed: await drain(ch, routedQ), alternate: await drain(ch, aeQ) };
  }, { confirm: true });
  // A redeclare naming another alternate exchange, or none, is inequivalent; so is adding one.
  const otherAe = await onFreshChannel(conn, (ch) => ch.assertExchange(main, "direct", { durable: false, alternateExchange: "amq.fanout" }));
  const withoutAe = await onFreshChannel(conn, (ch) => ch.assertExchange(main, "direct", { durable: false }));
  const sameAe = await onFreshChannel(conn, (ch) => ch.assertExchange(main, "direct", { durable: false, alternateExchange: ae }));
  const addedAe = await onFreshChannel(conn, (ch) => ch.assertExchange(ae, "fanout", { durable: false, alternateExchange: "amq.fanout" }));
  await onFreshChannel(conn, async (ch) => {
    await ch.deleteQueue(routedQ);
    await ch.deleteQueue(aeQ);
    await ch.deleteExchange(main);
    await ch.deleteExchange(ae);
  });
  return { main, ae, setup, published, returns, otherAe, withoutAe, sameAe, addedAe };
});

await check("exchange-to-exchange", async () => {
  const topic = unique("e2e-topic");
  const fanout = unique("e2e-fanout");
  const x1 = unique("cycle1");
  const x2 = unique("cycle2");
  const qFan = unique("qfan");
  const qCycle = unique("qcycle");
  const result = await onFreshChannel(conn, async (ch) => {
    await ch.assertExchange(topic, "topic", { durable: false });
    await ch.assertExchange(fanout, "fanout", { durable: false });
    await ch.bindExchange(fanout, topic, "logs.#");
    await ch.assertQueue(qFan, { durable: false });
    await ch.bindQueue(qFan, fanout, "");
    // A cycle x1 -> x2 -> x1, with the queue bound to both: one copy per publish.
    await ch.assertExchange(x1, "fanout", { durable: false });
    await ch.assertExchange(x2, "fanout", { durable: false });
    await ch.bindExchange(x2, x1, "");
    await ch.bindExchange(x1, x2, "");
    await ch.assertQueue(qCycle, { durable: false });
    await ch.bindQueue(qCycle, x1, "");
    await ch.bindQueue(qCycle, x2, "");
    ch.publish(topic, "logs.error", Buffer.from("logs.error"));
    ch.publish(topic, "metrics.cpu", Buffer.from("metrics.cpu"));
    ch.publish(x1, "", Buffer.from("into-x1"));
    ch.publish(x2, "", Buffer.from("into-x2"));
    await ch.waitForConfirms();
    const viaTopic = await drain(ch, qFan);
    const cycle = (await drain(ch, qCycle)).sort();
    // Unbinding the exchange binding stops the flow.
    await ch.unbindExchange(fanout, topic, "logs.#");
    ch.publish(topic, "logs.info", Buffer.from("logs.info"));
    await ch.waitForConfirms();
    const afterUnbind = await drain(ch, qFan);
    for (const q of [qFan, qCycle]) await ch.deleteQueue(q);
    for (const x of [topic, fanout, x1, x2]) await ch.deleteExchange(x);
    return { viaTopic, cycle, afterUnbind };
  }, { confirm: true });
  return result;
});

// Connection-level errors close the connection, so each gets its own.
async function onFreshConnection(fn) {
  const c = await amqp.connect(url);
  let connectionError = null;
  const closed = new Promise((resolve) => c.once("close", resolve));
  c.on("error", (err) => { connectionError = err; });
  const ch = await c.createChannel();
  ch.on("error", () => {});
  let result;
  try {
    result = { ok: true, value: await within(fn(ch), 5_000, "operation") };
  } catch (err) {
    result = { ok: false, error: describeError(err) };
  }
  const wasClosed = await within(closed, 5_000, "connection close").then(() => true, () => false);
  if (!wasClosed) await c.close().catch(() => {});
  return { ...result, connectionClosed: wasClosed, connectionError: describeError(connectionError), close: connectionCloses.pop() ?? null };
}

await check("unknown-exchange-type", async () => ({
  declare: await onFreshConnection((ch) => ch.assertExchange(unique("weird"), "no-such-type")),
  // A passive declare does not look at the type.
  passive: await onFreshChannel(conn, (ch) => ch.checkExchange("amq.direct")),
}));

await conn.close();
emit("done");
