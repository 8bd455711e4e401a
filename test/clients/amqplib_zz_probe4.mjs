import { amqp, emit, onFreshChannel, unique, url, drain } from "./amqplib_common.mjs";
const conn = await amqp.connect(url);
const b = async (label, fn, opts) => { const r = await onFreshChannel(conn, fn, opts); emit(label, r.ok ? { ok: true, v: r.value } : { code: r.channelError?.code ?? r.error?.code, text: (r.channelError ?? r.error)?.message.replace(/^.*with message /, ""), c: r.channelError?.classId, m: r.channelError?.methodId }); };
for (const exp of ["abc", "-1", "1.5", "", " 100", "0"]) {
  await b("expiration " + JSON.stringify(exp), async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { expiration: exp }); await ch.waitForConfirms(); return (await drain(ch, queue)).length; }, { confirm: true });
}
await b("cc-bcc", async (ch) => {
  const qs = [];
  for (const k of ["a", "b", "c"]) { const { queue } = await ch.assertQueue("", { exclusive: true }); await ch.bindQueue(queue, "amq.direct", "ccx-" + k); qs.push(queue); }
  ch.publish("amq.direct", "ccx-a", Buffer.from("m"), { CC: ["ccx-b"], BCC: ["ccx-c"] });
  await ch.waitForConfirms();
  const out = [];
  for (const q of qs) { const m = await ch.get(q, { noAck: true }); out.push(m === false ? null : m.properties.headers); }
  return out;
}, { confirm: true });
await b("user-id-empty", async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { userId: "" }); await ch.waitForConfirms(); return (await drain(ch, queue)).length; }, { confirm: true });
await b("priority-255", async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { priority: 255 }); await ch.waitForConfirms(); const m = await ch.get(queue, { noAck: true }); return m.properties.priority; }, { confirm: true });
await b("deliverymode-3", async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { deliveryMode: 3 }); await ch.waitForConfirms(); const m = await ch.get(queue, { noAck: true }); return m.properties.deliveryMode; }, { confirm: true });
await b("mandatory-to-exchange-bound-to-nothing-e2e", async (ch) => {
  const x = unique("e2e"); await ch.assertExchange(x, "fanout", { durable: false }); await ch.bindExchange(x, "amq.fanout", "");
  const ret = []; ch.on("return", (m) => ret.push(m.fields));
  ch.publish("amq.fanout", "", Buffer.from("x"), { mandatory: true }); await ch.waitForConfirms(); await ch.deleteExchange(x); return ret;
}, { confirm: true });
await b("publish-exchange-trailing-space", async (ch) => { ch.publish("amq.direct ", "k", Buffer.from("x")); await ch.waitForConfirms(); }, { confirm: true });
await conn.close();
