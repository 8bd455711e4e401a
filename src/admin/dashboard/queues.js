// Queues: the sortable, filterable list with "Add a new queue", and a queue's page (#/queues/V/Q)
// with its details, consumers, bindings, publish, get, purge and delete.
import { api, exchangeSeg, seg } from "./api.js";
import { getSection, publishSection } from "./messages.js";
import { dataTable, listPage } from "./table.js";
import { act, argsText, connectionHref, exchangeHref, fill, fmtBytes, fmtInt, fmtRate, form, h, kvTable, parseKeyValues, queueHref, section } from "./ui.js";

/** RabbitMQ's abbreviations of queue arguments in the Features column. */
const FEATURE_ARGS = {
  "x-message-ttl": "TTL",
  "x-expires": "Exp",
  "x-max-length": "Lim",
  "x-max-length-bytes": "Lim B",
  "x-overflow": "Ovfl",
  "x-dead-letter-exchange": "DLX",
  "x-dead-letter-routing-key": "DLK",
  "x-max-priority": "Pri",
  "x-single-active-consumer": "SAC",
  "x-consumer-timeout": "CT",
};

export function features(q) {
  const out = [];
  if (q.durable) out.push(h("abbr", { title: "durable", className: "feature" }, "D"));
  if (q.auto_delete) out.push(h("abbr", { title: "auto-delete", className: "feature" }, "AD"));
  if (q.exclusive) out.push(h("abbr", { title: "exclusive", className: "feature" }, "Excl"));
  if (q.internal) out.push(h("abbr", { title: "internal", className: "feature" }, "I"));
  for (const [key, value] of Object.entries(q.arguments ?? {})) {
    if (key === "x-queue-type") continue;
    out.push(h("abbr", { title: `${key}: ${JSON.stringify(value)}`, className: "feature arg" }, FEATURE_ARGS[key] ?? "Args"));
  }
  return out;
}

export function featureText(q) {
  return features(q).map((f) => f.textContent).join(" ");
}

const rate = (q, key) => q.message_stats?.[`${key}_details`]?.rate;
/** A queue without traffic yet has no message_stats (as in RabbitMQ): its rates show as "–". */
const rateCell = (q, key) => (rate(q, key) === undefined ? h("span", { className: "note", title: "no messages yet" }, "–") : fmtRate(rate(q, key)));

export function mount(main, params, session) {
  if (params.length >= 2) return queuePage(main, params[0], params[1], session);
  const table = dataTable({
    rowKey: (q) => `${q.vhost}/${q.name}`,
    empty: "No queues.",
    columns: [
      { id: "vhost", label: "Virtual host", value: (q) => q.vhost },
      { id: "name", label: "Name", value: (q) => q.name, render: (q) => h("a", { href: queueHref(q.vhost, q.name) }, q.name) },
      { id: "type", label: "Type", value: (q) => q.type },
      { id: "features", label: "Features", value: featureText, render: (q) => features(q) },
      { id: "state", label: "State", value: (q) => q.state, render: (q) => h("span", { className: `state ${q.state}` }, q.state) },
      { id: "ready", label: "Ready", value: (q) => q.messages_ready, render: (q) => fmtInt(q.messages_ready), numeric: true },
      { id: "unacked", label: "Unacked", value: (q) => q.messages_unacknowledged, render: (q) => fmtInt(q.messages_unacknowledged), numeric: true },
      { id: "total", label: "Total", value: (q) => q.messages, render: (q) => fmtInt(q.messages), numeric: true },
      { id: "incoming", label: "incoming", value: (q) => rate(q, "publish"), render: (q) => rateCell(q, "publish"), numeric: true },
      { id: "deliver", label: "deliver / get", value: (q) => rate(q, "deliver_get"), render: (q) => rateCell(q, "deliver_get"), numeric: true },
      { id: "ack", label: "ack", value: (q) => rate(q, "ack"), render: (q) => rateCell(q, "ack"), numeric: true },
      { id: "consumers", label: "Consumers", value: (q) => q.consumers, numeric: true },
    ],
    sort: { id: "name", descending: false },
  });
  return listPage(main, {
    noun: "queue",
    table,
    addForm: (vhosts, reload) =>
      form(
        [
          { name: "vhost", label: "Virtual host", type: "select", options: vhosts },
          { name: "type", label: "Type", type: "select", options: ["classic", "quorum"] },
          { name: "name", label: "Name", required: true },
          { name: "durable", label: "Durability", type: "select", options: [["true", "Durable"], ["false", "Transient"]] },
          { name: "auto_delete", label: "Auto delete", type: "select", options: [["false", "No"], ["true", "Yes"]] },
          { name: "arguments", label: "Arguments (key=value lines)", type: "textarea", rows: 2, placeholder: "x-message-ttl=60000" },
        ],
        "Add queue",
        (v) =>
          act(async () => {
            const args = parseKeyValues(v.arguments);
            if (v.type !== "classic") args["x-queue-type"] = v.type;
            await api("PUT", `/api/queues/${seg(v.vhost)}/${seg(v.name)}`, { durable: v.durable === "true", auto_delete: v.auto_delete === "true", arguments: args });
            await reload();
          }, `Queue ${v.name} added.`),
        { id: "add-queue" },
      ),
  }, api);
}

function queuePage(main, vhost, name, _session) {
  const base = `/api/queues/${seg(vhost)}/${seg(name)}`;
  const details = h("div");
  const consumers = dataTable({
    filter: false,
    empty: "No consumers.",
    rowKey: (c) => c.consumer_tag,
    columns: [
      { id: "channel", label: "Channel", value: (c) => c.channel_details?.name ?? "", render: (c) => (c.channel_details?.connection_name ? h("a", { href: connectionHref(c.channel_details.connection_name) }, c.channel_details.name) : "") },
      { id: "tag", label: "Consumer tag", value: (c) => c.consumer_tag },
      { id: "ack", label: "Ack required", value: (c) => String(c.ack_required) },
      { id: "exclusive", label: "Exclusive", value: (c) => String(c.exclusive) },
      { id: "prefetch", label: "Prefetch count", value: (c) => c.prefetch_count, numeric: true },
      { id: "active", label: "Active", value: (c) => String(c.active) },
    ],
  });
  const bindings = dataTable({
    filter: false,
    rowKey: (b) => `${b.source}|${b.properties_key}`,
    columns: [
      { id: "from", label: "From", value: (b) => b.source, render: (b) => (b.source === "" ? "(Default exchange binding)" : h("a", { href: exchangeHref(vhost, b.source) }, b.source)) },
      { id: "key", label: "Routing key", value: (b) => b.routing_key },
      { id: "args", label: "Arguments", value: (b) => argsText(b.arguments) },
      {
        id: "unbind",
        label: "",
        value: () => "",
        render: (b) =>
          b.source === ""
            ? ""
            : h("button", { type: "button", className: "small", onclick: () => act(async () => {
              await api("DELETE", `/api/bindings/${seg(vhost)}/e/${exchangeSeg(b.source)}/q/${seg(name)}/${b.properties_key}`);
              await refresh();
            }, "Binding removed.") }, "Unbind"),
      },
    ],
  });
  const bindForm = form(
    [
      { name: "source", label: "From exchange", required: true },
      { name: "routing_key", label: "Routing key" },
      { name: "arguments", label: "Arguments (key=value lines)", type: "textarea", rows: 2 },
    ],
    "Bind",
    (v) =>
      act(async () => {
        await api("POST", `/api/bindings/${seg(vhost)}/e/${exchangeSeg(v.source)}/q/${seg(name)}`, { routing_key: v.routing_key, arguments: parseKeyValues(v.arguments) });
        await refresh();
      }, "Queue bound."),
    { id: "bind-queue" },
  );
  const danger = h("div", { className: "buttons" },
    h("button", { type: "button", className: "danger", id: "purge-queue", onclick: () => confirm(`Purge all messages of queue ${name}?`) && act(async () => {
      await api("DELETE", `${base}/contents`);
      await refresh();
    }, "Queue purged.") }, "Purge Messages"),
    h("button", { type: "button", className: "danger", id: "delete-queue", onclick: () => confirm(`Delete queue ${name}?`) && act(async () => {
      await api("DELETE", base);
      location.hash = "#/queues";
    }, `Queue ${name} deleted.`) }, "Delete Queue"),
  );
  main.append(
    h("h1", {}, "Queue ", h("b", { id: "queue-name" }, name), h("small", {}, ` in virtual host ${vhost}`)),
    section("Overview", details),
    section("Consumers", consumers.el),
    section("Bindings", bindings.el, h("h3", {}, "Add binding to this queue"), bindForm),
    publishSection(vhost, "", name),
    getSection(vhost, name),
    section("Delete / purge", danger),
  );

  async function refresh() {
    const [q, b] = await Promise.all([api("GET", base), api("GET", `${base}/bindings`)]);
    fill(details, h("div", { className: "columns" },
      kvTable([
        ["Type", q.type],
        ["Features", h("span", {}, features(q))],
        ["State", h("span", { className: `state ${q.state}` }, q.state)],
        ["Consumers", fmtInt(q.consumers)],
        ["Arguments", h("pre", {}, argsText(q.arguments) || "(none)")],
        ...(q.owner_pid_details ? [["Exclusive owner", h("a", { href: connectionHref(q.owner_pid_details.name) }, q.owner_pid_details.name)]] : []),
      ]),
      kvTable([
        ["Ready", h("span", { id: "queue-ready" }, fmtInt(q.messages_ready))],
        ["Unacked", h("span", { id: "queue-unacked" }, fmtInt(q.messages_unacknowledged))],
        ["Total", h("span", { id: "queue-total" }, fmtInt(q.messages))],
        ["Ready bytes", fmtBytes(q.message_bytes_ready)],
      ]),
    ));
    consumers.update(q.consumer_details ?? []);
    bindings.update(b);
  }
  return { refresh };
}
