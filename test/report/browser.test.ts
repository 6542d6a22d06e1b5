/**
 * The report as a browser shows it: headless Chromium loads the written file (file://, no network
 * flags) and we look at the DOM it built and at a screenshot. Skipped, visibly, without Chromium.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeReport } from "../../src/cli/report.ts";
import { LATENCY_LOG_HEADER } from "../../src/report/latency.ts";


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
