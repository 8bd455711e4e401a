// A headless Chromium driven through the DevTools protocol, for the dashboard's browser tests:
// launched with --remote-debugging-port=0, its port read from DevToolsActivePort, one WebSocket
// (Bun's) to the browser, pages attached as flat sessions. No driver package: the few commands
// the tests need (navigate, evaluate, screenshot, dialogs) are plain CDP messages.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const LAUNCH_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 15_000;

/** The chromium binary, or null when it is not installed (the browser tests then skip). */
export function findChromium(): string | null {
  for (const candidate of [Bun.which("chromium"), "/usr/bin/chromium"]) if (candidate && existsSync(candidate)) return candidate;
  return null;
}

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

type EventListener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, EventListener[]>();

  private constructor(
    private readonly proc: Subprocess,
    private readonly ws: WebSocket,
    private readonly profileDir: string,
  ) {
    ws.addEventListener("message", (event) => this.onMessage(String(event.data)));
  }

  static async launch(binary: string): Promise<Browser> {
    const profileDir = mkdtempSync(join(tmpdir(), "warren-chromium-"));
    const proc = Bun.spawn(
      [binary, "--headless=new", "--no-sandbox", "--remote-debugging-port=0", `--user-data-dir=${profileDir}`, "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions", "--hide-scrollbars", "about:blank"],
      // Its own process group, so stopping it takes the renderer and GPU processes too.
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", detached: true },
    );
    const portFile = join(profileDir, "DevToolsActivePort");
    const deadline = Date.now() + LAUNCH_TIMEOUT_MS;
    while (!existsSync(portFile) || readFileSync(portFile, "utf8").split("\n").length < 2) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        const stderr = await new Response(proc.stderr).text().catch(() => "");
        killGroup(proc);
        throw new Error(`chromium did not start (exit ${proc.exitCode}): ${stderr.slice(0, 2000)}`);
      }
      await Bun.sleep(50);
    }
    const [port, path] = readFileSync(portFile, "utf8").trim().split("\n");
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot connect to chromium's DevTools socket")), { once: true });
    });
    return new Browser(proc, ws, profileDir);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`DevTools ${method} timed out`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }));
    });
  }

  on(event: string, listener: EventListener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) p?.reject(new Error(message.error.message));
      else p?.resolve(message.result ?? {});
      return;
    }
    if (message.method !== undefined) for (const l of this.listeners.get(message.method) ?? []) l(message.params ?? {}, message.sessionId);
  }

  /** A new tab of the given size, attached as its own session. */
  async newPage(width = 1280, height = 800): Promise<Page> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    // Delete and purge buttons ask confirm(): the tests accept every dialog.
    this.on("Page.javascriptDialogOpening", (_params, from) => {
      if (from === sessionId) void page.send("Page.handleJavaScriptDialog", { accept: true });
    });
    this.on("Runtime.exceptionThrown", (params, from) => {
      if (from === sessionId) page.errors.push(JSON.stringify((params as { exceptionDetails?: unknown }).exceptionDetails));
    });
    return page;
  }

  /** Downloads go to `dir` (the browser's default is to refuse them when headless). */
  async allowDownloads(dir: string): Promise<void> {
    await this.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir, eventsEnabled: true });
    this.on("Browser.downloadWillBegin", (params) => this.downloads.push(`begin ${String(params["suggestedFilename"])}`));
    this.on("Browser.downloadProgress", (params) => {
      if (params["state"] !== "inProgress") this.downloads.push(String(params["state"]));
    });
  }

  /** What the browser reported of downloads since allowDownloads: begins, completions, cancels. */
  readonly downloads: string[] = [];

  async close(): Promise<void> {
    this.ws.close();
    killGroup(this.proc);
    await this.proc.exited;
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

function killGroup(proc: Subprocess): void {
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export class Page {
  /** Uncaught exceptions of the page's scripts. */
  readonly errors: string[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
    await this.waitFor("document.readyState === 'complete'", "the page to load");
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails !== undefined) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls until the expression is truthy; fails naming `what` and the page's text. */
  async waitFor(expression: string, what: string, timeout_ms = 15_000): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      if (await this.evaluate<boolean>(`Boolean(${expression})`).catch(() => false)) return;
      if (Date.now() > deadline) {
        const text = await this.evaluate<string>("document.body ? document.body.innerText.slice(0, 1500) : ''").catch(() => "");
        throw new Error(`timed out waiting for ${what}; page shows:\n${text}`);
      }
      await Bun.sleep(100);
    }
  }

  /** Sets form fields by CSS selector (firing input/change, as typing would) . */
  async fill(fields: Record<string, string>): Promise<void> {
    await this.evaluate(`(() => {
      for (const [selector, value] of Object.entries(${JSON.stringify(fields)})) {
        const el = document.querySelector(selector);
        if (!el) throw new Error("no element " + selector);
        el.value = value;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    })()`);
  }

  /**
   * A real mouse click in the middle of the element, once the element is where it was measured: a
   * page still laying out (charts, tables filling in) can move it between the measure and the click.
   */
  async click(selector: string, timeout_ms = 15_000): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    let last: { x: number; y: number } | null = null;
    for (;;) {
      const box = await this.evaluate<{ x: number; y: number; hit: boolean } | null>(`(() => {
        const el = document.querySelector(${JSON.stringify(selector)});
        if (!el) return null;
        el.scrollIntoView({ block: "center" });
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        const top = document.elementFromPoint(x, y);
        return { x, y, hit: top !== null && (top === el || el.contains(top)) };
      })()`);
      if (box !== null && box.hit && last !== null && last.x === box.x && last.y === box.y) {
        for (const type of ["mousePressed", "mouseReleased"]) {
          await this.send("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
        }
        return;
      }
      if (Date.now() > deadline) throw new Error(box === null ? `no element ${selector} to click` : `${selector} did not settle under the pointer`);
      last = box;
      await Bun.sleep(50);
    }
  }

  /** Chooses files in an <input type=file>, as a user picking them would. */
  async setFiles(selector: string, files: string[]): Promise<void> {
    const { root } = (await this.send("DOM.getDocument")) as { root: { nodeId: number } };
    const { nodeId } = (await this.send("DOM.querySelector", { nodeId: root.nodeId, selector })) as { nodeId: number };
    if (nodeId === 0) throw new Error(`no element ${selector}`);
    await this.send("DOM.setFileInputFiles", { nodeId, files });
  }

  async screenshot(path: string): Promise<void> {
    const { data } = (await this.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    await Bun.write(path, Buffer.from(data, "base64"));
  }
}
