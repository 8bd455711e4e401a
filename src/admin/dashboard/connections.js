// Connections: the list, and a connection's page (#/connections/NAME) with its details, client
// properties, channels and "Force Close" (DELETE with the reason in X-Reason, as RabbitMQ's UI).
import { api, seg } from "./api.js";
import { channelTable } from "./channels.js";
import { dataTable } from "./table.js";
import { act, argsText, connectionHref, fill, form, h, kvTable, section } from "./ui.js";

const client = (c) => {
  const p = c.client_properties ?? {};
  return [p.product, p.version].filter((x) => x !== undefined).join(" ");
};

export function mount(main, params) {
  if (params.length >= 1) return connectionPage(main, params[0]);
  const table = dataTable({
    rowKey: (c) => c.name,
    empty: "No connections.",
    columns: [
      { id: "name", label: "Name", value: (c) => c.name, render: (c) => h("a", { href: connectionHref(c.name) }, c.name, c.user_provided_name ? h("small", {}, ` ${c.user_provided_name}`) : "") },
      { id: "vhost", label: "Virtual host", value: (c) => c.vhost },
      { id: "user", label: "User name", value: (c) => c.user },
      { id: "state", label: "State", value: (c) => c.state },
      { id: "tls", label: "TLS", value: (c) => (c.ssl ? "●" : "○") },
      { id: "protocol", label: "Protocol", value: (c) => c.protocol },
      { id: "client", label: "Client", value: client },
      { id: "channels", label: "Channels", value: (c) => c.channels, numeric: true },
    ],
  });
  main.append(h("h1", {}, "Connections"), section("All connections", table.el));
  return {
    async refresh() {
      table.update(await api("GET", "/api/connections"));
    },
  };
}

function connectionPage(main, name) {
  const base = `/api/connections/${seg(name)}`;
  const details = h("div");
  const props = h("pre", { className: "props" });
  const channels = channelTable();
  const close = form(
    [{ name: "reason", label: "Reason", value: "Closed via management plugin" }],
    "Force Close",
    (v) =>
      act(async () => {
        await api("DELETE", base, undefined, { "x-reason": v.reason });
        location.hash = "#/connections";
      }, "Connection closed."),
    { id: "close-connection" },
  );
  main.append(
    h("h1", {}, "Connection ", h("b", { id: "connection-name" }, name)),
    section("Overview", details),
    section("Client properties", props),
    section("Channels", channels.el),
    section("Close this connection", close),
  );
  return {
    async refresh() {
      let c;
      try {
        c = await api("GET", base);
      } catch (error) {
        if (error.status !== 404) throw error;
        fill(details, h("p", { className: "empty" }, "This connection is closed."));
        return;
      }
      fill(details, kvTable([
        ["User name", c.user],
        ["Virtual host", c.vhost],
        ["Client", client(c)],
        ["From", `${c.peer_host}:${c.peer_port}`],
        ["To", `${c.host}:${c.port}`],
        ["Protocol", c.protocol],
        ["TLS", c.ssl ? "yes" : "no"],
        ["Heartbeat", `${c.timeout} s`],
        ["Frame max", `${c.frame_max} bytes`],
        ["Channel limit", c.channel_max],
        ["Connected at", new Date(c.connected_at).toLocaleString("en-GB")],
      ]));
      props.textContent = argsText(c.client_properties);
      channels.update(await api("GET", `${base}/channels`));
    },
  };
}
