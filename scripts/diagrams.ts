/**
 * `bun run diagrams [--out DIR]`: draws the protocol's three figures (the specification's Synod,
 * Phase 1 and Phase 2 pictures) as message-sequence charts of a recorded simulator run, into
 * docs/ (or DIR): docs/synod.svg, docs/phase1.svg, docs/phase2.svg.
 *
 * The run is test/sim's World with the real roles and driver, fault-free and seeded, scripted:
 * a client submits one value (the Synod figure: Submit, Phase 1, Phase 2, delivery), the leader
 * crashes for good (a standby takes over with one Phase 1 for all instances), then two clients
 * submit bursts (Phase 2 in a pipeline, batched, 2B straight to learners). Every datagram sent and
 * received is recorded with its simulated time (test/sim's SimObserver); each figure is a window of
 * that trace. The output is a function of the code: test/docs/diagrams.test.ts regenerates the
 * figures and fails when the committed ones differ.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Batch } from "../src/protocol/batch.ts";
import { ROUND_STRIDE } from "../src/protocol/id-limits.ts";
import type { Effects, Group, Message, Role } from "../src/protocol/messages.ts";
import { Proposer } from "../src/protocol/proposer.ts";
import type { Scenario } from "../test/sim/scenario.ts";
import { World, type SimObserver } from "../test/sim/sim.ts";

export const ROOT = join(import.meta.dir, "..");
export const FIGURES = ["synod.svg", "phase1.svg", "phase2.svg"] as const;

/** The run's seed: any gives a correct picture; this one gives a readable one (no proposers dueling). */
const SEED = 1;
const WAVE1_MS = 30;
const CRASH_MS = 150;
const WAVE2_MS = 400;

const SCENARIO: Scenario = {
  family: "mix",
  ...{ acceptors: 3, proposers: 2, twinProposer: false, twinStartMs: 0, learners: 2, clients: 2, lateLearners: 0 },
  ...{ valuesPerClient: 0, batchValuesMax: 3, pipelineWindow: 4, outstandingMax: 100 },
  ...{ loss: 0, duplication: 0, delayMaxMs: 1, longDelays: 0, replaysPerSec: 0, partitions: 0, clockSkewMs: 0, clockJumps: 0 },
  ...{ acceptorCrashes: 0, durable: false, acceptorRestarts: 0, wholeClusterRestart: false, proposerCrashes: 0, proposerRestarts: 0 },
  ...{ learnerRestarts: 0, clientRestarts: 0, restartsEach: 1, crashAtBadMoments: false },
  ...{ chaosMs: WAVE2_MS + 100, takeoverMs: 20, retransmitMs: 40, helloEveryMs: 25, retainInstances: 1_000_000, archives: false, wire: false, history: undefined },
  script: [
    { atMs: WAVE1_MS, client: 1, values: ["a"] },
    { atMs: CRASH_MS, crashLeader: true },
    { atMs: WAVE2_MS, client: 1, values: ["b", "c", "d", "e", "f"] },
    { atMs: WAVE2_MS + 0.4, client: 2, values: ["g", "h", "i", "j"] },
  ],
};

// ---- recording ----

interface Send {
  readonly kind: "send";
  readonly order: number;
  readonly atMs: number;
  readonly from: string;
  readonly msg: Message;
  readonly groups: Group[];
  readonly receipts: Receipt[];
}

interface Receipt {
  readonly kind: "receipt";
  readonly order: number;
  readonly atMs: number;
  readonly by: string;
  readonly send: Send;
}

interface Note {
  readonly kind: "note";
  readonly order: number;
  readonly atMs: number;
  readonly proc: string;
  readonly what: "deliver" | "acked" | "crash" | "leads";
  readonly text: string;
  /** The round it leads in. */
  readonly rnd?: number;
}

export interface Trace {
  readonly procs: readonly string[];
  readonly sends: readonly Send[];
  readonly notes: readonly Note[];
}

/** Runs the scripted scenario and records every datagram sent and received, deliveries, acks and crashes. */
export function record(): Trace {
  const sends: Send[] = [];
  const notes: Note[] = [];
  const procs = new Set<string>();
  const byMsg = new Map<Message, Send[]>();
  let order = 0;
  /** Where the current step's outputs start in the order (set after each input and each step). */
  let stepFrom = 0;
  const leading = new Set<string>();
  const observer: SimObserver = {
    sent(atMs, from, group, msg) {
      procs.add(from);
      const same = byMsg.get(msg);
      const last = same?.at(-1);
      // One message sent to several groups in one step (a 2A to acceptors, learners and proposers) is one send.
      if (last !== undefined && last.atMs === atMs && last.from === from) {
        last.groups.push(group);
        return;
      }
      const s: Send = { kind: "send", order: order++, atMs, from, msg, groups: [group], receipts: [] };
      sends.push(s);
      if (same === undefined) byMsg.set(msg, [s]);
      else same.push(s);
    },
    received(atMs, by, from, group, msg) {
      procs.add(by);
      if (by === from) return; // its own multicast, looped back (and ignored): not drawn
      const send = byMsg.get(msg)?.findLast((s) => s.from === from && s.atMs <= atMs && s.groups.includes(group));
      if (send === undefined) throw new Error(`diagrams: ${by} received a ${msg.t} nobody sent`);
      send.receipts.push({ kind: "receipt", order: order++, atMs, by, send });
      stepFrom = order;
    },
    effects(atMs, proc, fx: Effects, role: Role) {
      procs.add(proc);
      if (role instanceof Proposer && role.isLeader !== leading.has(proc)) {
        // Drawn before the step's sends (its first 2A): it led, then sent.
        if (role.isLeader) notes.push({ kind: "note", order: stepFrom - 0.5, atMs, proc, what: "leads", text: "leads", rnd: role.round });
        leading[role.isLeader ? "add" : "delete"](proc);
      }
      for (const d of fx.deliveredInstances) notes.push({ kind: "note", order: order++, atMs, proc, what: "deliver", text: `deliver i${d.inst} ${values(d.cVal)}` });
      const client = Number(proc.split("-")[1]);
      for (const a of fx.acked) notes.push({ kind: "note", order: order++, atMs, proc, what: "acked", text: `acked ${seqs(client, a.first, a.count)}` });
      stepFrom = order;
    },
    crashed(atMs, proc) {
      notes.push({ kind: "note", order: order++, atMs, proc, what: "crash", text: "crashes" });
    },
  };
  const result = new World(SEED, SCENARIO, undefined, undefined, observer).run();
  if (result.violations.length > 0) throw new Error(`diagrams: the run broke a property: ${result.violations[0]!.detail}`);
  const kinds = ["client", "proposer", "acceptor", "learner"];
  const sorted = [...procs].sort((a, b) => kinds.indexOf(a.split("-")[0]!) - kinds.indexOf(b.split("-")[0]!) || a.localeCompare(b));
  return { procs: sorted, sends, notes };
}

// ---- labels, in the specification's names ----

const seqs = (client: number, first: number, count: number): string => `c${client}.${first}${count > 1 ? `–${first + count - 1}` : ""}`;
const values = (b: Batch): string => `[${b.runList().map((r) => seqs(r.client, r.first, r.count)).join(" ")}]`;

/** Rounds by their order of appearance: r1, r2, … (the numbers are clock-based and long). */
class Rounds {
  private readonly names = new Map<number, string>();
  name(rnd: number): string {
    let n = this.names.get(rnd);
    if (n === undefined) this.names.set(rnd, (n = `r${this.names.size + 1}`));
    return n;
  }
  legend(used: ReadonlySet<number>): string[] {
    return [...this.names].filter(([rnd]) => used.has(rnd)).map(([rnd, n]) => `${n} = ${rnd}: proposer ${rnd % ROUND_STRIDE}'s round (counter × ${ROUND_STRIDE} + proposer id)`);
  }
}

function label(m: Message, r: Rounds): string {
  switch (m.t) {
    case "submit":
      return `Submit ${m.runs.runList().map((x) => seqs(x.client, x.first, x.count)).join(" ")}`;
    case "ack": {
      const out: string[] = [];
      for (let k = 0; k + 2 < m.ranges.length; k += 3) out.push(seqs(m.ranges[k]!, m.ranges[k + 1]!, m.ranges[k + 2]!));
      return `Ack ${out.join(" ")}`;
    }
    case "1a":
      return `1A c-rnd=${r.name(m.cRnd)} for i≥${m.from}${m.acc !== 0 ? ` (a${m.acc} only)` : ""}`;
    case "1b": {
      const range = m.done ? `i≥${m.from}` : `i${m.from}..${m.to - 1}`;
      const votes = m.votes.length === 0 ? "v-rnd=⊥ v-val=⊥ (no vote)" : m.votes.map((v) => `i${v.inst}: v-rnd=${r.name(v.vRnd)} v-val=${values(v.vVal)}`).join(", ");
      return `1B rnd=${r.name(m.rnd)} ${range}: ${votes}`;
    }
    case "nack":
      return `Nack rnd=${r.name(m.rnd)} (c-rnd=${r.name(m.cRnd)} refused)`;
    case "2a":
      return `2A c-rnd=${r.name(m.cRnd)} c-val: ${m.proposals.map((p) => `i${p.inst}=${values(p.cVal)}`).join(" ")}`;
    case "2b":
      return `2B v-rnd=${r.name(m.vRnd)} ${m.insts.map((i) => `i${i}`).join(" ")}`;
    case "decision":
      return `Decision ${m.decided.map((p) => `i${p.inst}=${values(p.cVal)}`).join(" ")}`;
    default:
      return m.t;
  }
}

/** A message's identity: a later send of the same is a retransmission (not drawn). */
function identity(s: Send): string {
  const m = s.msg;
  switch (m.t) {
    case "submit":
      return `${s.from} submit ${label(m, new Rounds())}`;
    case "1a":
      return `${s.from} 1a ${m.cRnd} ${m.from} ${m.acc}`;
    case "1b":
      return `1b ${m.acc} ${m.rnd} ${m.from} ${m.to}`;
    case "nack":
      return `nack ${m.acc} ${m.rnd} ${m.cRnd} ${m.nonce}`;
    case "2a":
      return `2a ${m.cRnd} ${m.proposals.map((p) => p.inst).join(",")}`;
    case "2b":
      return `2b ${m.acc} ${m.vRnd} ${m.insts.join(",")}`;
    case "ack":
      return `${s.from} ack ${m.ranges.join(",")}`;
    default:
      return `${s.order}`;
  }
}

/** What no figure draws: Hellos, catch-up (learners' idle probes and the answers), start-up probes. */
function drawn(m: Message): boolean {
  if (m.t === "1a" || m.t === "nack") return m.cRnd !== 0;
  return m.t === "submit" || m.t === "1b" || m.t === "2a" || m.t === "2b" || m.t === "ack";
}

// ---- figures ----

interface Figure {
  readonly file: (typeof FIGURES)[number];
  readonly title: string;
  /** What the figure shows, in words; from the messages it draws where they vary. */
  readonly caption: (drawn: readonly Send[]) => string[];
  readonly fromMs: number;
  readonly toMs: number;
}

const COLORS: Record<string, string> = {
  submit: "#4d4d4d",
  ack: "#7b3fa8",
  "1a": "#1f5fbf",
  "1b": "#1f5fbf",
  nack: "#c0392b",
  "2a": "#1b7a3a",
  "2b": "#b35400",
  decision: "#7b3fa8",
};

const NAMES: Record<string, string> = { submit: "Submit", ack: "Ack", "1a": "1A", "1b": "1B", nack: "Nack", "2a": "2A", "2b": "2B", decision: "Decision" };

const FONT = 11;
const CHAR_W = 6.7; // a monospace glyph at 11 px, a little generously
const COL_W = 104;
const LEFT = 78; // the time column
const TOP = 116;
const GAP_MS = 3; // longer pauses are cut out and marked
const NOTE_COLOR = "#222";
const LABEL_H = 13;

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number): string => (Math.round(x * 10) / 10).toString();
const textW = (s: string): number => [...s].length * CHAR_W;

type Item = Send | Receipt | Note;

function render(trace: Trace, fig: Figure, rounds: Rounds, retransmits: ReadonlySet<Send>): string {
  const sends = trace.sends.filter((s) => s.atMs >= fig.fromMs && s.atMs < fig.toMs && drawn(s.msg) && !retransmits.has(s) && s.receipts.length > 0);
  const notes = trace.notes.filter((x) => x.atMs >= fig.fromMs && x.atMs < fig.toMs);
  const crashedBefore = new Set(trace.notes.filter((x) => x.what === "crash" && x.atMs < fig.fromMs).map((x) => x.proc));
  const items: Item[] = [...sends, ...sends.flatMap((s) => s.receipts), ...notes].sort((a, b) => a.atMs - b.atMs || a.order - b.order);
  const col = new Map(trace.procs.map((p, i) => [p, LEFT + 40 + i * COL_W] as const));
  const x = (p: string): number => col.get(p)!;

  // Rows: every send and note gets room for its label above (or beside) it; receipts pack closer.
  const y = new Map<Item, number>();
  const breaks: { y: number; ms: number }[] = [];
  const lastOn = new Map<string, number>();
  let prev: Item | undefined;
  let at = TOP + 4;
  for (const it of items) {
    const proc = it.kind === "send" ? it.from : it.kind === "receipt" ? it.by : it.proc;
    let gap = it.kind === "send" ? 26 : it.kind === "note" ? 16 : 10;
    if (prev?.kind === "note") gap = Math.max(gap, 13);
    if (prev !== undefined && it.atMs - prev.atMs > GAP_MS) {
      breaks.push({ y: at + 14, ms: it.atMs - prev.atMs });
      gap += 28;
    }
    at = Math.max(at + (prev === undefined ? 0 : gap), (lastOn.get(proc) ?? -Infinity) + 14);
    y.set(it, at);
    lastOn.set(proc, at);
    prev = it;
  }
  const bottom = at + 30;

  const out: string[] = [];
  let right = LEFT + 40 + (trace.procs.length - 1) * COL_W + 60;
  const widen = (x2: number) => {
    if (x2 > right) right = x2;
  };
  const usedRounds = new Set<number>();
  const usedColors = new Set<string>();

  // Lifelines, by role.
  const roleOf = (p: string) => p.split("-")[0]!;
  const roles = [...new Set(trace.procs.map(roleOf))];
  for (const role of roles) {
    const members = trace.procs.filter((p) => roleOf(p) === role);
    const x0 = x(members[0]!) - COL_W / 2 + 4;
    const x1 = x(members.at(-1)!) + COL_W / 2 - 4;
    out.push(`<rect x="${n(x0)}" y="${TOP - 72}" width="${n(x1 - x0)}" height="${n(bottom - TOP + 72)}" rx="6" fill="#f4f6f8"/>`);
    out.push(`<text x="${n((x0 + x1) / 2)}" y="${TOP - 54}" text-anchor="middle" font-weight="bold">${esc(`${role[0]!.toUpperCase()}${role.slice(1)}s`)}</text>`);
  }
  for (const p of trace.procs) {
    const crash = notes.find((c) => c.what === "crash" && c.proc === p);
    const down = crashedBefore.has(p);
    const endY = crash !== undefined ? y.get(crash)! : bottom;
    out.push(`<rect x="${n(x(p) - 46)}" y="${TOP - 38}" width="92" height="22" rx="4" fill="#fff" stroke="${down ? "#aaa" : "#333"}"/>`);
    out.push(`<text x="${n(x(p))}" y="${TOP - 23}" text-anchor="middle"${down ? ` fill="#999"` : ""}>${esc(p.replace("-", " "))}${down ? " ✕" : ""}</text>`);
    if (down) out.push(`<line x1="${n(x(p))}" y1="${TOP - 16}" x2="${n(x(p))}" y2="${n(bottom)}" stroke="#bbb" stroke-dasharray="2 5"/>`);
    else out.push(`<line x1="${n(x(p))}" y1="${TOP - 16}" x2="${n(x(p))}" y2="${n(endY)}" stroke="#999"/>`);
  }

  // Pauses cut out of the time axis.
  for (const b of breaks) {
    out.push(`<line x1="${LEFT}" y1="${n(b.y)}" x2="${n(right - 20)}" y2="${n(b.y)}" stroke="#bbb" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${LEFT - 8}" y="${n(b.y + 4)}" text-anchor="end" fill="#777" font-size="10" font-style="italic">+${b.ms.toFixed(1)} ms</text>`);
  }

  // Arrows: one per copy received, from the sender at send time to the receiver at receipt time.
  const labels: string[] = [];
  /** A label's background (labels are drawn over the arrows); no two labels may overlap. */
  const boxes: { x: number; y: number; w: number; text: string }[] = [];
  const labelBox = (bx: number, by: number, w: number, text: string) => {
    const hit = boxes.find((b) => bx < b.x + b.w && b.x < bx + w && by < b.y + LABEL_H && b.y < by + LABEL_H);
    if (hit !== undefined) throw new Error(`diagrams: in ${fig.file}, label "${text}" would hide "${hit.text}"`);
    boxes.push({ x: bx, y: by, w, text });
    labels.push(`<rect x="${n(bx)}" y="${n(by)}" width="${n(w)}" height="${LABEL_H}" fill="#fff" fill-opacity="0.85"/>`);
  };
  const times = new Map<number, number>();
  for (const s of sends) {
    const color = COLORS[s.msg.t] ?? "#333";
    usedColors.add(s.msg.t);
    const sy = y.get(s)!;
    for (const rc of s.receipts) {
      const ry = y.get(rc)!;
      out.push(`<line x1="${n(x(s.from))}" y1="${n(sy)}" x2="${n(x(rc.by))}" y2="${n(ry)}" stroke="${color}" stroke-width="1.2" marker-end="url(#h-${s.msg.t})"/>`);
    }
    out.push(`<circle cx="${n(x(s.from))}" cy="${n(sy)}" r="2.5" fill="${color}"/>`);
    const text = label(s.msg, rounds);
    for (const r of roundsOf(s.msg)) usedRounds.add(r);
    const rightward = s.receipts.filter((rc) => x(rc.by) > x(s.from)).length;
    const toRight = rightward * 2 >= s.receipts.length;
    const w = textW(text);
    const lx = toRight ? x(s.from) + 6 : x(s.from) - 6 - w;
    widen(lx + w + 10);
    labelBox(lx - 2, sy - 15, w + 4, text);
    labels.push(`<text x="${n(lx)}" y="${n(sy - 5)}" fill="${color}">${esc(text)}</text>`);
    times.set(sy, s.atMs);
  }

  // Notes: deliveries, acks, crashes.
  for (const nt of notes) {
    const ny = y.get(nt)!;
    const px = x(nt.proc);
    if (nt.what === "crash") {
      out.push(`<path d="M${n(px - 7)},${n(ny - 7)}l14,14m0,-14l-14,14" stroke="#c0392b" stroke-width="2.5"/>`);
    } else out.push(`<rect x="${n(px - 4)}" y="${n(ny - 4)}" width="8" height="8" fill="${NOTE_COLOR}"/>`);
    const text = nt.rnd === undefined ? nt.text : `leads: a majority promised ${rounds.name(nt.rnd)}`;
    if (nt.rnd !== undefined) usedRounds.add(nt.rnd);
    const lx = px + 10;
    const w = textW(text);
    widen(lx + w + 10);
    labelBox(lx - 2, ny - 9, w + 4, text);
    labels.push(`<text x="${n(lx)}" y="${n(ny + 1)}" fill="${nt.what === "crash" ? "#c0392b" : NOTE_COLOR}" font-weight="bold">${esc(text)}</text>`);
    times.set(ny, nt.atMs);
  }

  // The time of each send and note, on the left (once for a run of equal times).
  let shown = "";
  for (const [ty, ms] of [...times].sort((a, b) => a[0] - b[0])) {
    if (ms.toFixed(2) === shown) continue;
    shown = ms.toFixed(2);
    out.push(`<text x="${LEFT - 8}" y="${n(ty + 4)}" text-anchor="end" fill="#777" font-size="10">${shown}</text>`);
  }

  // Phase brackets on the right.
  const phases: [string, (m: Message) => boolean][] = [
    ["Phase 1", (m) => m.t === "1a" || m.t === "1b" || m.t === "nack"],
    ["Phase 2", (m) => m.t === "2a" || m.t === "2b"],
  ];
  const spans: { name: string; y0: number; y1: number }[] = [];
  for (const [name, of] of phases) {
    const ys = sends.filter((s) => of(s.msg)).flatMap((s) => [y.get(s)!, ...s.receipts.map((rc) => y.get(rc)!)]);
    if (ys.length > 0) spans.push({ name, y0: Math.min(...ys), y1: Math.max(...ys) });
  }
  const bx = right + 4;
  for (const [k, sp] of spans.entries()) {
    const xx = bx + k * 26;
    out.push(`<path d="M${n(xx)},${n(sp.y0)}h6v${n(sp.y1 - sp.y0)}h-6" fill="none" stroke="#555"/>`);
    out.push(`<text transform="translate(${n(xx + 18)},${n((sp.y0 + sp.y1) / 2)}) rotate(90)" text-anchor="middle" fill="#555">${sp.name}</text>`);
  }
  right = bx + spans.length * 26 + 10;

  // Legend.
  const legend = [
    ...fig.caption(sends),
    "Time runs down (simulated ms on the left; longer pauses are cut out at the dashed lines). One arrow per copy received: a multicast to a group is an arrow to each live member.",
    ...rounds.legend(usedRounds),
    "iN = instance N; cK.S = client K's value number S (cK.S–T: a run of them); [..] = a batch (c-val, v-val). A 2B carries no v-val: learners pair it with its round's 2A.",
    "Not drawn: Hellos, ticks, retransmissions, a process's own multicasts looping back to it, learners' idle Catchup probes and their answers (Votes, Decision), proposers' start-up probes (round-0 1A, Nack).",
    `Recorded by \`bun run diagrams\` (scripts/diagrams.ts): test/sim's World, the real roles and driver, seed ${SEED}, no faults; 2 clients, 2 proposers, 3 acceptors, 2 learners.`,
  ];
  const wrapAt = Math.max(60, Math.floor((right - 20) / CHAR_W));
  const lines = legend.flatMap((l) => wrap(l, wrapAt));
  let ly = bottom + 24;
  const legendOut: string[] = [];
  let sx = 20;
  for (const t of usedColors) {
    const [name, color] = [NAMES[t] ?? t, COLORS[t]!];
    legendOut.push(`<line x1="${sx}" y1="${n(ly - 4)}" x2="${sx + 26}" y2="${n(ly - 4)}" stroke="${color}" stroke-width="1.5" marker-end="url(#h-${t})"/>`);
    legendOut.push(`<text x="${sx + 32}" y="${n(ly)}" fill="${color}">${esc(name)}</text>`);
    sx += 40 + textW(name) + 14;
  }
  legendOut.push(`<rect x="${sx}" y="${n(ly - 8)}" width="8" height="8" fill="${NOTE_COLOR}"/><text x="${sx + 14}" y="${n(ly)}">a step's outcome: a learner delivers, a client learns its values decided, a proposer leads</text>`);
  for (const l of lines) {
    ly += 16;
    legendOut.push(`<text x="20" y="${n(ly)}" fill="#333">${esc(l)}</text>`);
  }
  const width = Math.ceil(Math.max(right, 20 + wrapAt * CHAR_W));
  const height = Math.ceil(ly + 16);

  const markers = Object.entries(COLORS)
    .map(([t, c]) => `<marker id="h-${t}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,1L10,5L0,9z" fill="${c}"/></marker>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="${FONT}">`,
    `<title>${esc(fig.title)}</title>`,
    `<defs>${markers.join("")}</defs>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="20" y="24" font-size="14" font-weight="bold">${esc(fig.title)}</text>`,
    ...out,
    ...labels,
    ...legendOut,
    "</svg>",
    "",
  ].join("\n");
}

function roundsOf(m: Message): number[] {
  switch (m.t) {
    case "1a":
      return [m.cRnd];
    case "1b":
      return [m.rnd, ...m.votes.map((v) => v.vRnd)];
    case "nack":
      return [m.rnd, m.cRnd];
    case "2a":
      return [m.cRnd];
    case "2b":
      return [m.vRnd];
    default:
      return [];
  }
}

function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const word of line.split(" ")) {
    if (cur !== "" && [...cur].length + 1 + [...word].length > width) {
      out.push(cur);
      cur = `  ${word}`;
    } else cur = cur === "" ? word : `${cur} ${word}`;
  }
  if (cur !== "") out.push(cur);
  return out;
}

/** The three figures of one recorded run, as file name → SVG text. */
export function diagrams(): Map<string, string> {
  const trace = record();
  const rounds = new Rounds();
  // Name rounds in the order they appear, whatever the figures show.
  for (const s of trace.sends) if (drawn(s.msg)) for (const r of roundsOf(s.msg)) rounds.name(r);
  const seen = new Set<string>();
  const retransmits = new Set<Send>();
  for (const s of trace.sends) {
    const id = identity(s);
    if (seen.has(id)) retransmits.add(s);
    seen.add(id);
  }
  const crash = trace.notes.find((x) => x.what === "crash");
  if (crash === undefined) throw new Error("diagrams: no leader to crash (nobody led by then)");
  const figures: Figure[] = [
    {
      file: "synod.svg",
      title: "Synod: one value from Submit through Phase 1 and Phase 2 to delivery",
      caption: (shown) => [
        "The client's Submit reaches both proposers; the first to run Phase 1 (1A to all acceptors, 1B from a majority) leads and proposes the value (2A);",
        `acceptors vote (2B) to the learners and proposers; each learner delivers the instance once a majority voted in one round; ${
          shown.some((s) => s.msg.t === "ack") ? "the leader, seeing that majority too, acks to the clients." : "the client counts the 2Bs too (notify)."
        }`,
      ],
      fromMs: 0,
      toMs: crash.atMs,
    },
    {
      file: "phase1.svg",
      title: "Proactive Phase 1: one 1A for every future instance (a new leader after a crash)",
      caption: (shown) => [
        "The leader crashes; the standby proposer, no longer hearing it, takes over with one 1A in a higher round for every instance from its first undecided one;",
        `each acceptor's 1B promises that round and reports its votes from there on (${
          shown.some((s) => s.msg.t === "1b" && s.msg.votes.length > 0) ? "re-proposed in the new round" : "none here: every earlier instance is known decided"
        }); with a majority, the new leader needs only Phase 2 per instance.`,
      ],
      fromMs: crash.atMs,
      toMs: WAVE2_MS,
    },
    {
      file: "phase2.svg",
      title: "Phase 2 in a pipeline: batches, several instances in flight, 2B straight to learners",
      caption: () => [
        `Two clients submit bursts; the leader puts their values in batches (up to ${SCENARIO.batchValuesMax} values) in several instances at once (up to ${SCENARIO.pipelineWindow} in flight): one 2A datagram`,
        "to the acceptors and learners (and proposers, while another is heard). Acceptors answer with value-less 2Bs straight to the learners, and, while fewer",
        "instances than notifyBelowInflight are in flight, to the clients the 2A's notify list names: a learner learns one message delay after the 2A.",
      ],
      fromMs: WAVE2_MS,
      toMs: Infinity,
    },
  ];
  check(trace, crash.atMs);
  return new Map(figures.map((f) => [f.file, render(trace, f, rounds, retransmits)]));
}

/** The run must show what the figures say it shows; a change of the code that breaks that must be looked at. */
function check(trace: Trace, crashMs: number): void {
  const p1 = trace.sends.filter((s) => s.msg.t === "1a" && s.msg.cRnd !== 0);
  const fail = (what: string) => {
    throw new Error(`diagrams: the recorded run no longer shows ${what}; adjust the scenario in scripts/diagrams.ts`);
  };
  if (!p1.some((s) => s.atMs < crashMs)) fail("a Phase 1 before the crash");
  if (!p1.some((s) => s.atMs >= crashMs && s.atMs < WAVE2_MS)) fail("a new leader's Phase 1 after the crash and before the second wave");
  if (!trace.sends.some((s) => s.msg.t === "2a" && s.atMs >= WAVE2_MS && s.msg.proposals.length > 1)) fail("a 2A of several instances in the pipeline");
}

if (import.meta.main) {
  const { values: args } = parseArgs({ options: { out: { type: "string", default: join(ROOT, "docs") } } });
  const out = args.out!;
  mkdirSync(out, { recursive: true });
  for (const [file, svg] of diagrams()) {
    writeFileSync(join(out, file), svg);
    console.log(`diagrams: wrote ${join(out, file)}`);
  }
}
