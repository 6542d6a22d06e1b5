import { expect, test } from "bun:test";
import type { LiveResult } from "../../src/check/live.ts";
import type { RoleName } from "../../src/runtime/role-names.ts";
import type { ProcessStatus } from "../../src/runtime/status.ts";
import { LATENCY_BINS_MS, percentile, RATE_POINTS, restartPolicy, UiModel, type ProcessSample } from "../../src/ui/model.ts";

function status(role: RoleName, id: number, pid: number, extra: Partial<ProcessStatus> = {}, sent = 0, received = 0): ProcessStatus {
  return {
    v: 1, role, id, pid, state: "up", startedUnixMs: 0, updatedUnixMs: 0,
    datagrams: { received, sent, dropped: {} }, acceptorsHeard: 3, ...extra,
  };
}

function sample(role: RoleName, id: number, pid: number, st: ProcessStatus | undefined, more: Partial<ProcessSample> = {}): ProcessSample {
  return { name: `${role}-${id}`, role, id, pid, alive: true, paused: false, exitCode: null, status: st, ...more };
}

const proposer = (id: number, pid: number, leader: boolean, round: number, alive = true): ProcessSample =>
  sample("proposer", id, pid, status("proposer", id, pid, { proposer: { mode: leader ? "leader" : "standby", leader, round, decidedPrefix: 0, phase1Runs: 1, takeovers: 0, pending: 0 } }), { alive });
const learner = (id: number, pid: number, delivered: number, sent = 0): ProcessSample =>
  sample("learner", id, pid, status("learner", id, pid, { learner: { decidedPrefix: delivered / 10, delivered, waiting: 0, recent: [{ inst: 1, round: 5002, values: 10, voters: [1, 2], delivered: true, caughtUp: false }] } }, sent));

test("the leader is the running proposer that says so with the highest round; a dead one is not", () => {
  const m = new UiModel(3, 0);
  m.observe(0, [proposer(1, 10, true, 1001), proposer(2, 11, true, 2002)]);
  expect(m.leader()).toEqual({ name: "proposer-2", round: 2002 });
  m.observe(500, [proposer(1, 10, true, 1001), proposer(2, 11, true, 2002, false)]);
  expect(m.leader()).toEqual({ name: "proposer-1", round: 1001 });
  const rows = m.view(500).processes;
  expect(rows.map((r) => [r.name, r.state, r.leader])).toEqual([["proposer-1", "up", true], ["proposer-2", "down", false]]);
});

test("states: starting, up, paused, done (exit 0), down (killed); a restarted process's old status is not its own", () => {
  const m = new UiModel(3, 0);
  const st = status("learner", 1, 5);
  m.observe(0, [
    sample("learner", 1, 5, { ...st, state: "starting" }),
    sample("learner", 2, 6, status("learner", 2, 6), { paused: true }),
    sample("client", 1, 7, status("client", 1, 7), { alive: false, exitCode: 0 }),
    sample("proposer", 1, 8, status("proposer", 1, 8), { alive: false, exitCode: null }),
    sample("proposer", 2, 9, proposer(2, 99, true, 2002).status), // its predecessor's status
  ]);
  const v = m.view(0);
  expect(v.processes.map((p) => p.state)).toEqual(["starting", "paused", "done", "down", "starting"]);
  expect(v.leader).toBeNull();
});

test("restarts: not for in-memory acceptors nor clients, with the reason; durable acceptors, proposers and learners yes", () => {
  expect(restartPolicy("acceptor", status("acceptor", 1, 1, { acceptor: { promised: 0, votes: 0, durable: false } }))).toMatchObject({ allowed: false });
  expect(restartPolicy("acceptor", status("acceptor", 1, 1, { acceptor: { promised: 0, votes: 0, durable: false } })).why).toContain("forgets its promises");
  expect(restartPolicy("acceptor", undefined).allowed).toBe(false);
  expect(restartPolicy("acceptor", status("acceptor", 1, 1, { acceptor: { promised: 0, votes: 0, durable: true } })).allowed).toBe(true);
  expect(restartPolicy("client", undefined)).toMatchObject({ allowed: false });
  expect(restartPolicy("proposer", undefined).allowed).toBe(true);
  expect(restartPolicy("learner", undefined).allowed).toBe(true);
});

test("datagram rates per process and per group, over a second of polls; drops summed by reason", () => {
  const m = new UiModel(3, 0);
  const acc = (t: number, sent: number, dropped: Record<string, number>) =>
    sample("acceptor", 1, 3, { ...status("acceptor", 1, 3, {}, sent, sent * 2), datagrams: { sent, received: sent * 2, dropped } });
  for (let t = 0; t <= 2000; t += 500) m.observe(t, [acc(t, t, { "injected-loss": 4 }), learner(1, 4, 0, t / 2)]);
  const v = m.view(2000);
  expect(v.processes[0]!.sentPerS).toBeCloseTo(1000);
  expect(v.processes[0]!.receivedPerS).toBeCloseTo(2000);
  expect(v.groups.acceptors).toEqual({ sentPerS: 1000, receivedPerS: 2000 });
  expect(v.groups.learners.sentPerS).toBeCloseTo(500);
  expect(v.drops).toEqual({ "injected-loss": 4 });
  // A restart (new pid, counters from zero) starts its rate over instead of going negative.
  m.observe(2500, [sample("acceptor", 1, 30, status("acceptor", 1, 30, {}, 5, 5))]);
  expect(m.view(2500).processes[0]!.sentPerS).toBe(0);
});

test("values learned per second: one point a second from the most advanced learner, the last minute only", () => {
  const m = new UiModel(3, 0);
  for (let s = 0; s <= 70; s++) m.observe(s * 1000, [learner(1, 4, s * 100), learner(2, 5, s * 50)]);
  const v = m.view(70_000);
  expect(v.ratePerS).toHaveLength(RATE_POINTS);
  expect(new Set(v.ratePerS)).toEqual(new Set([100]));
  expect(v.learned).toBe(7000);
  // A learner restarted from zero never makes the rate negative.
  m.observe(71_000, [learner(1, 40, 0)]);
  expect(m.view(71_000).ratePerS.at(-1)).toBe(0);
});

test("latency percentiles and histogram over the latest values", () => {
  const m = new UiModel(3, 0);
  m.addLatencies(Array.from({ length: 100 }, (_, i) => i + 1)); // 1..100 ms
  m.addLatencies([5000]);
  const lat = m.view(0).latency;
  expect(lat).toMatchObject({ count: 101, p50Ms: 51, maxMs: 5000 });
  expect(lat.bins).toHaveLength(LATENCY_BINS_MS.length);
  expect(lat.bins.reduce((n, b) => n + b.count, 0)).toBe(101);
  expect(lat.bins.find((b) => b.toMs === 1)!.count).toBe(1);
  expect(lat.bins.at(-1)).toEqual({ toMs: null, count: 1 });
  expect(percentile([], 0.5)).toBe(0);
  expect(percentile([3], 0.99)).toBe(3);
});

test("recent instances per learner, checks, proposed values and the log (bounded) pass through", () => {
  const m = new UiModel(5, 0);
  const checks: LiveResult[] = [{ property: "Total order", ok: false, state: "failed", detail: "x" }];
  m.setChecks(checks);
  m.setProposed(42);
  for (let i = 0; i < 100; i++) m.note(i, `action ${i}`);
  m.observe(0, [learner(1, 4, 10)]);
  const v = m.view(0);
  expect(v.majority).toBe(3);
  expect(v.recent).toEqual([{ learner: "learner-1", instances: [{ inst: 1, round: 5002, values: 10, voters: [1, 2], delivered: true, caughtUp: false }] }]);
  expect(v.checks).toEqual(checks);
  expect(v.proposed).toBe(42);
  expect(v.log.at(-1)!.text).toBe("action 99");
  expect(v.log.length).toBeLessThanOrEqual(40);
  expect(v.processes[0]!.learner).toEqual({ decidedPrefix: 1, delivered: 10, waiting: 0 }); // without the strip
});

// Issue 20: with no majority the page said only "no leader", and a killed leader's row still said "leader".
test("acceptors up and the majority: the view says when no majority of acceptors is up", () => {
  const m = new UiModel(3, 0);
  const acceptor = (id: number, more: Partial<ProcessSample> = {}) => sample("acceptor", id, 20 + id, status("acceptor", id, 20 + id), more);
  m.observe(0, [acceptor(1), acceptor(2), acceptor(3)]);
  expect(m.view(0)).toMatchObject({ acceptorsUp: 3, majority: 2 });
  m.observe(1000, [acceptor(1), acceptor(2, { alive: false, exitCode: null }), acceptor(3, { paused: true })]);
  expect(m.view(1000)).toMatchObject({ acceptorsUp: 1, majority: 2 });
});

test("the acceptor set in force is the latest configuration any process reports; the majority and the acceptors up are of it", () => {
  const m = new UiModel(3, 0);
  const configuration = { epoch: 1, acceptors: [1, 2, 4], from: 300, knownTo: 310 };
  const acceptor = (id: number, more: Partial<ProcessSample> = {}) => sample("acceptor", id, 20 + id, status("acceptor", id, 20 + id), more);
  m.observe(0, [acceptor(1), acceptor(2), acceptor(3), acceptor(4)]);
  expect(m.view(0)).toMatchObject({ configuration: { epoch: 0, members: [1, 2, 3] }, acceptorsUp: 3, majority: 2 });
  const p = sample("proposer", 1, 11, status("proposer", 1, 11, { configuration }));
  m.observe(1000, [acceptor(1), acceptor(2, { alive: false, exitCode: null }), acceptor(3), acceptor(4), p]);
  const v = m.view(1000);
  expect(v).toMatchObject({ configuration: { epoch: 1, members: [1, 2, 4] }, acceptors: 3, acceptorsUp: 2, majority: 2 }); // acceptor 3 no longer counts
  expect(v.processes.filter((r) => r.role === "acceptor").map((r) => [r.name, r.member])).toEqual([
    ["acceptor-1", true],
    ["acceptor-2", true],
    ["acceptor-3", false],
    ["acceptor-4", true],
  ]);
});

test("a killed proposer's row keeps no mode: its last status said leader, it leads nothing", () => {
  const m = new UiModel(3, 0);
  m.observe(0, [proposer(1, 10, true, 1001), proposer(2, 11, false, 0)]);
  expect(m.view(0).processes[0]!.proposer?.mode).toBe("leader");
  m.observe(500, [proposer(1, 10, true, 1001, false), proposer(2, 11, false, 0)]);
  const dead = m.view(500).processes[0]!;
  expect(dead).toMatchObject({ state: "down", leader: false });
  expect(dead.proposer).toBeUndefined();
});
