// Overview: totals, live charts of queued messages (queue_totals) and message rates
// (message_stats), node facts, alarms and listeners; for administrators, definitions export and
// import, where RabbitMQ's UI has them. sample() is called on every refresh, whatever page is
// shown, so the charts have their history when the page opens.
import { api } from "./api.js";
import { lineChart } from "./chart.js";
import { dataTable } from "./table.js";
import { act, fill, fmtBytes, fmtDuration, fmtInt, fmtRate, h, kvTable, section, toast } from "./ui.js";

/** An hour of samples at the default 5 s refresh. */
const HISTORY_MAX = 720;
const history = [];
let latest = null;

/** Fetches /api/overview and records a sample for the charts; returns the overview. */
export async function sample() {
  latest = await api("GET", "/api/overview");
  history.push({ t: Date.now(), overview: latest });
  if (history.length > HISTORY_MAX) history.shift();
  return latest;
}

const QUEUED = [
  { label: "Ready", color: "#d97706", key: "messages_ready" },
  { label: "Unacked", color: "#2563eb", key: "messages_unacknowledged" },
  { label: "Total", color: "#6b7280", key: "messages" },
];
const RATES = [
  { label: "Publish", color: "#16a34a", key: "publish" },
  { label: "Deliver / get", color: "#2563eb", key: "deliver_get" },
  { label: "Ack", color: "#9333ea", key: "ack" },
];

export function mount(main, _params, session) {
  const totals = h("div", { className: "totals" });
  const queued = lineChart({ title: "Queued messages", series: QUEUED, format: fmtInt });
  const rates = lineChart({ title: "Message rates", series: RATES, format: fmtRate });
  const ratesNote = h("p", { className: "note", hidden: true }, "Message rates are shown to users with the monitoring or administrator tag.");
  const node = h("div");
  const alarms = h("div");
  const listeners = dataTable({
    filter: false,
    rowKey: (l) => `${l.protocol}:${l.port}`,
    columns: [
      { id: "protocol", label: "Protocol", value: (l) => l.protocol },
      { id: "ip", label: "Bound to", value: (l) => l.ip_address },
      { id: "port", label: "Port", value: (l) => l.port, numeric: true },
    ],
  });
  main.append(
    h("h1", {}, "Overview"),
    totals,
    section("Totals", h("div", { className: "charts" }, queued.el, h("div", {}, rates.el, ratesNote))),
    section("Node", node, alarms),
    section("Ports and contexts", listeners.el),
  );
  if (session.isAdmin) main.append(...definitionsSections());

  async function refresh() {
    const o = latest ?? (await sample());
    const counts = o.object_totals ?? {};
    fill(totals, ["connections", "channels", "exchanges", "queues", "consumers"].map((k) => h("div", { className: "total", dataset: { total: k } }, h("b", {}, fmtInt(counts[k] ?? 0)), h("span", {}, k[0].toUpperCase() + k.slice(1)))));
    queued.draw(history.map((s) => ({ t: s.t, values: QUEUED.map((q) => s.overview.queue_totals?.[q.key] ?? 0) })));
    const hasRates = Object.keys(o.message_stats ?? {}).length > 0;
    ratesNote.hidden = hasRates;
    rates.draw(hasRates ? history.map((s) => ({ t: s.t, values: RATES.map((r) => s.overview.message_stats?.[`${r.key}_details`]?.rate ?? 0) })) : []);
    listeners.update(o.listeners ?? []);
    const facts = [
      ["Node", o.node],
      ["Product", `${o.product_name} ${o.product_version}`],
      ["RabbitMQ API compatibility", o.rabbitmq_version],
    ];
    if (session.isMonitor) {
      const [n] = await api("GET", "/api/nodes");
      if (n) facts.push(["Uptime", fmtDuration(n.uptime)], ["Runtime", n.runtime], ["Processors", n.processors], ["OS pid", n.os_pid]);
    }
    fill(node, kvTable(facts));
    fill(alarms, h("h3", {}, "Resource alarms"), kvTable([
      ["Memory", alarmCell(o.mem_alarm, `${fmtBytes(o.mem_used)}${o.mem_limit ? ` of ${fmtBytes(o.mem_limit)} high watermark` : ""}`)],
      ["Disk space", alarmCell(o.disk_free_alarm, o.disk_free_limit !== undefined ? `${fmtBytes(o.disk_free)} free, limit ${fmtBytes(o.disk_free_limit)}` : "")],
    ]));
  }
  return { refresh };
}

function alarmCell(alarmed, text) {
  return h("span", {}, h("span", { className: alarmed ? "badge red" : "badge green" }, alarmed ? "alarm" : "ok"), " ", text);
}

function definitionsSections() {
  const exportButton = h("button", {
    type: "button",
    id: "export-definitions",
    onclick: () =>
      act(async () => {
        const defs = await api("GET", "/api/definitions");
        const blob = new Blob([JSON.stringify(defs, null, 2)], { type: "application/json" });
        const a = h("a", { href: URL.createObjectURL(blob), download: `warren_definitions_${new Date().toISOString().slice(0, 10)}.json` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      }, "Definitions exported."),
  }, "Download broker definitions");
  const file = h("input", { type: "file", accept: ".json,application/json", id: "import-file" });
  const importButton = h("button", {
    type: "button",
    id: "import-definitions",
    onclick: () =>
      act(async () => {
        const chosen = file.files?.[0];
        if (!chosen) throw new Error("Choose a definitions file first.");
        await api("POST", "/api/definitions", await chosen.text());
        toast(`Definitions imported from ${chosen.name}.`);
      }),
  }, "Upload broker definitions");
  return [
    section("Export definitions", h("p", {}, "Users, vhosts, permissions, durable exchanges, queues and bindings, in RabbitMQ's JSON."), exportButton),
    section("Import definitions", h("p", {}, "A definitions file exported by Warren or RabbitMQ."), file, " ", importButton),
  ];
}
