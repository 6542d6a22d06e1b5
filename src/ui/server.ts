/**
 * `paxos demo --ui`: serves one page on loopback that shows a started cluster live (the demo's,
 * handed over as a RunningCluster) and lets its user break it. Every POLL_MS it reads the
 * processes' status files, what the clients were given and the learners delivered (for the live
 * checks) and the clients' latency logs, feeds the model (model.ts) and sends its view to every
 * open page as a server-sent event. Actions come back as POSTs to /api/action, are carried out on
 * the cluster, and are logged on the page and on stderr.
 *
 * The page (page/: HTML, CSS and TypeScript) is bundled by Bun and embedded in the binary.
 */
import { basename } from "node:path";
import type { Server } from "bun";
import { LiveCheck } from "../check/live.ts";
import type { RunningCluster } from "../cluster/local-cluster.ts";
import type { Member } from "../cluster/member.ts";
import { latencyOfLine } from "../report/latency-log.ts";
import { FileTail, type RunFileKind } from "../run-dir.ts";
import { LATENCY_WINDOW, restartPolicy, UiModel, type ProcessSample } from "./model.ts";
import page from "./page/index.html";

/**
 * The page as Bun bundles it (and its scripts and styles, at paths of their own). `/` serves it with
 * the state of the moment inside (pageWithState), so that it shows the cluster from its first
 * paint, before its event stream has said anything.
 */
const BUNDLED_PAGE = "/page.html";

/** How often the files are read and the page redrawn (a redraw costs the browser, and the cluster, CPU). */
export const POLL_MS = 1000;
/** At most this many values for a client added from the page. */
export const ADD_CLIENT_VALUES_MAX = 10_000_000;

export interface UiOptions {
  /** 0: any free port. */
  readonly port: number;
  /** Lines for the terminal (stderr). */
  readonly log: (line: string) => void;
}

/** The latencies of a client log's lines, one per value (headers skipped; a line that does not parse is left out). */
function latenciesOf(lines: readonly string[]): number[] {
  const out: number[] = [];
  for (const line of lines) {
    const l = latencyOfLine(line);
    if (l !== undefined) for (let k = 0; k < l.count; k++) out.push(l.ms);
  }
  return out;
}

export interface ActionRequest {
  readonly action: "kill" | "restart" | "pause" | "resume" | "loss" | "learner" | "client" | "replace";
  readonly name?: string;
  readonly loss?: number;
  readonly values?: number;
}

export class UiServer {
  private cluster!: RunningCluster;
  private model!: UiModel;
  private readonly check = new LiveCheck();
  private readonly tails = new Map<string, FileTail>();
  private readonly paused = new Set<string>();
  private readonly streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private readonly seenAlive = new Map<string, number>();
  private readonly failedChecks = new Set<string>();
  private proposed = 0;
  private server: Server<undefined> | undefined;
  private stopping = false;
  private wake: () => void = () => {};
  private readonly encoder = new TextEncoder();
  private readonly startedMs = Date.now();
  /** The bundled page's HTML, read once from BUNDLED_PAGE. */
  private pageHtml: string | undefined;

  constructor(readonly opts: UiOptions) {}

  /** Whether the page is being served (Ctrl-C then ends the run through stop()). */
  get serving(): boolean {
    return this.server !== undefined;
  }

  /** Ends serve() at its next poll (Ctrl-C). */
  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** Serves the page of a started cluster until stop(), then says how the checks ended; the exit code. */
  async serve(cluster: RunningCluster): Promise<number> {
    this.cluster = cluster;
    this.model = new UiModel(cluster.config.acceptors, this.startedMs);
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: this.opts.port,
      development: false,
      idleTimeout: 0, // an event stream is idle between events
      routes: {
        "/": () => this.pageWithState(),
        [BUNDLED_PAGE]: page,
        "/events": () => this.events(),
        "/api/action": { POST: (req) => this.action(req) },
      },
      fetch: () => new Response("not found", { status: 404 }),
    });
    this.pageHtml = await (await fetch(new URL(BUNDLED_PAGE, this.server.url))).text();
    await this.poll(); // the first state, before anyone has the URL
    this.opts.log(`paxos demo --ui: open ${this.server.url.href} (loopback only; Ctrl-C stops the cluster)`);
    while (!this.stopping) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, POLL_MS);
      });
      await this.poll();
    }
    for (const c of this.streams) c.close();
    this.streams.clear();
    await this.server.stop(true);
    this.server = undefined;
    return this.finish();
  }

  private finish(): number {
    const results = this.check.results();
    this.opts.log("paxos demo --ui: stopping; the checks over what the learners delivered:");
    for (const r of results) this.opts.log(`${r.property.padEnd(12)} ${r.state.toUpperCase().padEnd(7)} ${r.detail}`);
    return results.some((r) => r.state === "failed") ? 1 : 0;
  }

  private note(text: string): void {
    this.model.note(Date.now() - this.startedMs, text);
    this.opts.log(`paxos demo --ui: ${text}`);
  }

  private tail(path: string): FileTail {
    let t = this.tails.get(path);
    if (t === undefined) this.tails.set(path, (t = new FileTail(path)));
    return t;
  }

  /** The lines appended to each file of one kind since the last poll, by file name. */
  private async fresh(kind: RunFileKind): Promise<{ name: string; lines: string[] }[]> {
    const files = this.cluster.dir.list(kind);
    return Promise.all(files.map(async (f) => ({ name: f.name, lines: await this.tail(f.path).lines() })));
  }

  private polled: Promise<void> = Promise.resolve();

  /** One poll at a time (an action polls at once too): the file tails must not read twice. */
  private poll(): Promise<void> {
    this.polled = this.polled.then(() => this.pollOnce());
    return this.polled;
  }

  /** Reads what changed, updates the model and the checks, and sends the view to every page. */
  private async pollOnce(): Promise<void> {
    // Proposed values first: a value a learner delivered was in its client's file before the client started.
    for (const { lines } of await this.fresh("proposed")) {
      this.check.propose(lines);
      this.proposed += lines.length;
    }
    for (const { name, lines } of await this.fresh("learned")) this.check.learn(name, lines);
    for (const f of await this.fresh("clientLatency")) {
      // Only the latest values count (the model keeps a window of them): the rest is not parsed.
      const lines = f.lines.slice(-LATENCY_WINDOW);
      if (lines.length > 0) this.model.addLatencies(latenciesOf(lines));
    }
    const results = this.check.results();
    for (const r of results) {
      if (r.state !== "failed" || this.failedChecks.has(r.property)) continue;
      this.failedChecks.add(r.property);
      this.note(`CHECK FAILED: ${r.property}: ${r.detail}`);
    }
    this.model.setChecks(results);
    this.model.setProposed(this.proposed);
    const nowMs = Date.now() - this.startedMs;
    this.model.observe(nowMs, this.sample());
    if (this.streams.size === 0) return;
    const event = this.encoder.encode(`data: ${JSON.stringify(this.model.view(nowMs))}\n\n`);
    for (const c of this.streams) {
      try {
        c.enqueue(event);
      } catch {
        this.streams.delete(c); // the page went away
      }
    }
  }

  /** Each member's newest incarnation, and the ends nobody asked for (a client done, a process failing). */
  private sample(): ProcessSample[] {
    return this.cluster.processes().map((m) => {
      const alive = m.alive;
      if (this.seenAlive.get(m.name) === m.pid && !alive) {
        this.seenAlive.delete(m.name);
        const why = m.exitCode === 0 ? (m.role === "client" ? "all its values decided" : "done") : `code ${m.exitCode ?? m.proc.signalCode}`;
        this.note(`${m.name} (pid ${m.pid}) exited: ${why}`);
      } else if (alive) this.seenAlive.set(m.name, m.pid);
      if (!alive) this.paused.delete(m.name);
      return { name: m.name, role: m.role, id: m.id, pid: m.pid, alive, paused: this.paused.has(m.name), exitCode: m.exitCode, status: m.status() };
    });
  }

  /** The page with the view of the moment in it, as the JSON the events carry (app.ts draws it at once). */
  private pageWithState(): Response {
    if (this.pageHtml === undefined) return Response.redirect(BUNDLED_PAGE, 302); // only before serve() read it
    const view = JSON.stringify(this.model.view(Date.now() - this.startedMs)).replace(/</g, "\\u003c"); // no "</script>" inside
    const html = this.pageHtml.replace("</head>", `<script id="state" type="application/json">${view}</script>\n</head>`);
    return new Response(html, { headers: { "Content-Type": "text/html;charset=utf-8", "Cache-Control": "no-store" } });
  }

  private events(): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        this.streams.add(c);
        const nowMs = Date.now() - this.startedMs;
        c.enqueue(this.encoder.encode(`retry: 1000\ndata: ${JSON.stringify(this.model.view(nowMs))}\n\n`));
      },
      cancel: () => void this.streams.delete(controller),
    });
    return new Response(stream, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-store" } });
  }

  /**
   * One action from the page. JSON only: a page of another origin cannot send that without a
   * CORS preflight, which this server never grants.
   */
  private async action(req: Request): Promise<Response> {
    if (!(req.headers.get("content-type") ?? "").startsWith("application/json")) return Response.json({ error: "expected application/json" }, { status: 415 });
    let a: ActionRequest;
    try {
      a = (await req.json()) as ActionRequest;
      const done = await this.act(a);
      return Response.json({ ok: true, message: done });
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 400 });
    }
  }

  private member(name: string | undefined): Member {
    const m = name === undefined ? undefined : this.cluster.get(name);
    if (m === undefined) throw new Error(`no process ${name}`);
    return m;
  }

  private async act(a: ActionRequest): Promise<string> {
    const cluster = this.cluster;
    let text: string;
    switch (a.action) {
      case "kill": {
        const m = this.member(a.name);
        if (!m.alive) throw new Error(`${m.name} is not running`);
        this.seenAlive.delete(m.name);
        await cluster.crash(m.name);
        this.paused.delete(m.name);
        text = `kill -9 ${m.name} (pid ${m.pid})`;
        break;
      }
      case "restart": {
        const m = this.member(a.name);
        if (m.alive) throw new Error(`${m.name} is running`);
        const policy = restartPolicy(m.role, m.status());
        if (!policy.allowed) throw new Error(`${m.name} cannot be restarted: ${policy.why}`);
        const again = cluster.restart(m.name);
        if (m.role === "learner") {
          // It learns the sequence again from the start: its output starts over (the cluster emptied it), and so do its checks.
          const out = cluster.dir.learned(m.id);
          this.tail(out).reset();
          this.check.restart(basename(out));
        }
        text = `restart ${m.name} (pid ${again.pid})`;
        break;
      }
      case "pause":
      case "resume": {
        const m = this.member(a.name);
        if (!m.alive) throw new Error(`${m.name} is not running`);
        if (a.action === "pause") {
          cluster.pause(m.name);
          this.paused.add(m.name);
        } else {
          cluster.resume(m.name);
          this.paused.delete(m.name);
        }
        text = `${a.action === "pause" ? "pause (SIGSTOP)" : "resume (SIGCONT)"} ${m.name} (pid ${m.pid})`;
        break;
      }
      case "loss": {
        const m = this.member(a.name);
        const loss = a.loss;
        if (typeof loss !== "number" || !(loss >= 0 && loss <= 0.99)) throw new Error("loss: expected a probability from 0 to 0.99");
        cluster.setLoss(m.name, loss);
        text = `injected loss at ${m.name}: ${loss}`;
        break;
      }
      case "replace": {
        const m = this.member(a.name);
        if (m.alive) this.seenAlive.delete(m.name);
        const { joined, output } = await cluster.replaceAcceptor(m.name);
        this.paused.delete(m.name);
        text = `replace ${m.name} by ${joined.name} (--join, pid ${joined.pid}): ${output}`;
        break;
      }
      case "learner": {
        const m = cluster.addLearner();
        text = `start ${m.name} late (pid ${m.pid}): it catches up on what was decided`;
        break;
      }
      case "client": {
        const n = a.values;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > ADD_CLIENT_VALUES_MAX) throw new Error(`values: expected a whole number from 1 to ${ADD_CLIENT_VALUES_MAX}`);
        const m = await cluster.addClient(n);
        text = `start ${m.name} with ${n} values (pid ${m.pid})`;
        break;
      }
      default:
        throw new Error(`unknown action ${JSON.stringify((a as { action?: unknown }).action)}`);
    }
    this.note(text);
    await this.poll(); // the page sees the effect at once
    return text;
  }
}
