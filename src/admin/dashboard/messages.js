// "Publish message" and "Get messages", as on RabbitMQ's queue and exchange pages: forms over
// POST /api/exchanges/V/X/publish and POST /api/queues/V/Q/get.
import { api, exchangeSeg, seg } from "./api.js";
import { act, argsText, exchangeLabel, fill, form, h, kvTable, parseKeyValues, section, toast } from "./ui.js";

/** exchange "" publishes through the default exchange with the queue's name as routing key. */
export function publishSection(vhost, exchange, routingKey = "") {
  return section("Publish message", form(
    [
      { name: "routing_key", label: "Routing key", value: routingKey },
      { name: "delivery_mode", label: "Delivery mode", type: "select", options: [["1", "1 - Non-persistent"], ["2", "2 - Persistent"]] },
      { name: "headers", label: "Headers (key=value lines)", type: "textarea", rows: 2, placeholder: "x-match=all" },
      { name: "properties", label: "Properties (key=value lines)", type: "textarea", rows: 2, placeholder: "content_type=text/plain\nmessage_id=42" },
      { name: "payload", label: "Payload", type: "textarea", rows: 5 },
      { name: "payload_encoding", label: "Payload encoding", type: "select", options: [["string", "String (default)"], ["base64", "Base64"]] },
    ],
    "Publish message",
    (v) =>
      act(async () => {
        const properties = { ...parseKeyValues(v.properties), delivery_mode: Number(v.delivery_mode) };
        const headers = parseKeyValues(v.headers);
        if (Object.keys(headers).length > 0) properties.headers = headers;
        const r = await api("POST", `/api/exchanges/${seg(vhost)}/${exchangeSeg(exchange)}/publish`, {
          properties,
          routing_key: v.routing_key,
          payload: v.payload,
          payload_encoding: v.payload_encoding,
        });
        toast(r.routed ? "Message published." : "Message published, but not routed.", r.routed ? "ok" : "warn");
      }),
    { className: "form publish-form" },
  ));
}

export function getSection(vhost, queue) {
  const results = h("div", { className: "got" });
  const el = section("Get messages", h("p", { className: "note" }, "Getting messages from a queue is a destructive action unless they are requeued (ack mode \"Nack message requeue true\")."), form(
    [
      { name: "ackmode", label: "Ack mode", type: "select", options: [["ack_requeue_true", "Nack message requeue true"], ["ack_requeue_false", "Automatic ack"], ["reject_requeue_true", "Reject requeue true"], ["reject_requeue_false", "Reject requeue false"]] },
      { name: "encoding", label: "Encoding", type: "select", options: [["auto", "Auto string / base64"], ["base64", "base64"]] },
      { name: "count", label: "Messages", type: "number", value: "1" },
      { name: "truncate", label: "Truncate payload at (bytes)", type: "number", value: "50000" },
    ],
    "Get message(s)",
    (v) =>
      act(async () => {
        const got = await api("POST", `/api/queues/${seg(vhost)}/${seg(queue)}/get`, { count: Number(v.count), ackmode: v.ackmode, encoding: v.encoding, truncate: Number(v.truncate) });
        showMessages(results, got);
      }),
    { className: "form get-form" },
  ), results);
  return el;
}

function showMessages(results, got) {
  if (got.length === 0) {
    fill(results, h("p", { className: "empty", id: "queue-empty" }, "Queue is empty"));
    return;
  }
  fill(results, got.map((m, i) => h("div", { className: "message", dataset: { index: i } },
    h("h3", {}, `Message ${i + 1}`),
    h("p", {}, `The server reported ${m.message_count} messages remaining.`),
    kvTable([
      ["Exchange", exchangeLabel(m.exchange)],
      ["Routing Key", m.routing_key],
      ["Redelivered", String(m.redelivered)],
      ["Properties", h("pre", {}, argsText(m.properties) || "(none)")],
      ["Payload", h("span", {}, `${m.payload_bytes} bytes, encoding: ${m.payload_encoding}`)],
    ]),
    h("pre", { className: "payload" }, m.payload),
  )));
}
