import { amqp, emit, onFreshChannel, unique, url, drain } from "./amqplib_common.mjs";
const conn = await amqp.connect(url);
const b = async (label, fn, opts) => { const r = await onFreshChannel(conn, fn, opts); emit(label, r.ok ? { ok: true, v: r.value } : { code: r.channelError?.code ?? r.error?.code, text: (r.channelError ?? r.error)?.message.replace(/^.*with message /, ""), c: r.channelError?.classId, m: r.channelError?.methodId }); };
for (const exp of ["+5", "12abc", "-0", "4294967295", "4294967296", "99999999999999999999", "1e3", "٣"]) {
  await b("expiration " + JSON.stringify(exp), async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { expiration: exp }); await ch.waitForConfirms(); return 1; }, { confirm: true });
}
for (const dm of [0, 1, 2, 3, 255]) await b("dm " + dm, async (ch) => { const { queue } = await ch.assertQueue("", { exclusive: true }); ch.sendToQueue(queue, Buffer.from("x"), { deliveryMode: dm }); await ch.waitForConfirms(); return 1; }, { confirm: true });
await b("uid+dm+exp", async (ch) => { ch.sendToQueue("x", Buffer.from("x"), { deliveryMode: 3, expiration: "abc", userId: "bob" }); await ch.waitForConfirms(); return 1; }, { confirm: true });
await b("dm+exp", async (ch) => { ch.sendToQueue("x", Buffer.from("x"), { deliveryMode: 3, expiration: "abc" }); await ch.waitForConfirms(); return 1; }, { confirm: true });
await b("missingx+dm", async (ch) => { ch.publish("nope-x", "k", Buffer.from("x"), { deliveryMode: 3 }); await ch.waitForConfirms(); return 1; }, { confirm: true });
await conn.close();
