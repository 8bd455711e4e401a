// Admin (administrators only): users, virtual hosts and permissions, each a table with its
// add / remove forms, as under RabbitMQ's Admin tab.
import { api, seg } from "./api.js";
import { dataTable } from "./table.js";
import { act, form, h, section } from "./ui.js";

export function mount(main, _params, session) {
  if (!session.isAdmin) {
    main.append(h("h1", {}, "Admin"), h("p", { className: "note" }, "The Admin pages need the administrator tag."));
    return {};
  }
  const removeButton = (label, path, what) =>
    h("button", { type: "button", className: "small danger", onclick: () => confirm(`${label}?`) && act(async () => {
      await api("DELETE", path);
      await refresh();
    }, what) }, "Delete");
  const users = dataTable({
    rowKey: (u) => u.name,
    columns: [
      { id: "name", label: "Name", value: (u) => u.name },
      { id: "tags", label: "Tags", value: (u) => (Array.isArray(u.tags) ? u.tags.join(", ") : u.tags) },
      { id: "password", label: "Has password", value: (u) => (u.password_hash ? "●" : "○") },
      { id: "delete", label: "", value: () => "", render: (u) => removeButton(`Delete user ${u.name}`, `/api/users/${seg(u.name)}`, `User ${u.name} deleted.`) },
    ],
  });
  const vhosts = dataTable({
    rowKey: (v) => v.name,
    columns: [
      { id: "name", label: "Name", value: (v) => v.name },
      { id: "delete", label: "", value: () => "", render: (v) => removeButton(`Delete virtual host ${v.name} with its queues and messages`, `/api/vhosts/${seg(v.name)}`, `Virtual host ${v.name} deleted.`) },
    ],
  });
  const permissions = dataTable({
    rowKey: (p) => `${p.vhost}/${p.user}`,
    columns: [
      { id: "user", label: "User", value: (p) => p.user },
      { id: "vhost", label: "Virtual host", value: (p) => p.vhost },
      { id: "configure", label: "Configure regexp", value: (p) => p.configure },
      { id: "write", label: "Write regexp", value: (p) => p.write },
      { id: "read", label: "Read regexp", value: (p) => p.read },
      { id: "clear", label: "", value: () => "", render: (p) => h("button", { type: "button", className: "small", onclick: () => act(async () => {
        await api("DELETE", `/api/permissions/${seg(p.vhost)}/${seg(p.user)}`);
        await refresh();
      }, "Permissions cleared.") }, "Clear") },
    ],
  });
  const addUser = form(
    [
      { name: "name", label: "Username", required: true },
      { name: "password", label: "Password", type: "password", autocomplete: "new-password" },
      { name: "tags", label: "Tags (comma-separated)", placeholder: "management, monitoring, policymaker, administrator" },
    ],
    "Add / update user",
    (v) =>
      act(async () => {
        await api("PUT", `/api/users/${seg(v.name)}`, { password: v.password, tags: v.tags });
        await refresh();
      }, `User ${v.name} saved.`),
    { id: "add-user" },
  );
  const addVhost = form([{ name: "name", label: "Name", required: true }], "Add virtual host", (v) =>
    act(async () => {
      await api("PUT", `/api/vhosts/${seg(v.name)}`);
      await refresh();
    }, `Virtual host ${v.name} added.`), { id: "add-vhost" });
  const setPermission = form(
    [
      { name: "user", label: "User", required: true },
      { name: "vhost", label: "Virtual host", value: "/", required: true },
      { name: "configure", label: "Configure regexp", value: ".*" },
      { name: "write", label: "Write regexp", value: ".*" },
      { name: "read", label: "Read regexp", value: ".*" },
    ],
    "Set permission",
    (v) =>
      act(async () => {
        await api("PUT", `/api/permissions/${seg(v.vhost)}/${seg(v.user)}`, { configure: v.configure, write: v.write, read: v.read });
        await refresh();
      }, "Permission set."),
    { id: "set-permission" },
  );
  main.append(
    h("h1", {}, "Admin"),
    section("Users", users.el, h("h3", {}, "Add a user"), addUser),
    section("Virtual hosts", vhosts.el, h("h3", {}, "Add a new virtual host"), addVhost),
    section("Permissions", permissions.el, h("h3", {}, "Set permission"), setPermission),
  );
  async function refresh() {
    const [u, v, p] = await Promise.all([api("GET", "/api/users"), api("GET", "/api/vhosts"), api("GET", "/api/permissions")]);
    users.update(u);
    vhosts.update(v);
    permissions.update(p);
  }
  return { refresh };
}
