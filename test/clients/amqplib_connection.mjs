// amqplib against the broker: connection.start's server-properties, refused logins, unknown
// vhosts and heartbeat negotiation. Usage: node amqplib_connection.mjs AMQP_URL
import { amqp, check, connectionCloses, describeError, emit, url, within } from "./amqplib_common.mjs";

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

emit("done");
