// amqplib and the memory alarm: a publisher is blocked while the broker's watermark is below its
// memory use, is told so (connection.blocked), and after the watermark is raised through the
// management API (argv[3], e.g. http://127.0.0.1:15672) it is unblocked and everything it
// published arrives, in order. Usage: node amqplib_flow.mjs AMQP_URL MGMT_URL
import { amqp, check, unique, within } from "./amqplib_common.mjs";

const url = process.argv[2];
const mgmt = process.argv[3];

async function setWatermark(body) {
  const response = await fetch(`${mgmt}/api/vm-memory-high-watermark`, {
    method: "PUT",
    headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.status;
}

await check("blocked-then-unblocked", async () => {
  const queue = unique("flow");
  const conn = await amqp.connect(url);
  const events = [];
  const blocked = new Promise((resolve) => conn.once("blocked", (reason) => { events.push(`blocked:${reason}`); resolve(); }));
  const unblocked = new Promise((resolve) => conn.once("unblocked", () => { events.push("unblocked"); resolve(); }));
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: false });
  const sent = [];
  for (let i = 0; i < 500; i++) {
    sent.push(`m${i}`);
    ch.sendToQueue(queue, Buffer.from(`m${i}`));
  }
  await within(blocked, 5_000, "connection.blocked");
  const raised = await setWatermark({ fraction: 0.9 });
  await within(unblocked, 5_000, "connection.unblocked");
  for (let i = 500; i < 1000; i++) {
    sent.push(`m${i}`);
    ch.sendToQueue(queue, Buffer.from(`m${i}`));
  }
  await within(ch.waitForConfirms(), 10_000, "confirms");
  const reader = await amqp.connect(url);
  const rch = await reader.createChannel();
  const received = [];
  for (;;) {
    const msg = await rch.get(queue, { noAck: true });
    if (msg === false) break;
    received.push(msg.content.toString());
  }
  await reader.close();
  await conn.close();
  return { events, raised, sent: sent.length, received: received.length, inOrder: received.join(",") === sent.join(",") };
});
