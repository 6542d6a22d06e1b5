/**
 * Prometheus text exposition over Bun.serve (config `metrics.listen`, off by default). Values are
 * read from the role and the node when scraped; histograms are filled as events happen.
 */
import type { Server } from "bun";
import { BUILD } from "../version.ts";

type Labels = Record<string, string | number>;

interface Series {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly read: () => { labels?: Labels; value: number }[];
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  /** Counts x (`times` observations of it) in its own bucket only (on the hot path); render() makes the counts cumulative. */
  observe(x: number, times = 1): void {
    this.sum += x * times;
    this.count += times;
    let i = 0;
    while (i < this.bounds.length && x > this.bounds[i]!) i++;
    if (i < this.bounds.length) this.counts[i]! += times;
  }

  render(base: Labels): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    this.bounds.forEach((b, i) => {
      cumulative += this.counts[i]!;
      lines.push(`${this.name}_bucket${fmt({ ...base, le: b })} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket${fmt({ ...base, le: "+Inf" })} ${this.count}`);
    lines.push(`${this.name}_sum${fmt(base)} ${this.sum}`, `${this.name}_count${fmt(base)} ${this.count}`);
    return lines.join("\n");
  }
}

function fmt(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, "_")}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export class Metrics {
  private readonly series: Series[] = [];
  private readonly histograms: Histogram[] = [];

  constructor(private readonly base: Labels) {}

  counter(name: string, help: string, read: Series["read"]): void {
    this.series.push({ name, help, type: "counter", read });
  }

  gauge(name: string, help: string, read: Series["read"]): void {
    this.series.push({ name, help, type: "gauge", read });
  }

  /** `paxos_build_info{version,commit,built} 1`: what `paxos --version` prints, for every role. */
  registerBuildInfo(): void {
    const labels = { version: BUILD.version, commit: BUILD.commit, built: BUILD.built };
    this.gauge("paxos_build_info", "Always 1; the labels say which build this process runs", () => [{ labels, value: 1 }]);
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    const h = new Histogram(name, help, bounds);
    this.histograms.push(h);
    return h;
  }

  render(): string {
    const out: string[] = [];
    for (const s of this.series) {
      out.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
      for (const { labels, value } of s.read()) out.push(`${s.name}${fmt({ ...this.base, ...labels })} ${value}`);
    }
    for (const h of this.histograms) out.push(h.render(this.base));
    return `${out.join("\n")}\n`;
  }

  /** Serves /metrics on "host:port"; returns the server (stop it on exit). */
  serve(listen: string): Server<undefined> {
    const at = listen.lastIndexOf(":");
    const hostname = listen.slice(0, at);
    const port = Number(listen.slice(at + 1));
    return Bun.serve({
      hostname,
      port,
      fetch: (req) =>
        new URL(req.url).pathname === "/metrics"
          ? new Response(this.render(), { headers: { "content-type": "text/plain; version=0.0.4" } })
          : new Response("see /metrics\n", { status: 404 }),
    });
  }
}

/**
 * The standard process series of Prometheus client libraries: resident memory and CPU time
 * (user + system) of this process, read when scraped.
 */
export function registerProcessMetrics(metrics: Metrics): void {
  metrics.gauge("process_resident_memory_bytes", "Resident memory size in bytes", () => [{ value: process.memoryUsage.rss() }]);
  metrics.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds", () => {
    const { user, system } = process.cpuUsage();
    return [{ value: (user + system) / 1e6 }];
  });
}
