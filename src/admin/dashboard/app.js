// The dashboard's shell: login (the API's users and tag rules), the tabs, hash routing
// (#/queues/VHOST/NAME ...) and the refresh timer that samples the overview and refreshes the
// page on show. Each page module exports mount(main, params, session) → {refresh?}.
import { api, ApiError, forgetCredentials, hasCredentials, storeCredentials } from "./api.js";
import * as admin from "./admin.js";
import * as channels from "./channels.js";
import * as connections from "./connections.js";
import * as exchanges from "./exchanges.js";
import * as overview from "./overview.js";
import * as queues from "./queues.js";
import { fill, form, h, toast } from "./ui.js";

const MANAGEMENT_TAGS = ["management", "policymaker", "monitoring", "administrator"];
const REFRESH_KEY = "warren.refresh_ms";

const PAGES = {
  "": { tab: "overview", page: overview },
  connections: { tab: "connections", page: connections },
  channels: { tab: "channels", page: channels },
  exchanges: { tab: "exchanges", page: exchanges },
  queues: { tab: "queues", page: queues },
  admin: { tab: "admin", page: admin },
};

const main = document.getElementById("main");
let session = null;
let current = null;
let timer = 0;

function showLogin(message) {
  session = null;
  clearTimeout(timer);
  document.getElementById("tabs").hidden = true;
  document.getElementById("session").hidden = true;
  fill(document.getElementById("header-facts"));
  const note = h("p", { className: message ? "login-error" : "login-note", id: "login-message" }, message ?? "Log in with a Warren user that has the management, policymaker, monitoring or administrator tag.");
  fill(main, h("div", { className: "login" }, h("h1", {}, "Warren management"), note, form(
    [
      { name: "username", label: "Username", required: true, autocomplete: "username" },
      { name: "password", label: "Password", type: "password", autocomplete: "current-password" },
    ],
    "Login",
    async ({ username, password }) => {
      storeCredentials(username, password);
      await start();
    },
    { id: "login-form" },
  )));
}

/** Checks the stored credentials with /api/whoami; shows the app or the login form. */
async function start() {
  let me;
  try {
    me = await api("GET", "/api/whoami");
  } catch (error) {
    forgetCredentials();
    if (error instanceof ApiError && error.status === 401) return showLogin("Login failed: wrong username or password (or guest from a remote host).");
    if (error instanceof ApiError && error.status === 403) return showLogin(`Not management user: this user has none of the tags ${MANAGEMENT_TAGS.join(", ")}, which the dashboard and the HTTP API require.`);
    return showLogin(`Cannot reach Warren's API: ${error.message}`);
  }
  const tags = Array.isArray(me.tags) ? me.tags : String(me.tags).split(",");
  if (!tags.some((t) => MANAGEMENT_TAGS.includes(t))) {
    forgetCredentials();
    return showLogin("Not management user.");
  }
  const isAdmin = tags.includes("administrator");
  session = { user: me.name, tags, isAdmin, isMonitor: isAdmin || tags.includes("monitoring") };
  document.getElementById("user-name").textContent = me.name;
  document.getElementById("session").hidden = false;
  document.getElementById("tabs").hidden = false;
  document.getElementById("admin-tab").hidden = !isAdmin;
  await route();
  schedule();
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter((p, i) => p !== "" || i > 0);
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return [];
  }
}

async function route() {
  if (session === null) return;
  const [name = "", ...params] = parseHash();
  const entry = PAGES[name] ?? PAGES[""];
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.tab === entry.tab);
  fill(main);
  document.getElementById("toast").hidden = true;
  current = entry.page.mount(main, params, session) ?? {};
  await tick();
}

/** One refresh: an overview sample (for the charts' history, whatever the page) and the page. */
async function tick() {
  try {
    const facts = await overview.sample();
    fill(document.getElementById("header-facts"), h("span", {}, facts.product_name ?? "Warren", " ", h("b", {}, facts.product_version ?? "")), h("span", {}, "Node ", h("b", {}, facts.node ?? "")));
    if (current?.refresh) await current.refresh();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetCredentials();
      return showLogin("Your login is no longer valid: log in again.");
    }
    toast(error.message, "error");
  }
}

function refreshInterval_ms() {
  return Number(sessionStorage.getItem(REFRESH_KEY) ?? 5000);
}

function schedule() {
  clearTimeout(timer);
  const every = refreshInterval_ms();
  if (every <= 0 || session === null) return;
  timer = setTimeout(async () => {
    await tick();
    schedule();
  }, every);
}

const refreshSelect = document.getElementById("refresh");
refreshSelect.value = String(refreshInterval_ms());
refreshSelect.addEventListener("change", () => {
  sessionStorage.setItem(REFRESH_KEY, refreshSelect.value);
  schedule();
});
document.getElementById("logout").addEventListener("click", () => {
  forgetCredentials();
  location.hash = "#/";
  showLogin();
});
window.addEventListener("hashchange", () => void route());

if (hasCredentials()) void start();
else showLogin();
