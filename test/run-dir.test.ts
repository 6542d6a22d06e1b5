/** A run directory's layout (src/run-dir.ts): its file names, listing by kind, and tails of growing files. */
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileTail, RunDir } from "../src/run-dir.ts";

const fresh = () => new RunDir(mkdtempSync(join(tmpdir(), "paxos-run-dir-")));

describe("RunDir", () => {
  test("names each file as the README and OPERATIONS say", () => {
    const d = new RunDir("/r");
    expect([d.config, d.pids, d.report, d.storage]).toEqual(["/r/config.json", "/r/pids", "/r/report.html", "/r/acceptors"]);
    expect([d.log("proposer-1"), d.status("learner-2"), d.control("acceptor-3")]).toEqual(["/r/proposer-1.log", "/r/learner-2.status.json", "/r/acceptor-3.control.json"]);
    expect([d.proposed(1), d.learned(2), d.clientLatency(3), d.learnerLatency(4)]).toEqual([
      "/r/values-client-1.txt",
      "/r/learner-2.txt",
      "/r/latency-client-3.tsv",
      "/r/latency-learner-4.tsv",
    ]);
  });

  test("lists the files of one kind by id (10 after 9), and nothing else", () => {
    const d = fresh();
    for (const n of [10, 2, 9]) writeFileSync(d.learned(n), "");
    writeFileSync(d.proposed(1), "");
    writeFileSync(join(d.path, "learner-x.txt"), "");
    writeFileSync(join(d.path, "learner-1.txt.pos"), "");
    expect(d.list("learned").map((f) => f.n)).toEqual([2, 9, 10]);
    expect(d.list("learned")[0]).toEqual({ n: 2, name: "learner-2.txt", path: d.learned(2) });
    expect(d.list("proposed").map((f) => f.name)).toEqual(["values-client-1.txt"]);
    expect(d.list("clientLatency")).toEqual([]);
  });

  test("removes an earlier run's files, and only those", () => {
    const d = fresh();
    const earlier = [d.config, d.pids, d.report, d.log("client-1"), d.status("proposer-2"), d.control("learner-1"), d.proposed(1), d.learned(1), d.clientLatency(1), d.learnerLatency(1)];
    for (const f of earlier) writeFileSync(f, "x");
    writeFileSync(join(d.path, "notes.txt"), "mine");
    writeFileSync(join(d.path, "soak.yaml"), "mine");
    d.removeEarlierRun();
    expect(readdirSync(d.path).sort()).toEqual(["notes.txt", "soak.yaml"]);
  });
});

describe("FileTail", () => {
  test("returns each complete line once, holding a partial line (and a split character) until its newline", async () => {
    const path = join(fresh().path, "growing.txt");
    const tail = new FileTail(path);
    expect(await tail.lines()).toEqual([]); // not there yet
    writeFileSync(path, "a\nb\npart");
    expect(await tail.lines()).toEqual(["a", "b"]);
    appendFileSync(path, Buffer.from([0x69, 0x61, 0x6c, 0xc3])); // "ial" and half of "é"
    expect(await tail.lines()).toEqual([]);
    appendFileSync(path, Buffer.from([0xa9, 0x0a, 0x0a]));
    expect(await tail.lines()).toEqual(["partialé", ""]); // an empty line is a line
    expect(await tail.lines()).toEqual([]);
  });

  test("counts complete lines, reading only what was appended", async () => {
    const path = join(fresh().path, "out.txt");
    const tail = new FileTail(path);
    expect(await tail.count()).toBe(0);
    writeFileSync(path, "1\n2\n3");
    expect(await tail.count()).toBe(2);
    appendFileSync(path, "\n4\n");
    expect(await tail.count()).toBe(4);
    expect(await tail.count()).toBe(4);
  });

  test("after reset, reads a file that was emptied from its start", async () => {
    const path = join(fresh().path, "learner-1.txt");
    const tail = new FileTail(path);
    writeFileSync(path, "old1\nold2\n");
    expect(await tail.lines()).toEqual(["old1", "old2"]);
    writeFileSync(path, "new1\n");
    tail.reset();
    expect(await tail.lines()).toEqual(["new1"]);
    expect(existsSync(path)).toBe(true);
  });
});
