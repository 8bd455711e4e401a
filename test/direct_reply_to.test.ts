// Direct reply-to (amq.rabbitmq.reply-to) through @cloudamqp/amqp-client, as RabbitMQ users rely on it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AMQPClient, type AMQPMessage } from "@cloudamqp/amqp-client";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

let broker: BrokerProcess;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.dispose();
});

test("a request with reply-to amq.rabbitmq.reply-to gets its reply on the requester's channel", async () => {
  const server = await new AMQPClient(broker.url).connect();
  const client = await new AMQPClient(broker.url).connect();
  try {
    const sch = await server.channel();
    const rpc = await sch.queue("rpc-requests", { autoDelete: true });
    await rpc.subscribe({ noAck: true }, async (msg: AMQPMessage) => {
      const replyTo = msg.properties.replyTo!;
      await sch.basicPublish("", replyTo, `re: ${msg.bodyToString()}`, { correlationId: msg.properties.correlationId! });
    });
    const cch = await client.channel();
    const replies: { body: string | null; correlationId: string | undefined; routingKey: string }[] = [];
    let resolveGot = () => {};
    const got = new Promise<void>((resolve) => (resolveGot = resolve));
    await cch.basicConsume("amq.rabbitmq.reply-to", { noAck: true }, (msg) => {
      replies.push({ body: msg.bodyToString(), correlationId: msg.properties.correlationId, routingKey: msg.routingKey });
      if (replies.length === 2) resolveGot();
    });
    await cch.basicPublish("", "rpc-requests", "ping 1", { replyTo: "amq.rabbitmq.reply-to", correlationId: "c1" });
    await cch.basicPublish("", "rpc-requests", "ping 2", { replyTo: "amq.rabbitmq.reply-to", correlationId: "c2" });
    await Promise.race([got, Bun.sleep(5000).then(() => { throw new Error("replies did not arrive"); })]);
    expect(replies.map((r) => [r.body, r.correlationId])).toEqual([["re: ping 1", "c1"], ["re: ping 2", "c2"]]);
    expect(replies[0]!.routingKey.startsWith("amq.rabbitmq.reply-to.")).toBe(true);
  } finally {
    await client.close();
    await server.close();
  }
});

test("publishing with reply-to amq.rabbitmq.reply-to without consuming replies is 406", async () => {
  const conn = await new AMQPClient(broker.url).connect();
  try {
    const ch = await conn.channel();
    await ch.basicPublish("", "nowhere", "x", { replyTo: "amq.rabbitmq.reply-to" });
    const error = await ch.queueDeclare("", { exclusive: true }).then(() => null, (e: Error) => e);
    expect(error?.message).toContain("PRECONDITION_FAILED - fast reply consumer does not exist");
  } finally {
    await conn.close();
  }
});

test("consuming replies with acknowledgements is 406", async () => {
  const conn = await new AMQPClient(broker.url).connect();
  try {
    const ch = await conn.channel();
    const error = await ch.basicConsume("amq.rabbitmq.reply-to", { noAck: false }, () => {}).then(() => null, (e: Error) => e);
    expect(error?.message).toContain("PRECONDITION_FAILED - reply consumer cannot acknowledge");
  } finally {
    await conn.close();
  }
});

test("the rpc pattern of one session, repeated: server and reply consumers set up on one connection, first call at once", async () => {
  // As amqp-client's rpcServer/rpcClient do it: the server declares a fixed queue and consumes
  // (prefetch 1, acks), the client consumes amq.rabbitmq.reply-to on another channel of the same
  // connection and calls at once; the queue is deleted after each round while its consumer is on it.
  const conn = await new AMQPClient(broker.url).connect();
  try {
    for (let round = 0; round < 100; round++) {
      const sch = await conn.channel();
      await sch.prefetch(1);
      await sch.queueDeclare("rpc-test-queue", { durable: true, autoDelete: false, exclusive: false });
      await sch.basicConsume("rpc-test-queue", { noAck: false }, async (msg: AMQPMessage) => {
        await sch.basicPublish("", msg.properties.replyTo!, `reply:${msg.bodyToString()}`, { correlationId: msg.properties.correlationId! });
        await msg.ack();
      });
      const cch = await conn.channel();
      let resolveReply: (r: string) => void = () => {};
      const reply = new Promise<string>((resolve, reject) => {
        resolveReply = resolve;
        setTimeout(() => reject(new Error(`round ${round}: no reply`)), 5000).unref();
      });
      await cch.basicConsume("amq.rabbitmq.reply-to", { noAck: true }, (msg) => resolveReply(`${msg.properties.correlationId}:${msg.bodyToString()}`));
      await cch.basicPublish("", "rpc-test-queue", "hello", { replyTo: "amq.rabbitmq.reply-to", correlationId: String(round) });
      expect(await reply).toBe(`${round}:reply:hello`);
      await sch.queueDelete("rpc-test-queue");
      await cch.close();
      await sch.close();
    }
  } finally {
    await conn.close();
  }
}, 60_000);
