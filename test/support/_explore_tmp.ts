// temporary exploration, deleted later
import { RawAmqp, frameBytes, methodPayload, contentHeaderPayload, concat } from "./raw_amqp.ts";
const port = Number(process.argv[2]);
const utf8 = new TextEncoder();

async function outcome(c: RawAmqp, ms = 4000): Promise<string> {
  try {
    for (;;) {
      const { channel, method } = await c.readMethod(ms);
      if (method.name === "connection.close" || method.name === "channel.close") {
        c.sendMethod(channel, { name: method.name === "connection.close" ? "connection.close-ok" : "channel.close-ok" });
        return `${method.name} ch${channel} ${method.replyCode} [${method.replyText}] ${method.classId}/${method.methodId}`;
      }
      // other methods: print
      console.log("   (got", method.name, "ch", channel, ")");
    }
  } catch (e) {
    return `${(e as Error).message} closed=${c.closed}`;
  }
}

const cases: Record<string, () => Promise<string>> = {
  async badHeaders() {
    const out: string[] = [];
    for (const h of ["HTTP/1.1", "AMQP\x00\x00\x09\x00", "AMQP\x01\x01\x00\x09", "AMQP\x00\x00\x08\x00"]) {
      const c = await RawAmqp.connect(port);
      c.write(new Uint8Array([...h].map((x) => x.charCodeAt(0))));
      const rest = await c.waitClosed(5000).catch((e) => (e as Error).message);
      out.push(`${JSON.stringify(h)} -> ${typeof rest === "string" ? rest : JSON.stringify([...rest])}`);
    }
    return out.join("\n  ");
  },
  async amqplain() { const c = await RawAmqp.open(port, { mechanism: "AMQPLAIN" }); await c.close(); return "ok"; },
  async wrongPw() {
    const c = await RawAmqp.connect(port);
    c.write(new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
    await c.expectMethod(0, "connection.start");
    c.sendStartOk({ password: "nope" });
    const r = await outcome(c);
    return r;
  },
  async wrongPwCap() {
    const c = await RawAmqp.connect(port);
    c.write(new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
    await c.expectMethod(0, "connection.start");
    c.sendStartOk({ password: "nope", capabilities: { authentication_failure_close: true } });
    return await outcome(c) + " closedAfter=" + (await c.waitClosed(5000).then(() => "yes", () => "no"));
  },
  async bigFrameMaxTune() {
    const c = await RawAmqp.connect(port);
    const t = await c.startHandshake();
    c.finishHandshake({ frameMax: t.frameMax + 1 });
    return `tune ${JSON.stringify(t)} ` + await outcome(c);
  },
  async bigChannelMaxTune() {
    const c = await RawAmqp.connect(port);
    const t = await c.startHandshake();
    c.finishHandshake({ channelMax: t.channelMax + 1 });
    return await outcome(c);
  },
  async badFrameEnd() {
    const c = await RawAmqp.open(port);
    c.write(frameBytes(1, 1, methodPayload({ name: "channel.open" }), 0x00));
    return await outcome(c);
  },
  async tooBigFrame() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    const fm = c.tune!.frameMax;
    c.write(frameBytes(3, 1, new Uint8Array(fm + 100)));
    return await outcome(c);
  },
  async unknownFrameType() {
    const c = await RawAmqp.open(port);
    c.write(frameBytes(5, 0, new Uint8Array(4)));
    return await outcome(c);
  },
  async unknownFrameTypeCh1() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.write(frameBytes(9, 1, new Uint8Array(4)));
    return await outcome(c);
  },
  async unknownClass() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.write(frameBytes(1, 1, new Uint8Array([0, 99, 0, 10])));
    return await outcome(c);
  },
  async unknownMethod() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.write(frameBytes(1, 1, new Uint8Array([0, 60, 0, 99])));
    return await outcome(c);
  },
  async unknownMethodCh0() {
    const c = await RawAmqp.open(port);
    c.write(frameBytes(1, 0, new Uint8Array([0, 10, 0, 99])));
    return await outcome(c);
  },
  async headerNoPublish() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendFrame(2, 1, contentHeaderPayload(5));
    return await outcome(c);
  },
  async bodyNoMethod() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendFrame(3, 1, utf8.encode("hello"));
    return await outcome(c);
  },
  async methodInsteadOfHeader() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendMethod(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false } as never);
    return await outcome(c);
  },
  async methodInsteadOfBody() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendFrame(2, 1, contentHeaderPayload(5));
    c.sendMethod(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false } as never);
    return await outcome(c);
  },
  async bodyTooLong() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendFrame(2, 1, contentHeaderPayload(5));
    c.sendFrame(3, 1, utf8.encode("hello world"));
    return await outcome(c);
  },
  async bodyTooLongThenMethod() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendFrame(2, 1, contentHeaderPayload(5));
    c.sendFrame(3, 1, utf8.encode("hello world"));
    c.sendMethod(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false } as never);
    return await outcome(c);
  },
  async unopenedChannelMethod() {
    const c = await RawAmqp.open(port);
    c.sendMethod(3, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false } as never);
    return await outcome(c);
  },
  async unopenedChannelHeader() {
    const c = await RawAmqp.open(port);
    c.sendFrame(2, 3, contentHeaderPayload(5));
    return await outcome(c);
  },
  async unopenedChannelBody() {
    const c = await RawAmqp.open(port);
    c.sendFrame(3, 3, utf8.encode("x"));
    return await outcome(c);
  },
  async channelOpenTwice() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "channel.open" });
    return await outcome(c);
  },
  async garbage() {
    const c = await RawAmqp.open(port);
    c.write(utf8.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    return await outcome(c);
  },
  async garbage2() {
    const c = await RawAmqp.open(port);
    c.write(new Uint8Array([1, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xce]));
    return await outcome(c);
  },
  async truncatedTable() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    // queue.declare with arguments table length pointing past the frame
    const p = methodPayload({ name: "queue.declare", queue: "q", passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} } as never);
    const v = new DataView(p.buffer);
    v.setUint32(p.length - 4, 1000);
    c.sendFrame(1, 1, p);
    return await outcome(c);
  },
  async truncatedShortstr() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    // basic.publish: ticket(2) exchange shortstr len=200 but nothing
    c.sendFrame(1, 1, new Uint8Array([0, 60, 0, 40, 0, 0, 200, 1, 2]));
    return await outcome(c);
  },
  async badTableValueType() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    const p = methodPayload({ name: "queue.declare", queue: "q", passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: { a: "b" } } as never);
    // table: len(4) 'a'(1+1) type 'S' ...; set type byte to 'Q'
    const idx = p.length - (4 + 1) - 1 - 1; // find 'S'
    const at = p.lastIndexOf(0x53);
    p[at] = 0x51;
    void idx;
    c.sendFrame(1, 1, p);
    return await outcome(c);
  },
  async trailingBytes() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    const p = concat(methodPayload({ name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false } as never), new Uint8Array([1, 2, 3]));
    c.sendFrame(1, 1, p);
    return await outcome(c);
  },
  async hugeMessage() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendFrame(2, 1, contentHeaderPayload(128 * 1024 * 1024 + 1));
    return await outcome(c);
  },
  async channelAboveMax() {
    const c = await RawAmqp.connect(port);
    const t = await c.startHandshake();
    c.finishHandshake({ channelMax: 10 });
    await c.expectMethod(0, "connection.open-ok");
    c.sendMethod(11, { name: "channel.open" });
    return `tune ${t.channelMax} ` + await outcome(c);
  },
  async channelAboveServerMax() {
    const c = await RawAmqp.open(port);
    c.sendMethod(c.tune!.channelMax + 1, { name: "channel.open" });
    return `tune ${c.tune!.channelMax} ` + await outcome(c);
  },
  async heartbeatOnChannel() {
    const c = await RawAmqp.open(port);
    c.sendFrame(8, 1, new Uint8Array(0));
    return await outcome(c);
  },
  async heartbeatWithPayload() {
    const c = await RawAmqp.open(port);
    c.sendFrame(8, 0, new Uint8Array(2));
    return await outcome(c);
  },
  async headerOnCh0() {
    const c = await RawAmqp.open(port);
    c.sendFrame(2, 0, contentHeaderPayload(1));
    return await outcome(c);
  },
  async methodBeforeOpen() {
    const c = await RawAmqp.connect(port);
    await c.startHandshake();
    c.sendMethod(1, { name: "channel.open" });
    return await outcome(c);
  },
  async openBeforeTuneOk() {
    const c = await RawAmqp.connect(port);
    await c.startHandshake();
    c.sendMethod(0, { name: "connection.open", virtualHost: "/" } as never);
    return await outcome(c);
  },
  async headerWrongClass() {
    const c = await RawAmqp.open(port);
    await c.openChannel(1);
    c.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
    c.sendFrame(2, 1, contentHeaderPayload(1, {}, 50));
    return await outcome(c);
  },
  async channelClassMethodOnCh0() {
    const c = await RawAmqp.open(port);
    c.sendMethod(0, { name: "channel.open" });
    return await outcome(c);
  },
  async badVhost() {
    const c = await RawAmqp.connect(port);
    await c.startHandshake();
    c.finishHandshake({ vhost: "nope" });
    return await outcome(c);
  },
};

const only = process.argv.slice(3);
for (const [name, fn] of Object.entries(cases)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const r = await Promise.race([fn(), Bun.sleep(8000).then(() => "CASE TIMEOUT")]).catch((e) => `THREW ${(e as Error).message}`);
  console.log(`${name}: ${r}`);
}
process.exit(0);
