// Sender-selected distribution: the CC and BCC headers add routing keys on every exchange type;
// BCC is removed before delivery; a CC or BCC that is not an array is refused, as RabbitMQ does.
// Runs against RabbitMQ too with INTEROP_REFERENCE_URL.
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { drain, errorOf, interopBroker, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

async function twoQueues(exchange: string, keyA: string, keyB: string) {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  const a = await ch.queue(uniq("ss-a"), { exclusive: true });
  const b = await ch.queue(uniq("ss-b"), { exclusive: true });
  if (exchange !== "") {
    await a.bind(exchange, keyA);
    await b.bind(exchange, keyB);
  }
  return { ch, a: a.name, b: b.name };
}

test("CC reaches a second queue through a direct exchange and the default exchange", async () => {
  const ka = uniq("ka");
  const kb = uniq("kb");
  const { ch, a, b } = await twoQueues("amq.direct", ka, kb);
  await ch.basicPublish("amq.direct", ka, "direct", { headers: { CC: [kb] } });
  expect(await drain(ch, a)).toEqual(["direct"]);
  expect(await drain(ch, b)).toEqual(["direct"]);
  await ch.basicPublish("", a, "default", { headers: { CC: [b, a] } });
  expect(await drain(ch, a)).toEqual(["default"]); // once, though named twice
  const got = await ch.basicGet(b, { noAck: true });
  expect(got?.bodyToString()).toBe("default");
  expect(got?.properties.headers?.["CC"]).toEqual([b, a]); // CC stays visible
});

test("CC matches topic bindings", async () => {
  const tag = uniq("t");
  const { ch, a, b } = await twoQueues("amq.topic", `${tag}.a.*`, `${tag}.b.#`);
  await ch.basicPublish("amq.topic", `${tag}.a.x`, "topic", { headers: { CC: [`${tag}.b.y.z`] } });
  expect(await drain(ch, a)).toEqual(["topic"]);
  expect(await drain(ch, b)).toEqual(["topic"]);
});

test("BCC routes like CC but is removed from the delivered message's headers", async () => {
  const ka = uniq("ka");
  const kb = uniq("kb");
  const { ch, a, b } = await twoQueues("amq.direct", ka, kb);
  await ch.basicPublish("amq.direct", ka, "secret", { headers: { BCC: [kb], other: "kept" } });
  for (const q of [a, b]) {
    const got = await ch.basicGet(q, { noAck: true });
    expect(got?.bodyToString()).toBe("secret");
    expect(got?.properties.headers).toEqual({ other: "kept" });
  }
});

test("mandatory: a publish that only CC or BCC routes is not returned; one nothing routes is", async () => {
  const kb = uniq("kb");
  const { ch, b } = await twoQueues("amq.direct", uniq("unused"), kb);
  const returned: AMQPMessage[] = [];
  ch.onReturn = (msg: AMQPMessage) => void returned.push(msg);
  await ch.basicPublish("amq.direct", uniq("nowhere"), "cc", { headers: { CC: [kb] } }, true);
  await ch.basicPublish("amq.direct", uniq("nowhere"), "bcc", { headers: { BCC: [kb] } }, true);
  await ch.basicPublish("amq.direct", uniq("nowhere"), "lost", { headers: { BCC: [uniq("nowhere")] } }, true);
  expect(await drain(ch, b)).toEqual(["cc", "bcc"]);
  expect(returned.map((m) => [m.bodyToString(), m.replyCode])).toEqual([["lost", 312]]);
});

test("a CC that is not an array closes the channel with 406", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("ss-bad"), { exclusive: true });
  await ch.basicPublish("", q.name, "x", { headers: { CC: "not-a-list" } });
  expect(await errorOf(ch.basicQos(1))).toContain(`PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}`);
});

test("array elements that are not strings are skipped; a BCC that is not an array is 406 too", async () => {
  const ka = uniq("ka");
  const kb = uniq("kb");
  const { ch, a, b } = await twoQueues("amq.direct", ka, kb);
  await ch.basicPublish("amq.direct", uniq("nowhere"), "mixed", { headers: { CC: [7, true, kb] } });
  expect(await drain(ch, a)).toEqual([]);
  expect(await drain(ch, b)).toEqual(["mixed"]);
  const plain = await (await connect()).channel(); // not in confirm mode: the close answers the next method
  await plain.basicPublish("amq.direct", ka, "x", { headers: { BCC: 5 } });
  expect(await errorOf(plain.basicQos(1))).toMatch(/PRECONDITION_FAILED - invalid message: \{unacceptable_type_in_header,"BCC",[a-z]+\}/);
});

test("on a fanout exchange, which ignores routing keys, BCC is still removed before delivery", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.confirmSelect();
  const x = uniq("ss-fanout");
  await ch.exchangeDeclare(x, "fanout", { autoDelete: true });
  const q = await ch.queue(uniq("ss-f"), { exclusive: true });
  await q.bind(x, "");
  await ch.basicPublish(x, "", "fan", { headers: { BCC: ["ignored"], CC: ["seen"] } });
  const got = await ch.basicGet(q.name, { noAck: true });
  expect(got?.bodyToString()).toBe("fan");
  expect(got?.properties.headers).toEqual({ CC: ["seen"] });
});
