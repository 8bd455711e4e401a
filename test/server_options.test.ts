import { expect, test } from "bun:test";
import { defaults, parseArgs } from "../src/config.ts";

test("the defaults need no flags", () => {
  const config = parseArgs([]);
  expect(config.port).toBe(defaults.port);
  expect(config.queueWindowMessages).toBe(4096);
  expect(config.queueWindow_bytes).toBe(4 * 1024 * 1024);
});

test("a memory window of fewer than 1 message or 4096 bytes is refused at start-up", () => {
  expect(() => parseArgs(["--queue-window-messages", "0"])).toThrow("--queue-window-messages must be at least 1");
  expect(() => parseArgs(["--queue-window-bytes", "0"])).toThrow("--queue-window-bytes must be at least 4096");
  expect(() => parseArgs(["--queue-window-bytes", "x"])).toThrow();
  expect(parseArgs(["--queue-window-messages", "8", "--queue-window-bytes", "65536"]).queueWindow_bytes).toBe(65536);
});

test("a ring size that is not a power of two from 64 KiB is refused at start-up", () => {
  expect(parseArgs([]).ring_bytes).toBe(2 * 1024 * 1024);
  expect(() => parseArgs(["--ring-bytes", "x"])).toThrow();
  for (const bad of ["3000000", "32768", "4294967296"]) {
    expect(() => parseArgs(["--ring-bytes", bad])).toThrow("--ring-bytes must be a power of two from 65536");
  }
  expect(parseArgs(["--ring-bytes", "65536"]).ring_bytes).toBe(65536);
});

test("an unknown flag is refused with the usage", () => {
  expect(() => parseArgs(["--no-such-flag", "1"])).toThrow("unknown option --no-such-flag");
});
