/**
 * The run report: one self-contained HTML file with inline SVG charts drawn here (no library, no
 * script, no font or image, no network), so it opens anywhere, offline, years later. Also the
 * few lines the terminal shows.
 */
import {
  cdf,
  latencySeries,
  throughputSeries,
  type LatencySummary,
} from "./latency.ts";
import type { LatencySample } from "./latency-log.ts";

// ---- Charts: linear or log axes with "nice" ticks, grid and axis titles, drawn as inline SVG. ----

/** Escapes text for HTML and SVG element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An axis range that starts and ends on a tick. */
export interface Scale {
  min: number;
  max: number;
  ticks: number[];
  /** What each tick shows, as many decimals as the ticks need. */
  labels: string[];
  /** Logarithmic: equal ratios take equal room (min > 0). */
  log: boolean;
}

/** 1, 2 or 5 times a power of ten, the one nearest `raw` (the thresholds d3-array uses). */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  return (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1) * power;
}

/** A throughput bucket of 1, 2 or 5 times a power of ten ms (at least 1) that cuts `durationMs` into about `bucketsTarget`. */
export function niceBucketMs(durationMs: number, bucketsTarget: number): number {
  return Math.max(1, niceStep(Math.max(durationMs, 1) / bucketsTarget));
}

const decimalsOf = (step: number): number => Math.max(0, -Math.floor(Math.log10(step)));

/** About `ticksTarget` evenly spaced ticks covering [lo, hi]. */
export function niceScale(lo: number, hi: number, ticksTarget = 6): Scale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceScale: range [${lo}, ${hi}] is not finite`);
  // A range too narrow for float steps (one sample, or all alike) is widened, so nothing divides by zero.
  if (hi - lo <= Math.abs(hi) * 1e-9) [lo, hi] = lo === 0 && hi === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  const step = niceStep((hi - lo) / ticksTarget);
  const decimals = decimalsOf(step);
  // Rounded to the step's decimals, so 0.1 * 3 is 0.3 and not 0.30000000000000004.
  const round = (v: number) => Number(v.toFixed(decimals));
  const count = Math.ceil(hi / step) - Math.floor(lo / step);
  const min = round(Math.floor(lo / step) * step);
  const ticks = Array.from({ length: count + 1 }, (_, i) => round(min + i * step));
  return { min, max: ticks[count]!, ticks, labels: ticks.map((t) => t.toFixed(decimals)), log: false };
}

/** Ticks at most, beyond which a log axis shows powers of ten only. */
const LOG_TICKS_MAX = 12;

/** A logarithmic axis from the 1-2-5 value at or below `lo` to the one above `hi` (0 < lo). */
export function logScale(lo: number, hi: number): Scale {
  if (!(lo > 0) || !Number.isFinite(hi)) throw new Error(`logScale: range [${lo}, ${hi}] is not positive and finite`);
  const candidates: number[] = [];
  for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)) + 1; d++) {
    for (const m of [1, 2, 5]) candidates.push(Number((m * 10 ** d).toPrecision(1)));
  }
  const min = candidates.findLast((c) => c <= lo)!;
  const max = candidates.find((c) => c >= hi && c > min)!;
  let ticks = candidates.filter((c) => c >= min && c <= max);
  if (ticks.length > LOG_TICKS_MAX) {
    // Many decades: whole decades only, so neighbouring labels cannot overlap.
    const [dMin, dMax] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
    ticks = candidates.filter((c) => c >= 10 ** dMin && c <= 10 ** dMax && Number.isInteger(Math.log10(c)));
  }
  const labels = ticks.map((t) => t.toFixed(decimalsOf(t)));
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, ticks, labels, log: true };
}

/** Where `v` sits on the axis, 0 at min and 1 at max. */
function position(s: Scale, v: number): number {
  return s.log ? Math.log10(v / s.min) / Math.log10(s.max / s.min) : (v - s.min) / (s.max - s.min);
}

const CHART_WIDTH = 760;
const CHART_HEIGHT = 340;
const MARGIN = { right: 20, top: 16, bottom: 50 };
const PLOT_HEIGHT = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
/** Widest a tick label's character is at 12px (digits are 0.55 to 0.64 em in common sans fonts). */
const TICK_CHAR_PX = 7.7;
/** From a y tick label to the axis line. */
const TICK_GAP_PX = 8;
/** The rotated y axis title: its baseline is this far from the chart's left edge; glyphs reach ~12 px left of it and ~4 px right. */
const Y_TITLE_BASELINE_PX = 16;
const Y_TITLE_DESCENT_PX = 4;
/** Between the y axis title and the widest tick label. */
const Y_TITLE_GAP_PX = 8;

/** Data coordinates to SVG coordinates for one chart. */
interface Frame {
  /** Where the plot starts: room for the y tick labels and the axis title, so they never overlap. */
  readonly left: number;
  readonly width: number;
  x(v: number): number;
  y(v: number): number;
}

interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  x: Scale;
  y: Scale;
  /** SVG elements of the data; their data elements carry class "series". */
  body(frame: Frame): string;
}

/** An SVG coordinate; a NaN here would be a bug in a scale, so it stops the report. */
function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`SVG coordinate is ${v}`);
  return v.toFixed(1);
}

function frameOf(x: Scale, y: Scale): Frame {
  const labelPx = Math.max(...y.labels.map((l) => l.length)) * TICK_CHAR_PX;
  const left = Math.ceil(Y_TITLE_BASELINE_PX + Y_TITLE_DESCENT_PX + Y_TITLE_GAP_PX + labelPx + TICK_GAP_PX);
  const width = CHART_WIDTH - left - MARGIN.right;
  return {
    left,
    width,
    x: (v) => left + position(x, v) * width,
    y: (v) => MARGIN.top + PLOT_HEIGHT - position(y, v) * PLOT_HEIGHT,
  };
}

function axes(spec: ChartSpec, f: Frame): string {
  const bottom = MARGIN.top + PLOT_HEIGHT;
  const right = f.left + f.width;
  const xTicks = spec.x.ticks.map((t, i) => {
    const x = num(f.x(t));
    return `<line class="grid" x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${bottom}"/><text class="tick" x="${x}" y="${bottom + 18}" text-anchor="middle">${spec.x.labels[i]}</text>`;
  });
  const yTicks = spec.y.ticks.map((t, i) => {
    const y = num(f.y(t));
    return `<line class="grid" x1="${f.left}" y1="${y}" x2="${right}" y2="${y}"/><text class="tick" x="${f.left - TICK_GAP_PX}" y="${y}" dy="0.32em" text-anchor="end">${spec.y.labels[i]}</text>`;
  });
  const midY = MARGIN.top + PLOT_HEIGHT / 2;
  return [
    ...xTicks,
    ...yTicks,
    `<path class="axis" d="M${f.left},${MARGIN.top}V${bottom}H${right}"/>`,
    `<text class="axis-title" x="${num(f.left + f.width / 2)}" y="${CHART_HEIGHT - 8}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`,
    `<text class="axis-title" transform="translate(${Y_TITLE_BASELINE_PX},${midY}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`,
  ].join("\n");
}

function renderChart(spec: ChartSpec): string {
  const f = frameOf(spec.x, spec.y);
  const id = escapeHtml(spec.id);
  return [
    `<svg class="chart" id="${id}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-labelledby="${id}-title">`,
    `<title id="${id}-title">${escapeHtml(spec.title)}</title>`,
    axes(spec, f),
    spec.body(f),
    "</svg>",
  ].join("\n");
}

// ---- The report ----

export interface ReportInput {
  title: string;
  generatedAt: Date;
  summary: LatencySummary;
  samples: readonly LatencySample[];
  /** Free text shown under the summary (the run's parameters, warnings). */
  notes?: readonly string[];
}

/** Data points drawn at most, so a long run still gives a small, fast file. */
const CDF_POINTS_MAX = 200;
const LATENCY_POINTS_MAX = 2000;
const THROUGHPUT_BUCKETS_TARGET = 50;
/** Largest over smallest latency from which a latency axis is logarithmic. */
const LATENCY_LOG_RATIO = 20;

const CSS = `
body { font-family: system-ui, sans-serif; color: #1b1f24; max-width: 860px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.3em; }
.meta, figcaption { color: #57606a; font-size: 0.9em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.25em 1em 0.25em 0; text-align: left; border-bottom: 1px solid #d0d7de; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 1em; }
svg.chart { width: 100%; height: auto; display: block; font-family: system-ui, sans-serif; }
.grid { stroke: #eaeef2; }
.axis { stroke: #24292f; fill: none; }
.tick { font-size: 12px; fill: #57606a; }
.axis-title { font-size: 13px; fill: #24292f; }
path.series { fill: none; stroke: #0969da; stroke-width: 2; }
circle.series { fill: #0969da; fill-opacity: 0.55; }
.area { fill: #0969da; fill-opacity: 0.12; stroke: none; }
.marker { stroke: #cf222e; stroke-dasharray: 5 4; }
.marker-label { font-size: 11px; fill: #cf222e; }
.empty { font-size: 1.1em; color: #cf222e; }
`;

export function renderReport(input: ReportInput): string {
  const notes = input.notes?.length ? `<ul class="notes">\n${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("\n")}\n</ul>` : "";
  const body = input.samples.length === 0 ? `<p class="empty">no latency samples</p>` : charts(input.samples, input.summary);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">generated ${escapeHtml(input.generatedAt.toISOString())}</p>
${summaryTable(input.summary)}
${notes}
${body}
</body>
</html>
`;
}

const valuesText = (n: number): string => (n === 1 ? "1 value" : `${n} values`);

function figure(heading: string, svg: string, caption: string): string {
  return `<figure>\n<h2>${escapeHtml(heading)}</h2>\n${svg}\n<figcaption>${escapeHtml(caption)}</figcaption>\n</figure>`;
}

function charts(samples: readonly LatencySample[], summary: LatencySummary): string {
  return [cdfFigure(samples, summary), latencyFigure(samples), throughputFigure(samples, summary)].join("\n");
}

function cdfFigure(samples: readonly LatencySample[], summary: LatencySummary): string {
  const points = cdf(samples, CDF_POINTS_MAX);
  const x = latencyAxis(points[0]!.latencyMs, points[points.length - 1]!.latencyMs, points[0]!.latencyMs);
  const y = niceScale(0, 1, 5);
  const markers: [string, number | null][] = [["p50", summary.latencyMsP50], ["p99", summary.latencyMsP99]];
  const svg = renderChart({
    id: "chart-cdf",
    title: "Latency CDF",
    xLabel: x.log ? "latency (ms, log scale)" : "latency (ms)",
    yLabel: "fraction of values",
    x,
    y,
    body: (f) => {
      const steps = points.map((p) => `H${num(f.x(p.latencyMs))}V${num(f.y(p.fraction))}`).join("");
      const lines = markers.map(([name, v], i) => (v === null ? "" : marker(f, f.x(v), name, i))).join("\n");
      return `${lines}\n<path class="series" d="M${num(f.x(points[0]!.latencyMs))},${num(f.y(0))}${steps}"/>`;
    },
  });
  return figure("Latency CDF", svg, `Fraction of the ${valuesText(samples.length)} decided within a latency (ms); dashed: p50 and p99.`);
}

/**
 * A latency axis for latencies from `lo` to `hi`: logarithmic when they spread widely, since a
 * stall of seconds next to millisecond latencies would squeeze all the others into one pixel;
 * otherwise linear from `linearFrom`.
 */
function latencyAxis(lo: number, hi: number, linearFrom: number): Scale {
  // 5% headroom, so the largest latency is not drawn on the frame.
  return lo > 0 && hi / lo >= LATENCY_LOG_RATIO ? logScale(lo, hi) : niceScale(linearFrom, hi + (hi - linearFrom) * 0.05);
}

/** A dashed vertical line, labelled near the top; the `row`-th label sits lower so close markers stay readable. */
function marker(f: Frame, xPx: number, label: string, row: number): string {
  const top = f.y(1);
  const labelY = top + 12 + 14 * row;
  return `<line class="marker" x1="${num(xPx)}" y1="${num(top)}" x2="${num(xPx)}" y2="${num(f.y(0))}"/><text class="marker-label" x="${num(xPx + 4)}" y="${num(labelY)}">${escapeHtml(label)}</text>`;
}

function latencyFigure(samples: readonly LatencySample[]): string {
  const points = latencySeries(samples, LATENCY_POINTS_MAX);
  const x = niceScale(0, Math.max(...points.map((p) => p.timeS)));
  const latencies = points.map((p) => p.latencyMs);
  const y = latencyAxis(Math.min(...latencies), Math.max(...latencies), 0);
  const svg = renderChart({
    id: "chart-latency",
    title: "Latency over time",
    xLabel: "submission time (s since the first submission)",
    yLabel: y.log ? "latency (ms, log scale)" : "latency (ms)",
    x,
    y,
    body: (f) => points.map((p) => `<circle class="series" cx="${num(f.x(p.timeS))}" cy="${num(f.y(p.latencyMs))}" r="1.8"/>`).join("\n"),
  });
  const shown = points.length < samples.length ? `${points.length} of ${valuesText(samples.length)} (evenly spaced in submission order)` : `all ${valuesText(samples.length)}`;
  return figure("Latency over time", svg, `Latency of each value against when it was submitted; ${shown}.`);
}

function throughputFigure(samples: readonly LatencySample[], summary: LatencySummary): string {
  const bucketMs = niceBucketMs(summary.durationMs ?? 0, THROUGHPUT_BUCKETS_TARGET);
  const series = throughputSeries(samples, bucketMs);
  const bucketS = bucketMs / 1000;
  const x = niceScale(0, series.length * bucketS);
  const y = niceScale(0, Math.max(...series.map((p) => p.valuesPerS)));
  const svg = renderChart({
    id: "chart-throughput",
    title: "Throughput over time",
    xLabel: "decision time (s since the first submission)",
    yLabel: "values decided per second",
    x,
    y,
    body: (f) => {
      const steps = series.map((p) => `V${num(f.y(p.valuesPerS))}H${num(f.x(p.timeS + bucketS))}`).join("");
      const outline = `M${num(f.x(0))},${num(f.y(0))}${steps}V${num(f.y(0))}`;
      return `<path class="area" d="${outline}Z"/>\n<path class="series" d="${outline}"/>`;
    },
  });
  return figure("Throughput over time", svg, `Values decided per second in buckets of ${bucketMs} ms; the last bucket is cut short by the end of the run.`);
}

// ---- The summary: a table for the page, two lines for the terminal ----

const DASH = "–";

function fixed(v: number | null, decimals: number): string {
  return v === null ? DASH : v.toFixed(decimals);
}

function summaryRows(s: LatencySummary): [string, string][] {
  return [
    ["values", String(s.count)],
    ["clients", String(s.clients)],
    ["duration (s)", fixed(s.durationMs === null ? null : s.durationMs / 1000, 3)],
    ["throughput (values/s)", fixed(s.throughputValuesPerS, 0)],
    ["latency p50 (ms)", fixed(s.latencyMsP50, 2)],
    ["latency p90 (ms)", fixed(s.latencyMsP90, 2)],
    ["latency p99 (ms)", fixed(s.latencyMsP99, 2)],
    ["latency max (ms)", fixed(s.latencyMsMax, 2)],
    ["latency mean (ms)", fixed(s.latencyMsMean, 2)],
    ["first submission", s.firstSubmitUnixMs === null ? DASH : new Date(s.firstSubmitUnixMs).toISOString()],
  ];
}

function summaryTable(s: LatencySummary): string {
  const rows = summaryRows(s).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="n">${escapeHtml(v)}</td></tr>`);
  return `<table class="summary">\n${rows.join("\n")}\n</table>`;
}

/** Two lines for the terminal, labels aligned: counts and rate, then the latency percentiles. */
export function renderTextSummary(s: LatencySummary): string {
  if (s.count === 0) return "values      0  (no latency samples)";
  const durationS = s.durationMs === null ? DASH : (s.durationMs / 1000).toFixed(2);
  const p = (v: number | null) => fixed(v, 2);
  return [
    `values      ${s.count}  duration ${durationS} s  throughput ${fixed(s.throughputValuesPerS, 0)} values/s`,
    `latency ms  p50 ${p(s.latencyMsP50)}  p90 ${p(s.latencyMsP90)}  p99 ${p(s.latencyMsP99)}  max ${p(s.latencyMsMax)}  mean ${p(s.latencyMsMean)}`,
  ].join("\n");
}
