// Log lines to stderr with a level and an ISO timestamp. One writer for the whole broker.

export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: LogLevel = "info";

function write(level: LogLevel, text: string): void {
  if (order[level] < order[threshold]) return;
  process.stderr.write(`${new Date().toISOString()} [${level}] ${text}\n`);
}

export const log = {
  setLevel(level: LogLevel): void {
    threshold = level;
  },
  debug: (text: string) => write("debug", text),
  info: (text: string) => write("info", text),
  warn: (text: string) => write("warn", text),
  error: (text: string) => write("error", text),
};
