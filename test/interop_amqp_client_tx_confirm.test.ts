// @cloudamqp/amqp-client against a real Warren process: transactions (tx.select / commit /
// rollback, acks inside a transaction) and publisher confirms (every publish confirmed, unroutable
// and persistent publishes, nacks from reject-publish queues, mode conflicts). Expected codes and
// texts are RabbitMQ 3.x's. Set INTEROP_REFERENCE_URL to run the same file against a RabbitMQ.
import { expect, test } from "bun:test";
import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";
import { drain, errorOf, interopBroker, publisher, readyCount, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

interface Confirm {
  tag: number;
  multiple: boolean;
  nack: boolean;
}

/** Records every basic.ack / basic.nack the channel receives from the server, as they arrive. */
function recordConfirms(ch: AMQPChannel, events: string[] = []): Confirm[] {
  const log: Confirm[] = [];
  const publishConfirmed = ch.publishConfirmed.bind(ch);
  ch.publishConfirmed = (tag: number, multiple: boolean, nack: boolean) => {
    log.push({ tag, multiple, nack });
    events.push(`${nack ? "nack" : "ack"}:${tag}`);
    publishConfirmed(tag, multiple, nack);
  };
  return log;
}

/**
 * Expands (multiple) confirms to one outcome per publish sequence number; throws when a number
 * is confirmed twice or a multiple confirm covers nothing new.
 */
function outcomes(log: readonly Confirm[]): Map<number, "ack" | "nack"> {
  const out = new Map<number, "ack" | "nack">();
  for (const c of log) {
    const outcome = c.nack ? "nack" : "ack";
    if (!c.multiple) {
      if (out.has(c.tag)) throw new Error(`tag ${c.tag} confirmed twice`);
      out.set(c.tag, outcome);
      continue;
    }
    let fresh = 0;
    for (let t = 1; t <= c.tag; t++) {
      if (out.has(t)) continue;
      out.set(t, outcome);
      fresh++;
    }
    if (fresh === 0) throw new Error(`multiple confirm up to ${c.tag} covered nothing new`);
  }
  return out;
}

// --- transactions --------------------------------------------------------------------------

test("publishes in a transaction are invisible until tx.commit", async () => {
  const conn = await connect();
  const check = await conn.channel();
  const q = await check.queue(uniq("tx-pub"), { durable: false });
  const tx = await conn.channel();
  await tx.txSelect();
  for (const body of ["a", "b", "c"]) await tx.basicPublish("", q.name, body);
  // A round trip on the tx channel: the server has handled the three publishes.
  await tx.basicQos(0);
  expect(await readyCount(check, q.name)).toBe(0);
  await tx.txCommit();
  expect(await readyCount(check, q.name)).toBe(3);
  expect(await drain(check, q.name)).toEqual(["a", "b", "c"]);

  // The channel stays transactional after a commit.
  await tx.basicPublish("", q.name, "d");
  await tx.basicQos(0);
  expect(await readyCount(check, q.name)).toBe(0);
  await tx.txCommit();
  expect(await drain(check, q.name)).toEqual(["d"]);
});

test("tx.rollback discards the publishes of the transaction", async () => {
  const conn = await connect();
  const check = await conn.channel();
  const q = await check.queue(uniq("tx-rollback"), { durable: false });
  const tx = await conn.channel();
  await tx.txSelect();
  await tx.basicPublish("", q.name, "x");
  await tx.basicPublish("", q.name, "y");
  await tx.txRollback();
  expect(await readyCount(check, q.name)).toBe(0);
  await tx.basicPublish("", q.name, "z");
  await tx.txCommit();
  expect(await drain(check, q.name)).toEqual(["z"]);
});

test("acks inside a transaction take effect only at tx.commit", async () => {
  const conn = await connect();
  const check = await conn.channel();
  const q = await check.queue(uniq("tx-ack"), { durable: false });
  const pub = await publisher(conn);
  for (const body of ["m1", "m2"]) await pub.basicPublish("", q.name, body);

  // Acked but not committed: closing the channel requeues both.
  const uncommitted = await conn.channel();
  await uncommitted.txSelect();
  await uncommitted.basicGet(q.name, { noAck: false });
  const second = await uncommitted.basicGet(q.name, { noAck: false });
  await uncommitted.basicAck(second!.deliveryTag, true);
  await uncommitted.basicQos(0);
  await uncommitted.close();
  expect(await readyCount(check, q.name)).toBe(2);

  // Acked and committed: closing the channel requeues nothing.
  const committed = await conn.channel();
  await committed.txSelect();
  const a = await committed.basicGet(q.name, { noAck: false });
  const b = await committed.basicGet(q.name, { noAck: false });
  expect([a?.bodyToString(), a?.redelivered, b?.bodyToString(), b?.redelivered]).toEqual(["m1", true, "m2", true]);
  await committed.basicAck(a!.deliveryTag);
  await committed.basicAck(b!.deliveryTag);
  await committed.txCommit();
  await committed.close();
  expect(await drain(check, q.name)).toEqual([]);
});

test("a reject rolled back leaves the message to return when the channel closes", async () => {
  const conn = await connect();
  const check = await conn.channel();
  const q = await check.queue(uniq("tx-reject"), { durable: false });
  await (await publisher(conn)).basicPublish("", q.name, "keep");
  const tx = await conn.channel();
  await tx.txSelect();
  const msg = await tx.basicGet(q.name, { noAck: false });
  await tx.basicReject(msg!.deliveryTag, false);
  await tx.txRollback();
  await tx.close();
  expect(await drain(check, q.name)).toEqual(["keep*"]);
});

test("rolled back acks leave their deliveries unacked under the same tags", async () => {
  const conn = await connect();
  const check = await conn.channel();
  const q = await check.queue(uniq("tx-reack"), { durable: false });
  const pub = await publisher(conn);
  for (const body of ["m1", "m2", "m3"]) await pub.basicPublish("", q.name, body);
  const tx = await conn.channel();
  await tx.txSelect();
  const tags: number[] = [];
  for (let i = 0; i < 3; i++) tags.push((await tx.basicGet(q.name, { noAck: false }))!.deliveryTag);
  expect(tags).toEqual([1, 2, 3]);
  await tx.basicAck(3, true);
  await tx.txRollback();
  // Not requeued: still held by the channel.
  expect(await readyCount(check, q.name)).toBe(0);
  // The tags are valid again: ack one of them for real.
  await tx.basicAck(2);
  await tx.txCommit();
  expect(tx.closed).toBe(false);
  await tx.close();
  expect(await drain(check, q.name)).toEqual(["m1*", "m3*"]);
});

test("tx.commit and tx.rollback without tx.select close the channel with 406", async () => {
  const conn = await connect();
  const commit = await conn.channel();
  expect(await errorOf(commit.txCommit())).toBe(`channel ${commit.id} closed: PRECONDITION_FAILED - channel is not transactional (406)`);
  const rollback = await conn.channel();
  expect(await errorOf(rollback.txRollback())).toBe(`channel ${rollback.id} closed: PRECONDITION_FAILED - channel is not transactional (406)`);
  expect(conn.closed).toBe(false);
});

// --- publisher confirms --------------------------------------------------------------------

test("every publish on a confirm channel is acked exactly once", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("confirm"), { durable: false });
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  const tags = await Promise.all(Array.from({ length: 500 }, (_, i) => ch.basicPublish("", q.name, `m${i}`)));
  expect(tags).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  const result = outcomes(log);
  expect([...result.keys()].sort((a, b) => a - b)).toEqual(tags);
  expect([...result.values()].every((o) => o === "ack")).toBe(true);
  // Confirms arrive in increasing order.
  expect(log.map((c) => c.tag)).toEqual([...log.map((c) => c.tag)].sort((a, b) => a - b));
  expect(await readyCount(ch, q.name)).toBe(500);
});

test("unroutable publishes are confirmed too", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  expect(await ch.basicPublish("amq.direct", uniq("nobody-bound"), "lost")).toBe(1);
  expect(await ch.basicPublish("", uniq("no-such-queue"), "lost")).toBe(2);
  expect(outcomes(log)).toEqual(new Map([[1, "ack"], [2, "ack"]]));
});

test("an unroutable mandatory publish is returned before it is acked", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  const events: string[] = [];
  recordConfirms(ch, events);
  const returned: AMQPMessage[] = [];
  ch.onReturn = (msg: AMQPMessage) => {
    events.push(`return:${msg.bodyToString()}`);
    returned.push(msg);
  };
  const key = uniq("unrouted");
  expect(await ch.basicPublish("amq.direct", key, "bounce", {}, true)).toBe(1);
  expect(events).toEqual(["return:bounce", "ack:1"]);
  expect([returned[0]!.replyCode, returned[0]!.replyText, returned[0]!.exchange, returned[0]!.routingKey]).toEqual([
    312, "NO_ROUTE", "amq.direct", key,
  ]);
});

test("persistent publishes to a durable queue are confirmed", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("durable-confirm"), { durable: true });
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  const tags = await Promise.all(
    Array.from({ length: 100 }, (_, i) => ch.basicPublish("", q.name, `p${i}`, { deliveryMode: 2 })),
  );
  expect(tags).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect([...outcomes(log).values()].filter((o) => o === "ack").length).toBe(100);
  const first = await ch.basicGet(q.name, { noAck: true });
  expect([first?.bodyToString(), first?.properties.deliveryMode, first?.messageCount]).toEqual(["p0", 2, 99]);
  await ch.queueDelete(q.name);
});

test("a publish refused by an x-overflow reject-publish queue is nacked", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("full"), { durable: false }, { "x-max-length": 1, "x-overflow": "reject-publish" });
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  expect(await ch.basicPublish("", q.name, "fits")).toBe(1);
  expect(await errorOf(ch.basicPublish("", q.name, "refused"))).toBe("Message rejected");
  expect(outcomes(log)).toEqual(new Map([[1, "ack"], [2, "nack"]]));
  expect(await drain(ch, q.name)).toEqual(["fits"]);
  // Room again: the next publish is acked.
  expect(await ch.basicPublish("", q.name, "fits again")).toBe(3);
  expect(outcomes(log).get(3)).toBe("ack");
});

test("a publish refused by one of two queues is nacked, the other queue still gets it", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const exchange = uniq("fan");
  await ch.exchangeDeclare(exchange, "fanout", { durable: false, autoDelete: false });
  const full = await ch.queue(uniq("full"), { durable: false }, { "x-max-length": 1, "x-overflow": "reject-publish" });
  const open = await ch.queue(uniq("open"), { durable: false });
  await full.bind(exchange);
  await open.bind(exchange);
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  expect(await ch.basicPublish(exchange, "", "one")).toBe(1);
  expect(await errorOf(ch.basicPublish(exchange, "", "two"))).toBe("Message rejected");
  expect(outcomes(log)).toEqual(new Map([[1, "ack"], [2, "nack"]]));
  expect(await drain(ch, full.name)).toEqual(["one"]);
  expect(await drain(ch, open.name)).toEqual(["one", "two"]);
  await ch.exchangeDelete(exchange);
});

test("confirm.select twice is allowed", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  await ch.confirmSelect();
  const log = recordConfirms(ch);
  expect(await ch.basicPublish("", uniq("void"), "x")).toBe(1);
  expect(outcomes(log).get(1)).toBe("ack");
});

test("confirm.select on a transactional channel closes it with 406", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.txSelect();
  expect(await errorOf(ch.confirmSelect())).toBe(
    `channel ${ch.id} closed: PRECONDITION_FAILED - cannot switch from tx to confirm mode (406)`,
  );
});

test("tx.select on a confirm channel closes it with 406", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  expect(await errorOf(ch.txSelect())).toBe(
    `channel ${ch.id} closed: PRECONDITION_FAILED - cannot switch from confirm to tx mode (406)`,
  );
});
