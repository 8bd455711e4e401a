// Channels: every channel the user may see (its own, or all for monitoring users).
import { api } from "./api.js";
import { dataTable } from "./table.js";
import { connectionHref, fmtInt, h, section } from "./ui.js";

/** RabbitMQ's Mode column: C for confirm mode, T for transactional. */
const mode = (ch) => `${ch.confirm ? "C" : ""}${ch.transactional ? "T" : ""}`;

export function channelTable() {
  return dataTable({
    rowKey: (ch) => ch.name,
    empty: "No channels.",
    columns: [
      { id: "name", label: "Channel", value: (ch) => ch.name, render: (ch) => h("a", { href: connectionHref(ch.connection_details?.name ?? "") }, ch.name) },
      { id: "vhost", label: "Virtual host", value: (ch) => ch.vhost },
      { id: "user", label: "User name", value: (ch) => ch.user },
      { id: "mode", label: "Mode", value: mode, render: (ch) => h("abbr", { title: "C: confirm, T: transactional" }, mode(ch)) },
      { id: "state", label: "State", value: (ch) => ch.state },
      { id: "consumers", label: "Consumers", value: (ch) => ch.consumer_count, numeric: true },
      { id: "prefetch", label: "Prefetch", value: (ch) => ch.prefetch_count, numeric: true },
      { id: "unacked", label: "Unacked", value: (ch) => ch.messages_unacknowledged, render: (ch) => fmtInt(ch.messages_unacknowledged), numeric: true },
    ],
  });
}

export function mount(main) {
  const table = channelTable();
  main.append(h("h1", {}, "Channels"), section("All channels", table.el));
  return {
    async refresh() {
      table.update(await api("GET", "/api/channels"));
    },
  };
}
