/**
 * The report as a browser shows it: headless Chromium loads the written file (file://, no network
 * flags) and we look at the DOM it built and at a screenshot. Skipped, visibly, without Chromium.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeReport } from "../../src/report/files.ts";
import { LATENCY_LOG_HEADER } from "../../src/report/latency-log.ts";


// Real processes on a shared, sometimes busy, 2-core machine: room beyond bun's 5 s default.
setDefaultTimeout(120_000);
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const CHART_IDS = ["chart-cdf", "chart-latency", "chart-throughput"];
const CHROMIUM_TIMEOUT_MS = 60_000;

const work = mkdtempSync(join(tmpdir(), "paxos-report-browser-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Two clients' latency logs: ~5000 values/s, latencies 1..3 ms, and a 40 ms stall mid-run. */
function writeLogs(dir: string, perClient: number): void {
  const t0 = 1_700_000_000_000;
  for (const client of [1, 2]) {
    const rows = Array.from({ length: perClient }, (_, i) => {
      const stall = i > perClient / 2 && i < perClient / 2 + 25 ? 40 - (i - perClient / 2) * 1.6 : 0;
      const latencyMs = 1 + ((i * 37 + client * 11) % 100) / 50 + stall;
      return `${i + 1}\t${(t0 + i * 0.4 + client * 0.2).toFixed(3)}\t${latencyMs.toFixed(3)}`;
    });
    writeFileSync(join(dir, `latency-client-${client}.tsv`), `${LATENCY_LOG_HEADER}\n${rows.join("\n")}\n`);
  }
}

/** Runs headless Chromium with a fresh profile and everything that could reach the network off. */
async function chromium(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(work, "profile-"));
  const proc = Bun.spawn(
    [
      CHROMIUM,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => proc.kill(), CHROMIUM_TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    rmSync(profile, { recursive: true, force: true });
  }
}

const name = hasChromium ? "renders in headless Chromium" : `renders in headless Chromium (skipped: ${CHROMIUM} not installed)`;

test.skipIf(!hasChromium)(
  name,
  async () => {
    writeLogs(work, 3000);
    const { path } = await writeReport(work);
    const url = `file://${path}`;

    const dom = await chromium(["--dump-dom", url]);
    expect(dom.code).toBe(0);
    for (const id of CHART_IDS) {
      const svg = new RegExp(`<svg[^>]*\\bid="${id}"[^>]*>[\\s\\S]*?</svg>`).exec(dom.stdout)?.[0];
      expect(svg, `${id} in the rendered DOM`).toBeDefined();
      expect(svg!).toMatch(/<(path|circle) class="series"/);
    }

    const png = join(work, "report.png");
    const shot = await chromium(["--screenshot=" + png, "--window-size=1200,1600", "--hide-scrollbars", url]);
    expect(shot.code).toBe(0);
    const bytes = new Uint8Array(await Bun.file(png).arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    // A blank 1200x1600 page compresses to a few kB; three charts with text and points do not.
    expect(statSync(png).size).toBeGreaterThan(40_000);
  },
  2 * CHROMIUM_TIMEOUT_MS + 10_000,
);

/**
 * Where Chromium put every tick label and axis title of each chart: a copy of the report's charts
 * with a script that measures them (the report itself allows no script) and writes the boxes into
 * the page, read back with --dump-dom.
 */
async function measuredBoxes(reportHtml: string): Promise<Record<string, { cls: string; text: string; left: number; right: number; top: number; bottom: number }[]>> {
  const style = /<style>[\s\S]*?<\/style>/.exec(reportHtml)![0];
  const svgs = reportHtml.match(/<svg[\s\S]*?<\/svg>/g)!.join("\n");
  const page = join(work, `measure-${Math.random().toString(36).slice(2)}.html`);
  writeFileSync(
    page,
    `<!DOCTYPE html><html><head><meta charset="utf-8">${style}</head><body>${svgs}<script>
const out = {};
for (const svg of document.querySelectorAll("svg.chart")) {
  const frame = svg.getBoundingClientRect();
  out[svg.id] = [...svg.querySelectorAll("text.tick, text.axis-title")].map((t) => {
    const r = t.getBoundingClientRect();
    return { cls: t.getAttribute("class"), text: t.textContent, left: r.left - frame.left, right: r.right - frame.left, top: r.top - frame.top, bottom: r.bottom - frame.top };
  });
}
const pre = document.createElement("pre");
pre.id = "boxes";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script></body></html>`,
  );
  const dom = await chromium(["--dump-dom", "--window-size=800,1200", `file://${page}`]);
  expect(dom.code).toBe(0);
  const json = /<pre id="boxes">([\s\S]*?)<\/pre>/.exec(dom.stdout)?.[1];
  expect(json, "the measuring script ran").toBeDefined();
  return JSON.parse(json!.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">"));
}

test.skipIf(!hasChromium)(
  hasChromium ? "axis titles overlap no tick label, and stay inside the chart, at 6-digit throughputs too" : "axis layout (skipped: no Chromium)",
  async () => {
    // Two clients at about 200,000 values/s each: the throughput axis needs 6-digit labels.
    const dir = mkdtempSync(join(work, "fast-"));
    const t0 = 1_700_000_000_000;
    for (const client of [1, 2]) {
      const rows = Array.from({ length: 40_000 }, (_, i) => `${i + 1}\t${(t0 + i * 0.005).toFixed(3)}\t${(0.5 + (i % 7) * 0.1).toFixed(3)}`);
      writeFileSync(join(dir, `latency-client-${client}.tsv`), `${LATENCY_LOG_HEADER}\n${rows.join("\n")}\n`);
    }
    const { path } = await writeReport(dir);
    const html = await Bun.file(path).text();
    expect(/id="chart-throughput"[\s\S]*?<\/svg>/.exec(html)![0]).toMatch(/>\d{6}<\/text>/);
    const boxes = await measuredBoxes(html);
    expect(Object.keys(boxes).sort()).toEqual([...CHART_IDS].sort());
    for (const [id, texts] of Object.entries(boxes)) {
      const titles = texts.filter((t) => t.cls === "axis-title");
      const ticks = texts.filter((t) => t.cls === "tick");
      expect(titles).toHaveLength(2);
      for (const title of titles) {
        expect(title.left, `${id}: "${title.text}" inside the chart`).toBeGreaterThanOrEqual(0);
        for (const tick of ticks) {
          const overlap = title.left < tick.right && tick.left < title.right && title.top < tick.bottom && tick.top < title.bottom;
          expect(overlap, `${id}: "${title.text}" overlaps tick label "${tick.text}"`).toBe(false);
        }
      }
    }
  },
  2 * CHROMIUM_TIMEOUT_MS,
);
