// A fresh clone has no node_modules: `bun run test` must install the devDependencies (tsc, the
// interop clients) itself before it type-checks. The project's package files are copied into an
// empty directory, as a clone would have them, and the install step `bun run test` runs first
// (its pretest script) must leave tsc and the clients there at package-lock.json's versions.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PROJECT_ROOT = join(import.meta.dir, "..");
const PACKAGE_FILES = ["package.json", "package-lock.json", "bunfig.toml"];
/** Installing from Bun's cache takes well under a second; a cold cache downloads 12 packages. */
const INSTALL_TIMEOUT_MS = 120_000;

const dir = mkdtempSync(join(tmpdir(), "warren-fresh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
  return lock.packages[`node_modules/${name}`]!.version;
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

test("bun run test installs the locked devDependencies of a checkout without node_modules before type-checking", async () => {
  for (const file of PACKAGE_FILES) copyFileSync(join(PROJECT_ROOT, file), join(dir, file));
  expect(existsSync(join(dir, "node_modules"))).toBe(false);
  const proc = Bun.spawn(["bun", "run", "pretest"], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, output: code === 0 ? "" : stdout + stderr }).toEqual({ code: 0, output: "" });
  expect(existsSync(join(dir, "node_modules", ".bin", "tsc"))).toBe(true);
  for (const name of ["typescript", "amqplib", "@cloudamqp/amqp-client"]) expect(installedVersion(name)).toBe(lockedVersion(name));
  // The lockfile stays package-lock.json: nothing new to commit after a test run.
  expect(existsSync(join(dir, "bun.lock"))).toBe(false);
}, INSTALL_TIMEOUT_MS);
