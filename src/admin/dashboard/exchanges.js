// Exchanges: the list with "Add a new exchange", and an exchange's page (#/exchanges/V/X) with
// its bindings both ways, "Add binding from this exchange", publish and delete.
import { api, exchangeSeg, seg } from "./api.js";
import { publishSection } from "./messages.js";
import { featureText, features } from "./queues.js";
import { dataTable, listPage } from "./table.js";
import { act, argsText, exchangeHref, exchangeLabel, fill, form, h, kvTable, parseKeyValues, queueHref, section } from "./ui.js";

const TYPES = ["direct", "fanout", "headers", "topic"];

export function mount(main, params) {
  if (params.length >= 2) return exchangePage(main, params[0], params[1] === "amq.default" ? "" : params[1]);
  const table = dataTable({
    rowKey: (x) => `${x.vhost}/${x.name}`,
    columns: [
      { id: "vhost", label: "Virtual host", value: (x) => x.vhost },
      { id: "name", label: "Name", value: (x) => x.name, render: (x) => h("a", { href: exchangeHref(x.vhost, x.name) }, exchangeLabel(x.name)) },
      { id: "type", label: "Type", value: (x) => x.type },
      { id: "features", label: "Features", value: featureText, render: (x) => features(x) },
    ],
    sort: { id: "name", descending: false },
  });
  return listPage(main, {
    noun: "exchange",
    table,
    addForm: (vhosts, reload) =>
      form(
        [
          { name: "vhost", label: "Virtual host", type: "select", options: vhosts },
          { name: "name", label: "Name", required: true },
          { name: "type", label: "Type", type: "select", options: TYPES },
          { name: "durable", label: "Durability", type: "select", options: [["true", "Durable"], ["false", "Transient"]] },
          { name: "auto_delete", label: "Auto delete", type: "select", options: [["false", "No"], ["true", "Yes"]] },
          { name: "internal", label: "Internal", type: "select", options: [["false", "No"], ["true", "Yes"]] },
          { name: "arguments", label: "Arguments (key=value lines)", type: "textarea", rows: 2, placeholder: "alternate-exchange=my-ae" },
        ],
        "Add exchange",
        (v) =>
          act(async () => {
            await api("PUT", `/api/exchanges/${seg(v.vhost)}/${seg(v.name)}`, {
              type: v.type,
              durable: v.durable === "true",
              auto_delete: v.auto_delete === "true",
              internal: v.internal === "true",
              arguments: parseKeyValues(v.arguments),
            });
            await reload();
          }, `Exchange ${v.name} added.`),
        { id: "add-exchange" },
      ),
  }, api);
}

function exchangePage(main, vhost, name) {
  const base = `/api/exchanges/${seg(vhost)}/${exchangeSeg(name)}`;
  const details = h("div");
  const endHref = (b, end) => {
    const kind = end === "source" ? "exchange" : b.destination_type;
    const target = b[end];
    return kind === "queue" ? h("a", { href: queueHref(vhost, target) }, target) : h("a", { href: exchangeHref(vhost, target) }, exchangeLabel(target));
  };
  const unbind = (b) =>
    h("button", { type: "button", className: "small", onclick: () => act(async () => {
      await api("DELETE", `/api/bindings/${seg(vhost)}/e/${exchangeSeg(b.source)}/${b.destination_type === "queue" ? "q" : "e"}/${seg(b.destination)}/${b.properties_key}`);
      await refresh();
    }, "Binding removed.") }, "Unbind");
  const bindingColumns = (end) => [
    { id: "end", label: end === "source" ? "From" : "To", value: (b) => b[end], render: (b) => endHref(b, end) },
    { id: "key", label: "Routing key", value: (b) => b.routing_key },
    { id: "args", label: "Arguments", value: (b) => argsText(b.arguments) },
    { id: "unbind", label: "", value: () => "", render: unbind },
  ];
  const outgoing = dataTable({ filter: false, empty: "No bindings.", rowKey: (b) => `${b.destination}|${b.properties_key}`, columns: bindingColumns("destination") });
  const incoming = dataTable({ filter: false, empty: "No bindings.", rowKey: (b) => `${b.source}|${b.properties_key}`, columns: bindingColumns("source") });
  const isDefault = name === "";
  const parts = [
    h("h1", {}, "Exchange ", h("b", { id: "exchange-name" }, exchangeLabel(name)), h("small", {}, ` in virtual host ${vhost}`)),
    section("Overview", details),
  ];
  if (!isDefault) {
    const bindForm = form(
      [
        { name: "kind", label: "To", type: "select", options: [["q", "To queue"], ["e", "To exchange"]] },
        { name: "destination", label: "Name", required: true },
        { name: "routing_key", label: "Routing key" },
        { name: "arguments", label: "Arguments (key=value lines)", type: "textarea", rows: 2 },
      ],
      "Bind",
      (v) =>
        act(async () => {
          await api("POST", `/api/bindings/${seg(vhost)}/e/${exchangeSeg(name)}/${v.kind}/${seg(v.destination)}`, { routing_key: v.routing_key, arguments: parseKeyValues(v.arguments) });
          await refresh();
        }, "Binding added."),
      { id: "bind-exchange" },
    );
    parts.push(section("Bindings", h("h3", {}, "This exchange"), outgoing.el, h("h3", {}, "Bindings to this exchange"), incoming.el, h("h3", {}, "Add binding from this exchange"), bindForm));
  }
  parts.push(publishSection(vhost, name));
  if (!isDefault && !name.startsWith("amq.")) {
    parts.push(section("Delete this exchange", h("button", { type: "button", className: "danger", id: "delete-exchange", onclick: () => confirm(`Delete exchange ${name}?`) && act(async () => {
      await api("DELETE", base);
      location.hash = "#/exchanges";
    }, `Exchange ${name} deleted.`) }, "Delete")));
  }
  main.append(...parts);

  async function refresh() {
    const x = await api("GET", base);
    fill(details, kvTable([
      ["Type", x.type],
      ["Features", h("span", {}, features(x))],
      ["Arguments", h("pre", {}, argsText(x.arguments) || "(none)")],
    ]));
    if (isDefault) return;
    const [out, into] = await Promise.all([api("GET", `${base}/bindings/source`), api("GET", `${base}/bindings/destination`)]);
    outgoing.update(out);
    incoming.update(into);
  }
  return { refresh };
}
