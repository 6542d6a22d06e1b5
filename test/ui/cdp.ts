/**
 * Headless Chromium driven over the DevTools protocol (a WebSocket), for pages that keep changing
 * (the demo's live page): open a page, evaluate expressions in it, wait for a condition, take a
 * screenshot. Flags as in test/report/browser.test.ts: a fresh profile, nothing that reaches out.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const CHROMIUM = "/usr/bin/chromium";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly proc: Subprocess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    };
  }

  static async launch(width = 1400, height = 900): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), "paxos-cdp-"));
    const proc = Bun.spawn(
      [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        `--window-size=${width},${height}`, `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank",
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    // Chromium says where its DevTools endpoint is on stderr.
    let text = "";
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (url === undefined) {
      if (Date.now() > deadline) throw new Error(`chromium gave no DevTools endpoint: ${text}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`chromium exited: ${text}`);
      text += dec.decode(value);
      url = /DevTools listening on (ws:\/\/\S+)/.exec(text)?.[1];
    }
    void (async () => {
      while (!(await reader.read()).done) {} // keep draining: a full pipe would stall chromium
    })();
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    return new Browser(proc, ws, profile);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Opens a page; `beforeLoad` (JavaScript) runs in it before any of the page's own scripts. */
  async open(url: string, beforeLoad?: string): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>("Target.createTarget", { url: beforeLoad === undefined ? url : "about:blank" });
    const { sessionId } = await this.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
    if (beforeLoad !== undefined) {
      await this.send("Page.enable", {}, sessionId);
      await this.send("Page.addScriptToEvaluateOnNewDocument", { source: beforeLoad }, sessionId);
      await this.send("Page.navigate", { url }, sessionId);
    }
    return new Page(this, sessionId);
  }

  async close(): Promise<void> {
    this.ws.close();
    this.proc.kill();
    await this.proc.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {}

  /** The value of a JavaScript expression in the page (JSON-serializable). */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.browser.send<{ result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true },
      this.sessionId,
    );
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Waits until the expression is truthy; returns its value. */
  async waitFor<T>(expression: string, timeoutMs: number, what = expression): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.eval<T>(expression).catch(() => undefined);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await Bun.sleep(100);
    }
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.browser.send<{ data: string }>("Page.captureScreenshot", { format: "png" }, this.sessionId);
    await Bun.write(path, Buffer.from(data, "base64"));
  }
}
