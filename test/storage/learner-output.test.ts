import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeFileIO, type FileIO } from "../../src/storage/file-io.ts";
import { cutPosition, LearnerOutputFile } from "../../src/storage/learner-output.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Message } from "../../src/protocol/messages.ts";
import { b, ids, val } from "../protocol/helpers.ts";
import { LearnerArchive } from "../../src/storage/learner-archive.ts";
import { Prng } from "../../src/prng.ts";
import { SimDisk } from "../sim/disk.ts";

const dir = () => mkdtempSync(join(tmpdir(), "paxos-output-"));
const lines = (...xs: string[]) => new TextEncoder().encode(xs.map((x) => `${x}\n`).join(""));
const at = (next: number, values: number) => () => ({ next, values, ids: [] });

/** The real file system, counting the bytes read from each path. */
function countingIO(): { io: typeof nodeFileIO; readBytes: Map<string, number> } {
  const readBytes = new Map<string, number>();
  const io = { ...nodeFileIO } as typeof nodeFileIO & FileIO;
  io.readAll = (path) => {
    const bytes = nodeFileIO.readAll(path);
    readBytes.set(path, (readBytes.get(path) ?? 0) + bytes.length);
    return bytes;
  };
  return { io, readBytes };
}

describe("a learner's --output file", () => {
  test("written, then reopened: resumes at its position, after a torn tail", () => {
    const path = join(dir(), "out.txt");
    const first = LearnerOutputFile.open(path, 7, 1);
    expect(first.resumed).toBeUndefined();
    first.output.write(lines("a", "b"));
    first.output.close(at(3, 2), 0);
    writeFileSync(path, "a\nb\ntorn", { flag: "w" });
    const again = LearnerOutputFile.open(path, 7, 1);
    expect(again.resumed).toEqual({ next: 3, values: 2, ids: [] });
    expect(readFileSync(path, "utf8")).toBe("a\nb\n");
    again.output.close(at(3, 2), 0);
  });

  // Issue 20: a restart read the whole output file into memory to learn its size (3.2 GB of RSS
  // for a 3 GiB file); resuming must cost the same whatever the file's size.
  test("resuming reads the position only, never the output file, however large", () => {
    const path = join(dir(), "big.txt");
    const first = LearnerOutputFile.open(path, 7, 1);
    first.output.write(lines("x"));
    first.output.close(at(1, 1), 0);
    const pos = JSON.parse(readFileSync(`${path}.pos`, "utf8"));
    const size = 64 * 1024 * 1024;
    truncateSync(path, size); // sparse: costs no disk
    writeFileSync(`${path}.pos`, JSON.stringify({ ...pos, bytes: size }));
    const { io, readBytes } = countingIO();
    const again = LearnerOutputFile.open(path, 7, 1, io);
    expect(again.resumed?.next).toBe(1);
    expect(readBytes.get(path) ?? 0).toBe(0);
    expect([...readBytes.values()].reduce((a, b) => a + b, 0)).toBeLessThan(4096);
    again.output.close(at(1, 1), 0);
  });

  // Issue 20: `--output DIR` said "EISDIR: illegal operation on a directory" without a path, and
  // `--output /dev/full` read 4.2 GB of zeros before failing.
  test("a path that is not a regular file is refused with a sentence naming it", () => {
    const d = dir();
    const sub = join(d, "a-directory");
    mkdirSync(sub);
    expect(() => LearnerOutputFile.open(sub, 7, 1)).toThrow(`${sub} is a directory, not a regular file: --output names the file the delivered values are appended to`);
    const { io, readBytes } = countingIO();
    expect(() => LearnerOutputFile.open("/dev/full", 7, 1, io)).toThrow("/dev/full is a character device, not a regular file: --output names the file the delivered values are appended to");
    expect(readBytes.size).toBe(0);
    const out = join(d, "out.txt");
    mkdirSync(`${out}.pos`);
    expect(() => LearnerOutputFile.open(out, 7, 1)).toThrow(`${out}.pos is a directory, not a regular file: it should be this output's position`);
  });
});

// Issue 20: `--count` reached inside a batch recorded the next instance as the position, so a
// restart never wrote the rest of that batch.
describe("the position of an output cut by --count", () => {
  const seqs = (client: number, from: number, to: number) => Array.from({ length: to - from }, (_, i) => val(client, from + i));
  const decisions: Message = {
    t: "decision",
    decidedBelow: 0,
    decided: [
      { inst: 4, cVal: b(...seqs(1, 0, 50)) },
      { inst: 5, cVal: b(...seqs(2, 0, 10), ...seqs(1, 50, 60)) },
    ],
  };
  const learnerAt = (startAt: number, deliveredIds?: ReturnType<Learner["deliveredIdsSnapshot"]>) =>
    new Learner({ id: 1, acceptors: 3, catchupMs: 50, idleProbeMaxMs: 400, startAt, ...(deliveredIds ? { deliveredIds } : {}) });
  const all = [...ids(seqs(1, 0, 50)), ...ids(seqs(2, 0, 10)), ...ids(seqs(1, 50, 60))];

  for (const written of [30, 50, 55, 65]) {
    test(`cut after ${written} of 70 values delivered in one step: a restart delivers exactly the other ${70 - written}`, () => {
      const first = learnerAt(4);
      const fx = first.step({ kind: "msg", msg: decisions }, 0);
      expect(ids(fx.delivered)).toEqual(all);
      // What the runner writes: whole runs, then part of one.
      let left = written;
      const unwritten: { client: number; first: number; count: number }[] = [];
      for (const d of fx.delivered) {
        const take = Math.min(left, d.count);
        left -= take;
        if (take < d.count) unwritten.push({ client: d.client, first: d.first + take, count: d.count - take });
      }
      const pos = cutPosition(fx.deliveredInstances[0]!.inst, written, first.deliveredIdsSnapshot(), unwritten);
      expect(pos.next).toBe(4);
      expect(pos.values).toBe(written);
      const restarted = learnerAt(pos.next, JSON.parse(JSON.stringify(pos.ids))); // as FILE.pos keeps it
      const again = restarted.step({ kind: "msg", msg: decisions }, 0);
      expect(ids(again.delivered)).toEqual(all.slice(written));
      expect(restarted.nextInstance).toBe(6);
    });
  }

  test("ids below and above the cut survive it: earlier floors, and ranges of other clients", () => {
    const pos = cutPosition(9, 3, [[1, 100, [120, 130]], [2, 5, []]], [{ client: 1, first: 95, count: 5 }, { client: 1, first: 125, count: 2 }]);
    expect(pos).toEqual({ next: 9, values: 3, ids: [[1, 95, [120, 125, 127, 130]], [2, 5, []]] });
    expect(cutPosition(0, 0, [[3, 4, []]], [{ client: 3, first: 0, count: 2 }]).ids).toEqual([[3, 0, [2, 4]]]);
  });
});

// Issue 20: the archive was never synced while the output position was, so after a power loss a
// range of instances could be archived nowhere (0..500 archived, the output resumed at 1000).
describe("a learner's output position and its archive across a power loss", () => {
  /** The simulator's disk (unsynced writes lost at a crash), which can also say what a path is. */
  class StatDisk extends SimDisk {
    stat(path: string) {
      return this.exists(path) ? { kind: "file" as const, size: this.size(path) } : undefined;
    }
  }

  test("the archive holds every instance the position covers", () => {
    const disk = new StatDisk();
    let archive = LearnerArchive.open("/var/archive", 7, 1, disk);
    let out = LearnerOutputFile.open("/var/out.txt", 7, 1, disk).output;
    let next = 0;
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 100; k++, next++) {
        archive.append(next, b(val(1, next)));
        out.write(lines(`v${next}`));
      }
      archive.flush(); // what the learner does at every flush
      out.flush(at(next, next), round * 1000, 1000, false, () => archive.sync());
    }
    disk.crash(new Prng(5), "lose");
    archive = LearnerArchive.open("/var/archive", 7, 1, disk);
    const reopened = LearnerOutputFile.open("/var/out.txt", 7, 1, disk);
    expect(reopened.resumed?.next).toBe(300);
    expect(archive.size).toBeGreaterThanOrEqual(300);
    expect(archive.read(0, 300, 1 << 20).map((p) => p.inst)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    out = reopened.output;
    out.close(at(300, 300), 0);
  });
});
