/// <reference lib="dom" />
/**
 * The demo's page: draws each view the server sends (server-sent events, /events) and posts the
 * user's actions to /api/action. Rows are kept per process and updated in place, so that a click
 * is never lost to a redraw.
 */
import type { ProcessRow, View } from "../model.ts";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Where a thousands separator goes (Intl formatting costs more than the rest of a redraw). */
const THOUSANDS = /\B(?=(\d{3})+(?!\d))/g;

/** Writes only what changed: an unchanged page costs the browser no layout and no paint. */
function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

/** Replaces an element's children only when the markup they come from changed (keyed by `key`). */
function replaceIfChanged(e: HTMLElement | SVGElement, key: string, make: () => Node[]): void {
  if (e.dataset.key === key) return;
  e.dataset.key = key;
  e.replaceChildren(...make());
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toString().replace(THOUSANDS, ",") : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ms = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n >= 10 ? n.toFixed(0) : n.toFixed(2)} ms`);
/** Rounds are milliseconds × 1000 + proposer id: shown as the last digits of the first part and the proposer. */
const round = (r: number): string => (r === 0 ? "0" : `…${String(Math.floor(r / 1000)).slice(-5)}/p${r % 1000}`);
const hue = (r: number): string => `hsl(${((r % 1000) * 97) % 360} 60% 45%)`;

async function act(body: Record<string, unknown>): Promise<void> {
  const out = $("action-result");
  out.textContent = "…";
  try {
    const res = await fetch("/api/action", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const r = (await res.json()) as { message?: string; error?: string };
    out.textContent = r.error ?? r.message ?? "";
    out.className = r.error ? "state-down" : "";
  } catch (e) {
    out.textContent = String(e);
  }
}

const button = (label: string, action: string, name: string, cls = ""): HTMLButtonElement => {
  const b = el("button", { "data-action": action, class: cls }, label);
  b.onclick = () => void act({ action, name });
  return b;
};

const LOSSES = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5];

function actions(p: ProcessRow): Node[] {
  // An acceptor of the set in force can be replaced (OPERATIONS.md, "Replacing a failed acceptor").
  const replace = p.role === "acceptor" && p.member ? [button("replace", "replace", p.name)] : [];
  if (p.state === "down" || p.state === "done") {
    if (p.restart.allowed) return [button("restart", "restart", p.name), ...replace];
    return [el("span", { class: "why", title: p.restart.why }, `no restart: ${p.restart.short} (why?)`), ...replace];
  }
  const pause = p.state === "paused" ? button("resume", "resume", p.name) : button("pause", "pause", p.name);
  const loss = el("select", { "data-action": "loss", title: "injected loss: drop each received datagram with this probability" });
  for (const l of new Set([...LOSSES, p.loss])) loss.append(el("option", { value: String(l), ...(l === p.loss ? { selected: "" } : {}) }, `${l * 100}%`));
  loss.onchange = () => void act({ action: "loss", name: p.name, loss: Number(loss.value) });
  return [button("kill -9", "kill", p.name, "danger"), pause, loss, ...replace];
}

function roleState(p: ProcessRow): string {
  if (p.proposer) {
    const x = p.proposer;
    return `${x.mode} · round ${round(x.round)} · phase 1 runs ${x.phase1Runs} · takeovers ${x.takeovers}${x.pending > 0 ? ` · pending ${x.pending}` : ""}`;
  }
  if (p.acceptor) return `promised ${round(p.acceptor.promised)} · votes held ${p.acceptor.votes} · ${p.acceptor.durable ? "durable" : "in memory"}`;
  if (p.learner) return `prefix ${p.learner.decidedPrefix} instances${p.learner.waiting > 0 ? ` · ${p.learner.waiting} waiting` : ""}`;
  if (p.client) return `${p.client.undecided} undecided · ${p.client.retransmitted} retransmitted`;
  return "";
}

function progress(p: ProcessRow): string {
  if (p.learner) return `${p.learner.delivered.toString().replace(THOUSANDS, ",")} values delivered`;
  if (p.client) return `${p.client.decided.toString().replace(THOUSANDS, ",")} / ${p.client.submitted.toString().replace(THOUSANDS, ",")} decided / submitted`;
  if (p.proposer) return `decided prefix ${p.proposer.decidedPrefix}`;
  return "";
}

const drops = (d: Readonly<Record<string, number>>): string => Object.entries(d).map(([k, v]) => `${k} ${v}`).join(", ");

function renderProcesses(v: View): void {
  const body = $("processes").querySelector("tbody")!;
  const seen = new Set<string>();
  for (const p of v.processes) {
    seen.add(p.name);
    let tr = body.querySelector<HTMLTableRowElement>(`tr[data-name="${p.name}"]`);
    if (tr === null) {
      tr = el("tr", { "data-name": p.name });
      for (const c of ["name", "state", "pid num", "role", "progress", "rate num", "drops", "loss num", "actions"]) tr.append(el("td", { class: c }));
      body.append(tr);
    }
    const cells = tr.children as HTMLCollectionOf<HTMLTableCellElement>;
    tr.classList.toggle("leader", p.leader);
    Object.assign(tr.dataset, { state: p.state, leader: String(p.leader), delivered: String(p.learner?.delivered ?? ""), prefix: String(p.learner?.decidedPrefix ?? ""), decided: String(p.client?.decided ?? "") });
    setText(cells[0]!, p.name);
    setText(cells[1]!, p.state === "down" && p.exitCode !== null ? `down (exit ${p.exitCode})` : p.state);
    if (cells[1]!.className !== `state state-${p.state}`) cells[1]!.className = `state state-${p.state}`;
    setText(cells[2]!, String(p.pid));
    setText(cells[3]!, roleState(p));
    setText(cells[4]!, progress(p));
    setText(cells[5]!, p.state === "down" || p.state === "done" ? "" : `${fmt(p.sentPerS)} / ${fmt(p.receivedPerS)}`);
    setText(cells[6]!, drops(p.dropped));
    setText(cells[7]!, p.loss > 0 ? `${p.loss * 100}%` : "");
    const key = `${p.state}|${p.restart.allowed}|${p.loss}|${p.member}`;
    if (cells[8]!.dataset.key !== key) {
      cells[8]!.dataset.key = key;
      cells[8]!.replaceChildren(...actions(p));
    }
  }
  for (const tr of [...body.querySelectorAll<HTMLTableRowElement>("tr")]) if (!seen.has(tr.dataset.name!)) tr.remove();
}

function renderHeader(v: View): void {
  const noMajority = v.acceptorsUp < v.majority;
  setText(
    $("leader"),
    noMajority ? `no majority: ${v.acceptorsUp} of ${v.acceptors} acceptors up (${v.majority} needed)` : v.leader ? `leader ${v.leader.name} · round ${round(v.leader.round)}` : "no leader",
  );
  setText($("configuration"), `acceptors ${v.configuration.members.join(",")} · configuration epoch ${v.configuration.epoch}`);
  $("leader").className = `badge ${noMajority ? "failed" : v.leader ? "ok" : "pending"}`;
  replaceIfChanged($("checks"), JSON.stringify(v.checks), () => v.checks.map((c) => el("span", { class: `badge ${c.state}`, title: c.detail, "data-check": c.property, "data-state": c.state }, `${c.property}: ${c.state === "pending" ? "in progress" : c.state.toUpperCase()}`)));
}

function renderProgress(v: View): void {
  const items = [`learned ${v.learned.toString().replace(THOUSANDS, ",")} of ${v.proposed.toString().replace(THOUSANDS, ",")} proposed`];
  const lat = v.latency;
  if (lat.count > 0) items.push(`latency p50 ${ms(lat.p50Ms)} · p90 ${ms(lat.p90Ms)} · p99 ${ms(lat.p99Ms)} · max ${ms(lat.maxMs)} (last ${lat.count.toString().replace(THOUSANDS, ",")} values)`);
  replaceIfChanged($("progress"), items.join("|"), () => items.map((t) => el("span", {}, t)));
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = (tag: string, attrs: Record<string, string>, text?: string): SVGElement => {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, val);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  // Values per second: one point a second over the last minute.
  const rates = v.ratePerS;
  const top = Math.max(1, ...rates);
  const x = (i: number) => 30 + (i * 285) / 59;
  const y = (r: number) => 110 - (r / top) * 100;
  const points = rates.map((r, i) => `${x(60 - rates.length + i).toFixed(1)},${y(r).toFixed(1)}`).join(" ");
  replaceIfChanged($("rate-chart"), points, () => [
    svg("line", { x1: "30", y1: "110", x2: "315", y2: "110", stroke: "#d0d7de" }),
    svg("text", { x: "2", y: "14" }, fmt(top)),
    svg("text", { x: "2", y: "112" }, "0"),
    svg("text", { x: "280", y: "120" }, "now"),
    svg("polyline", { class: "series", points }),
  ]);
  setText($("rate-caption"), `values learned per second, last minute (now ${fmt(rates.at(-1) ?? 0)}/s)`);
  // Latency histogram over the latest values.
  const most = Math.max(1, ...lat.bins.map((b) => b.count));
  const w = 285 / lat.bins.length;
  replaceIfChanged($("latency-chart"), JSON.stringify(lat.bins), () => [
    ...lat.bins.flatMap((b, i) => [
      svg("rect", { class: "bar", x: (30 + i * w + 1).toFixed(1), y: (100 - (b.count / most) * 90).toFixed(1), width: (w - 2).toFixed(1), height: ((b.count / most) * 90).toFixed(1) }),
      svg("text", { x: (30 + i * w).toFixed(1), y: "112" }, b.toMs === null ? ">" : b.toMs >= 1000 ? `${b.toMs / 1000}s` : String(b.toMs)),
    ]),
    svg("text", { x: "2", y: "14" }, String(most)),
    svg("text", { x: "250", y: "120" }, "≤ ms per bin"),
  ]);
}

function renderInstances(v: View): void {
  replaceIfChanged($("instances"), JSON.stringify(v.recent), () =>
    v.recent.map((r) =>
      el(
        "div",
        { class: "strip", "data-learner": r.learner },
        el("span", { class: "who" }, r.learner),
        ...r.instances.map((i) => {
          const cls = i.delivered ? (i.caughtUp ? "caught-up" : "delivered") : i.voters.length >= v.majority ? "chosen" : "voting";
          const voters = Array.from({ length: v.acceptors }, (_, k) => (i.voters.includes(k + 1) ? "●" : "○")).join("");
          const title = `instance ${i.inst} · round ${i.round} (proposer ${i.round % 1000}) · ${i.values < 0 ? "batch not seen" : `${i.values} values`} · voters ${i.voters.join(", ") || "none seen"} · ${cls}`;
          const box = el("div", { class: `inst ${cls}`, title }, `${i.inst}`, el("br"), i.values < 0 ? "?" : `${i.values}v`, el("br"), el("span", { class: "voters" }, v.acceptors <= 7 ? voters : `${i.voters.length}/${v.acceptors}`));
          box.style.borderTopColor = i.round === 0 ? "#d0d7de" : hue(i.round);
          return box;
        }),
      ),
    ),
  );
}

function renderNetwork(v: View): void {
  const rows = Object.entries(v.groups).map(([g, r]) => el("tr", {}, el("td", {}, g), el("td", { class: "num" }, fmt(r.sentPerS)), el("td", { class: "num" }, fmt(r.receivedPerS))));
  const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "group"), el("th", {}, "sent/s"), el("th", {}, "received/s"))), el("tbody", {}, ...rows));
  const d = Object.entries(v.drops);
  replaceIfChanged($("network"), JSON.stringify([v.groups, v.drops]), () => [table, el("div", {}, d.length === 0 ? "no datagram dropped" : `dropped: ${d.map(([k, n]) => `${k} ${n.toString().replace(THOUSANDS, ",")}`).join(" · ")}`)]);
}

function renderLog(v: View): void {
  replaceIfChanged($("log"), `${v.log.length}|${v.log.at(-1)?.atMs}|${v.log.at(-1)?.text}`, () => [...v.log].reverse().map((l) => el("li", { class: l.text.startsWith("CHECK FAILED") ? "failed" : "" }, `+${(l.atMs / 1000).toFixed(1)} s  ${l.text}`)));
}

function render(v: View): void {
  renderHeader(v);
  renderProcesses(v);
  renderProgress(v);
  renderInstances(v);
  renderNetwork(v);
  renderLog(v);
}

$("add-learner").onclick = () => void act({ action: "learner" });
$("add-client").onclick = () => void act({ action: "client", values: Number($<HTMLInputElement>("client-values").value) });

const live = (): void => {
  setText($("conn"), "live");
  $("conn").className = "badge ok";
};
// The page comes with the state of the moment (server.ts, pageWithState): drawn before any event.
const state = document.getElementById("state")?.textContent;
if (state) {
  render(JSON.parse(state) as View);
  live();
}
const events = new EventSource("/events");
events.onopen = live;
events.onerror = () => {
  $("conn").textContent = "disconnected (the demo stopped?)";
  $("conn").className = "badge failed";
};
events.onmessage = (e: MessageEvent<string>) => {
  render(JSON.parse(e.data) as View);
  live(); // after an error, the stream reconnects by itself
};
