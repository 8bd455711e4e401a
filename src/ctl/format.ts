// rabbitmqctl's output shapes. Table: a tab-separated header line, then one tab-separated line
// per row, with lists as "[a, b]" and tables (arguments, client properties) as Erlang-style
// proplists: [{"x-max-length",10}]. JSON (--formatter json): one object per row, laid out as
// rabbitmqctl does ("[", rows joined by "\n,", "]"), with values as the API returns them.

export type Row = Record<string, unknown>;

/** A value inside a proplist: strings quoted, tables nested. */
function term(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(term).join(",")}]`;
  if (value !== null && typeof value === "object") return proplist(value as Row);
  return String(value);
}

function proplist(table: Row): string {
  return `[${Object.entries(table).map(([k, v]) => `{${JSON.stringify(k)},${term(v)}}`).join(",")}]`;
}

/** One table cell. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === "string" ? v : term(v))).join(", ")}]`;
  if (typeof value === "object") return proplist(value as Row);
  return String(value);
}

export function formatTable(columns: readonly string[], rows: readonly Row[], headers: boolean): string {
  const lines = rows.map((row) => columns.map((c) => cell(row[c])).join("\t"));
  if (headers) lines.unshift(columns.join("\t"));
  return lines.map((l) => `${l}\n`).join("");
}

export function formatJson(columns: readonly string[], rows: readonly Row[]): string {
  const objects = rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null]))));
  return objects.length === 0 ? "[\n]\n" : `[\n${objects.join("\n,")}\n]\n`;
}
