// A sortable, filterable table: columns say how to read (for sorting and filtering) and how to
// show a row; update() re-renders with new rows and keeps the sort order and the filter.
import { fill, h, section } from "./ui.js";

/**
 * columns: [{id, label, value(row), render?(row), numeric?}]; rowKey(row) names a row (data-key,
 * for links and tests); filter: whether to show the filter box.
 */
export function dataTable({ columns, rowKey, filter = true, empty = "Nothing to show.", sort = null }) {
  let rows = [];
  let sortBy = sort ?? { id: columns[0].id, descending: false };
  const filterInput = h("input", { type: "search", placeholder: "Filter", className: "filter", "aria-label": "Filter" });
  const regex = h("input", { type: "checkbox", title: "Regular expression" });
  const count = h("span", { className: "count" });
  const thead = h("thead");
  const tbody = h("tbody");
  const table = h("table", { className: "list" }, thead, tbody);
  const el = h("div", { className: "table-wrap" }, filter ? h("div", { className: "table-tools" }, filterInput, h("label", { className: "regex" }, regex, " Regex"), count) : null, table);

  function renderHead() {
    fill(thead, h("tr", {}, columns.map((c) => {
      const arrow = sortBy.id === c.id ? (sortBy.descending ? " ▼" : " ▲") : "";
      return h("th", {
        className: `${c.numeric ? "num" : ""} sortable`,
        dataset: { col: c.id },
        onclick: () => {
          sortBy = { id: c.id, descending: sortBy.id === c.id ? !sortBy.descending : !!c.numeric };
          render();
        },
      }, c.label, arrow);
    })));
  }

  function matcher() {
    const text = filterInput.value.trim();
    if (text === "") return () => true;
    if (regex.checked) {
      try {
        const re = new RegExp(text, "i");
        filterInput.classList.remove("invalid");
        return (s) => re.test(s);
      } catch {
        filterInput.classList.add("invalid");
        return () => true;
      }
    }
    const lower = text.toLowerCase();
    return (s) => s.toLowerCase().includes(lower);
  }

  function render() {
    renderHead();
    const column = columns.find((c) => c.id === sortBy.id) ?? columns[0];
    const matches = matcher();
    const shown = rows.filter((r) => matches(columns.map((c) => String(c.value(r) ?? "")).join(" ")));
    shown.sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""));
      return sortBy.descending ? -order : order;
    });
    count.textContent = `${shown.length} of ${rows.length} item${rows.length === 1 ? "" : "s"}`;
    if (shown.length === 0) {
      fill(tbody, h("tr", {}, h("td", { colspan: columns.length, className: "empty" }, rows.length === 0 ? empty : "No item matches the filter.")));
      return;
    }
    fill(tbody, shown.map((r) => h("tr", { dataset: { key: rowKey(r) } }, columns.map((c) => h("td", { className: c.numeric ? "num" : "", dataset: { col: c.id } }, c.render ? c.render(r) : String(c.value(r) ?? ""))))));
  }

  filterInput.addEventListener("input", render);
  regex.addEventListener("change", render);
  render();
  return {
    el,
    update(next) {
      rows = next;
      render();
    },
  };
}

/**
 * A list page as RabbitMQ's Queues and Exchanges tabs: the table of /api/<noun>s, and under it an
 * "Add a new <noun>" form, built once the vhosts are known. addForm(vhosts, reload) returns the
 * form; reload() refreshes the table after an addition.
 */
export function listPage(main, { noun, table, addForm }, api) {
  const add = h("div");
  const listPath = `/api/${noun}s`;
  main.append(h("h1", {}, `${noun[0].toUpperCase()}${noun.slice(1)}s`), section(`All ${noun}s`, table.el), section(`Add a new ${noun}`, add));
  const reload = async () => table.update(await api("GET", listPath));
  let formShown = false;
  return {
    async refresh() {
      await reload();
      if (formShown) return;
      formShown = true;
      const vhosts = (await api("GET", "/api/vhosts")).map((v) => v.name);
      fill(add, addForm(vhosts, reload));
    },
  };
}
