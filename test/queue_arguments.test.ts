// Queue declare arguments and queue types, answered with RabbitMQ 3.x's codes and texts
// (rabbit_amqqueue:check_arguments, the quorum queue's declare checks), and the equivalence of a
// redeclare. Runs against RabbitMQ too with INTEROP_REFERENCE_URL, except the test of arguments
// Warren refuses because it does not implement them.
import { expect, test } from "bun:test";
import { errorOf, interopBroker, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();
const againstReference = process.env["INTEROP_REFERENCE_URL"] !== undefined;

async function declareError(name: string, options: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean }, args: Record<string, unknown>): Promise<string> {
  const conn = await connect();
  const ch = await conn.channel();
  return errorOf(ch.queueDeclare(name, { durable: false, ...options }, args));
}

test("invalid argument values are refused with 406 and RabbitMQ's texts", async () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ "x-message-ttl": -1 }, "x-message-ttl", "{value_negative,-1}"],
    [{ "x-message-ttl": "10" }, "x-message-ttl", '"expected integer, got longstr"'],
    [{ "x-max-length": -1 }, "x-max-length", "{value_negative,-1}"],
    [{ "x-max-length-bytes": -5 }, "x-max-length-bytes", "{value_negative,-5}"],
    [{ "x-expires": 0 }, "x-expires", "{value_zero,0}"],
    [{ "x-expires": -1 }, "x-expires", "{value_negative,-1}"],
    [{ "x-max-priority": 256 }, "x-max-priority", "{max_value_exceeded,256}"],
    [{ "x-overflow": "foo" }, "x-overflow", "invalid_overflow"],
    [{ "x-queue-type": "foo" }, "x-queue-type", `"unsupported queue type 'foo'"`],
    [{ "x-queue-mode": "foo" }, "x-queue-mode", `"unsupported queue mode 'foo'"`],
    [{ "x-dead-letter-routing-key": "k" }, "x-dead-letter-routing-key", "routing_key_but_no_dlx_defined"],
    [{ "x-single-active-consumer": "yes" }, "x-single-active-consumer", "{unacceptable_type,longstr}"],
  ];
  for (const [args, key, term] of cases) {
    const name = uniq("badarg");
    expect(await declareError(name, {}, args)).toContain(`PRECONDITION_FAILED - invalid arg '${key}' for queue '${name}' in vhost '/': ${term}`);
  }
});

test("quorum queues are durable, not exclusive, not auto-delete and without priorities", async () => {
  const cases: [{ durable?: boolean; exclusive?: boolean; autoDelete?: boolean }, Record<string, unknown>, (name: string) => string][] = [
    [{ durable: false }, {}, (n) => `invalid property 'non-durable' for queue '${n}' in vhost '/'`],
    [{ durable: true, exclusive: true }, {}, (n) => `invalid property 'exclusive-owner' for queue '${n}' in vhost '/'`],
    [{ durable: true, autoDelete: true }, {}, (n) => `invalid property 'auto-delete' for queue '${n}' in vhost '/'`],
    [{ durable: true }, { "x-max-priority": 5 }, (n) => `invalid arg 'x-max-priority' for queue '${n}' in vhost '/' of queue type rabbit_quorum_queue`],
  ];
  for (const [options, args, text] of cases) {
    const name = uniq("qq");
    expect(await declareError(name, options, { "x-queue-type": "quorum", ...args })).toContain(`PRECONDITION_FAILED - ${text(name)}`);
  }
  const conn = await connect();
  const ch = await conn.channel();
  const name = uniq("qq-ok");
  const ok = await ch.queueDeclare(name, { durable: true }, { "x-queue-type": "quorum" });
  expect(ok.name).toBe(name);
  await ch.queueDelete(name);
});

test("a stream queue is refused: not a silent classic queue", async () => {
  const name = uniq("stream");
  expect(await declareError(name, { durable: false }, { "x-queue-type": "stream" })).toContain(`invalid property 'non-durable' for queue '${name}' in vhost '/'`);
  if (againstReference) return; // RabbitMQ has streams
  const durable = uniq("stream");
  expect(await declareError(durable, { durable: true }, { "x-queue-type": "stream" })).toContain(`PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${durable}' in vhost '/': "unsupported queue type 'stream'"`);
});

test("an absent x-queue-type and x-queue-type classic are equivalent, both ways", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const a = uniq("cls");
  await ch.queueDeclare(a, { durable: false });
  await ch.queueDeclare(a, { durable: false }, { "x-queue-type": "classic" });
  const b = uniq("cls");
  await ch.queueDeclare(b, { durable: false }, { "x-queue-type": "classic" });
  await ch.queueDeclare(b, { durable: false });
  expect(await errorOf(ch.queueDeclare(b, { durable: false }, { "x-queue-type": "quorum" }))).toContain(`inequivalent arg 'x-queue-type' for queue '${b}' in vhost '/': received 'quorum' but current is 'classic'`);
  const ch2 = await conn.channel();
  await ch2.queueDelete(a);
  await ch2.queueDelete(b);
});

test.skipIf(againstReference)("arguments whose behaviour Warren does not implement are refused, not stored and ignored", async () => {
  for (const args of [{ "x-dead-letter-exchange": "dlx" }, { "x-max-priority": 10 }, { "x-expires": 1000 }, { "x-single-active-consumer": true }, { "x-delivery-limit": 3 }]) {
    const name = uniq("unimpl");
    const key = Object.keys(args)[0]!;
    expect(await declareError(name, {}, args)).toContain(`PRECONDITION_FAILED - invalid arg '${key}' for queue '${name}' in vhost '/': not_implemented`);
  }
});

test("x-message-ttl 0 and expiration 0: a message nobody takes at once is gone", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("ttl0"), { exclusive: true }, { "x-message-ttl": 0 });
  await q.publish("a");
  const q2 = await ch.queue(uniq("exp0"), { exclusive: true });
  await q2.publish("b", { expiration: "0" });
  await Bun.sleep(50);
  expect(await ch.basicGet(q.name, { noAck: true })).toBeNull();
  expect(await ch.basicGet(q2.name, { noAck: true })).toBeNull();
});
