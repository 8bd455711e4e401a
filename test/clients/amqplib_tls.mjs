// amqplib over TLS: PLAIN (guest) with the server verified against the test CA, then EXTERNAL
// with a client certificate, each publishing a message and getting it back.
// Usage: node amqplib_tls.mjs AMQPS_URL CA_FILE CLIENT_CERT CLIENT_KEY
import { readFileSync } from "node:fs";
import { amqp, check, describeError, unique } from "./amqplib_common.mjs";

const [url, caFile, certFile, keyFile] = process.argv.slice(2);
const ca = [readFileSync(caFile)];

async function roundTrip(conn) {
  const ch = await conn.createChannel();
  const queue = unique("tls");
  await ch.assertQueue(queue, { durable: false });
  ch.sendToQueue(queue, Buffer.from("over tls"));
  for (let i = 0; i < 50; i++) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg !== false) return msg.content.toString();
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

await check("plain-over-tls", async () => {
  const conn = await amqp.connect(url, { ca, servername: "localhost" });
  const body = await roundTrip(conn);
  await conn.close();
  return { body };
});

await check("external", async () => {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  try {
    const conn = await amqp.connect(u.href, { ca, servername: "localhost", cert: readFileSync(certFile), key: readFileSync(keyFile), credentials: amqp.credentials.external() });
    const body = await roundTrip(conn);
    await conn.close();
    return { connected: true, body };
  } catch (err) {
    return { connected: false, error: describeError(err) };
  }
});
