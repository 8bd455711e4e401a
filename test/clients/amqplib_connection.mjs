// amqplib against the broker: connection.start's server-properties, refused logins, unknown
// vhosts and heartbeat negotiation. Usage: node amqplib_connection.mjs AMQP_URL
import { createRequire } from "node:module";
import { amqp, check, connectionCloses, describeError, emit, unique, url, within } from "./amqplib_common.mjs";

const callbackApi = createRequire(import.meta.url)("amqplib/callback_api");

const base = new URL(url);

function withUrl(change) {
  const u = new URL(base.href);
  change(u);
  return u.href;
}

await check("server-properties", async () => {
  const conn = await amqp.connect(url);
  const props = conn.connection.serverProperties;
  await conn.close();
  return { product: props.product, version: props.version, capabilities: props.capabilities };
});

await check("wrong-password", async () => {
  try {
    const conn = await amqp.connect(withUrl((u) => { u.password = "not-the-password"; }));
    await conn.close();
    return { connected: true };
  } catch (err) {
    return { connected: false, error: describeError(err), close: connectionCloses.pop() ?? null };
  }
});

await check("unknown-vhost", async () => {
  try {
    const conn = await amqp.connect(withUrl((u) => { u.pathname = "/no-such-vhost"; }));
    await conn.close();
    return { connected: true };
  } catch (err) {
    return { connected: false, error: describeError(err), close: connectionCloses.pop() ?? null };
  }
});

// amqplib takes the smaller of the two heartbeats when both are non-zero; asking for more than
// the server offers therefore shows the server's offer.
await check("heartbeat-offer", async () => {
  const conn = await amqp.connect(withUrl((u) => { u.searchParams.set("heartbeat", "3600"); }));
  const negotiated = conn.connection.heartbeat;
  await conn.close();
  return { negotiated };
});

// A 1 s heartbeat kept through 3.5 idle seconds: amqplib drops a connection that hears nothing for
// two intervals, so the server must be sending heartbeat frames (8 bytes: type 8, channel 0,
// size 0, frame-end 0xCE) and honouring the client's.
await check("heartbeat-1s", async () => {
  const conn = await amqp.connect(withUrl((u) => { u.searchParams.set("heartbeat", "1"); }));
  const negotiated = conn.connection.heartbeat;
  let heartbeatsSeen = 0;
  const heartbeatFrame = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]);
  conn.connection.stream.on("data", (chunk) => {
    for (let i = chunk.indexOf(heartbeatFrame); i >= 0; i = chunk.indexOf(heartbeatFrame, i + 1)) heartbeatsSeen++;
  });
  let error = null;
  let closed = false;
  conn.on("error", (err) => { error = err; });
  conn.on("close", () => { closed = true; });
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  const closedWhileIdle = closed;
  // Still usable after the idle period.
  let usable = false;
  if (!closed) {
    const ch = await within(conn.createChannel(), 3_000, "channel after idle");
    await ch.checkExchange("amq.direct");
    usable = true;
    await ch.close().catch(() => {});
  }
  if (!closed) await conn.close();
  return { negotiated, heartbeatsSeen, closedWhileIdle, error: describeError(error), usable };
});

// amqplib's callback API test "find high watermark": publishes until sendToQueue reports a full
// buffer, then closes. connection.close goes out on channel 0 ahead of the publishes still queued
// in the client, so the broker reads channel frames after close-ok: it must ignore them and wait
// for the client to close the socket, or the client's writes fail and its close callback never runs.
const BURST_PUBLISHES = 2_046;
await check("close-after-burst", async () => {
  const outcome = await within(new Promise((resolve, reject) => {
    callbackApi.connect(url, (err, conn) => {
      if (err) return reject(err);
      const errors = [];
      conn.on("error", (e) => errors.push(describeError(e)));
      conn.createChannel((err2, ch) => {
        if (err2) return reject(err2);
        const queue = unique("burst");
        ch.assertQueue(queue, { autoDelete: true }, (err3) => {
          if (err3) return reject(err3);
          let fullAt = null;
          for (let i = 0; i < BURST_PUBLISHES; i++) {
            if (!ch.sendToQueue(queue, Buffer.from(`m${i}`)) && fullAt === null) fullAt = i;
          }
          conn.close((closeErr) => resolve({ closeError: describeError(closeErr), errors, bufferFilled: fullAt !== null }));
        });
      });
    });
  }), 10_000, "connection.close callback after a burst of publishes");
  return outcome;
});

emit("done");
