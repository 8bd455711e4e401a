// Small DOM helpers shared by the pages: element construction, number formats, links to the
// object pages, key/value tables, forms and the status toast. No framework: pages build their
// DOM once and refresh the parts that change.

/** h("a", {href: "#/"}, "text", child, ...): attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "className") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const fmtInt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "");

export function fmtRate(n) {
  if (typeof n !== "number") return "";
  return `${n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(n >= 10 ? 1 : 2)}/s`;
}

export function fmtBytes(n) {
  if (typeof n !== "number") return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function fmtDuration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((x) => String(x).padStart(2, "0")).join(":");
  return d > 0 ? `${d}d ${hms}` : hms;
}

const enc = encodeURIComponent;
export const queueHref = (vhost, name) => `#/queues/${enc(vhost)}/${enc(name)}`;
export const exchangeHref = (vhost, name) => `#/exchanges/${enc(vhost)}/${enc(name === "" ? "amq.default" : name)}`;
export const connectionHref = (name) => `#/connections/${enc(name)}`;
export const exchangeLabel = (name) => (name === "" ? "(AMQP default)" : name);

/** A table of label → value rows. */
export function kvTable(rows) {
  return h("table", { className: "facts" }, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))));
}

/** A collapsible section, as RabbitMQ's UI groups a page. */
export function section(title, ...children) {
  return h("details", { className: "section", open: true }, h("summary", {}, title), h("div", { className: "section-body" }, ...children));
}

/** JSON of a field table or argument object, one key per line; "" when empty. */
export function argsText(args) {
  if (!args || Array.isArray(args) || Object.keys(args).length === 0) return "";
  return Object.entries(args).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");
}

let toastTimer = 0;
/** A transient message at the bottom of the page; kind "error" stays until the next one. */
export function toast(text, kind = "ok") {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.className = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  if (kind !== "error") toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

/** Runs an action from a button or form: toast on success, the API's reason on failure. */
export async function act(work, done) {
  try {
    const result = await work();
    if (done) toast(done);
    return result;
  } catch (error) {
    toast(error.message, "error");
    return undefined;
  }
}

/**
 * A form of labelled fields: spec is [{name, label, type: "text"|"password"|"select"|"textarea"|
 * "checkbox"|"number", options, value, placeholder}]; onSubmit gets {name: value}.
 */
export function form(spec, submitLabel, onSubmit, attrs = {}) {
  const fields = spec.map((f) => {
    let input;
    if (f.type === "select") {
      input = h("select", { name: f.name }, f.options.map((o) => (Array.isArray(o) ? h("option", { value: o[0] }, o[1]) : h("option", { value: o }, o))));
      if (f.value !== undefined) input.value = f.value;
    } else if (f.type === "textarea") {
      input = h("textarea", { name: f.name, rows: f.rows ?? 4, placeholder: f.placeholder }, f.value ?? "");
    } else if (f.type === "checkbox") {
      input = h("input", { type: "checkbox", name: f.name, checked: f.value === true });
    } else {
      input = h("input", { type: f.type ?? "text", name: f.name, value: f.value, placeholder: f.placeholder, required: f.required, autocomplete: f.autocomplete });
    }
    return h("label", { className: `field field-${f.type ?? "text"}` }, h("span", {}, f.label), input);
  });
  const el = h("form", { className: "form", ...attrs }, fields, h("button", { type: "submit" }, submitLabel));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const f of spec) {
      const input = el.elements.namedItem(f.name);
      values[f.name] = f.type === "checkbox" ? input.checked : input.value;
    }
    const button = el.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(values, el);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

/** "k=v" lines (or a JSON object) → an object; numbers stay numbers. Throws on a bad line. */
export function parseKeyValues(text) {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  if (trimmed.startsWith("{")) return JSON.parse(trimmed);
  const out = {};
  for (const line of trimmed.split("\n")) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`expected key=value, got "${line}"`);
    const key = line.slice(0, eq).trim();
    const raw = line.slice(eq + 1).trim();
    out[key] = /^-?[0-9]+$/.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  }
  return out;
}
