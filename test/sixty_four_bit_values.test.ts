// 64-bit values over their full range, through a running Warren on raw sockets: the timestamp
// property and field-table 'l' (signed) and 'T' (timestamp) values, at the top level of the headers
// and nested in arrays and tables, must reach consumers bit for bit, and bind arguments holding
// them must match exactly. amqp091-go's TestQuickPublishOnly publishes random values like these.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { FrameType } from "../src/protocol/constants.ts";
import { encodeProperties, replyToRange, type BasicProperties } from "../src/protocol/properties.ts";
import { Timestamp, type FieldTable, type FieldValue } from "../src/protocol/table.ts";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { RawAmqp } from "./support/raw_amqp.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const EXTREMES: FieldTable = {
  lmin: INT64_MIN,
  lmax: INT64_MAX,
  tmax: new Timestamp(UINT64_MAX),
  tquick: new Timestamp(4194662705876111282n), // the value amqp091-go's test was refused with
};
const NESTED: FieldValue[] = [INT64_MIN, new Timestamp(UINT64_MAX), { inner: [INT64_MAX, new Timestamp(2n ** 53n + 1n)] }];
const PROPS: BasicProperties = {
  contentType: "application/octet-stream",
  headers: { ...EXTREMES, list: NESTED, table: { deep: { values: NESTED } } },
  timestamp: UINT64_MAX,
  messageId: "m-64",
};

let broker: BrokerProcess;
let client: RawAmqp;

beforeAll(async () => {
  broker = await startBroker();
  client = await RawAmqp.open(broker.port);
  await client.openChannel(1);
});

afterAll(async () => {
  await client?.close();
  await broker?.dispose();
});

async function declareQueue(name: string): Promise<void> {
  client.sendMethod(1, { name: "queue.declare", queue: name, passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: {} });
  await client.expectMethod(1, "queue.declare-ok");
}

/** The raw property bytes of the content header after the frame that introduced it. */
async function propertyBytes(c: RawAmqp, channel: number): Promise<Uint8Array> {
  const header = await c.readFrame();
  expect({ type: header.type, channel: header.channel }).toEqual({ type: FrameType.header, channel });
  const body = await c.readFrame();
  expect(body.type).toBe(FrameType.body);
  return header.payload.subarray(12);
}

/** basic.get of one message: its raw property bytes, or null for get-empty. */
async function getProperties(queue: string): Promise<Uint8Array | null> {
  client.sendMethod(1, { name: "basic.get", queue, noAck: true });
  const { method } = await client.readMethod();
  if (method.name === "basic.get-empty") return null;
  expect(method.name).toBe("basic.get-ok");
  return propertyBytes(client, 1);
}

test("properties with timestamp 2^64 - 1 and headers holding int64 and timestamp extremes arrive byte for byte", async () => {
  await declareQueue("q64-plain");
  client.publish(1, "", "q64-plain", "body", PROPS);
  expect(await getProperties("q64-plain")).toEqual(encodeProperties(PROPS));
});

test("a headers exchange routes on 64-bit bind arguments exactly and delivers the headers byte for byte", async () => {
  await declareQueue("q64-headers");
  client.sendMethod(1, { name: "exchange.declare", exchange: "x64", type: "headers", passive: false, durable: false, autoDelete: true, internal: false, nowait: false, arguments: {} });
  await client.expectMethod(1, "exchange.declare-ok");
  client.sendMethod(1, { name: "queue.bind", queue: "q64-headers", exchange: "x64", routingKey: "", nowait: false, arguments: { "x-match": "all", ...EXTREMES, list: NESTED } });
  await client.expectMethod(1, "queue.bind-ok");
  client.publish(1, "x64", "", "body", PROPS);
  expect(await getProperties("q64-headers")).toEqual(encodeProperties(PROPS));
  // One second less is another value: no match.
  const offByOne = { ...PROPS, headers: { ...PROPS.headers, tmax: new Timestamp(UINT64_MAX - 1n) } };
  client.publish(1, "x64", "", "body", offByOne);
  expect(await getProperties("q64-headers")).toBeNull();
});

test("a direct reply-to request and its reply keep every other property byte for byte", async () => {
  await declareQueue("q64-rpc");
  const requester = await RawAmqp.open(broker.port);
  try {
    await requester.openChannel(1);
    requester.sendMethod(1, { name: "basic.consume", queue: "amq.rabbitmq.reply-to", consumerTag: "replies", noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: {} });
    await requester.expectMethod(1, "basic.consume-ok");
    requester.publish(1, "", "q64-rpc", "request", { ...PROPS, replyTo: "amq.rabbitmq.reply-to" });
    await requester.flushed();
    let request: Uint8Array | null = null;
    for (let i = 0; i < 50 && request === null; i++) {
      request = await getProperties("q64-rpc");
      if (request === null) await Bun.sleep(20);
    }
    expect(request).not.toBeNull();
    const range = replyToRange(request!, 0, request!.length)!;
    const replyTo = new TextDecoder().decode(request!.subarray(range.start + 1, range.end));
    expect(replyTo).toStartWith("amq.rabbitmq.reply-to.");
    expect(request).toEqual(encodeProperties({ ...PROPS, replyTo }));
    client.publish(1, "", replyTo, "reply", PROPS);
    const deliver = await requester.readMethod();
    expect(deliver.method.name).toBe("basic.deliver");
    expect(await propertyBytes(requester, 1)).toEqual(encodeProperties(PROPS));
  } finally {
    await requester.close();
  }
});
