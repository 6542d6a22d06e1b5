import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LearnerArchive } from "../../src/storage/learner-archive.ts";
import { b, ids, val } from "../protocol/helpers.ts";

test("a learner archive serves ranges of delivered instances, and survives a reopen", () => {
  const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"));
  const a = LearnerArchive.open(dir, 7, 1);
  for (let inst = 0; inst < 1000; inst++) a.append(inst, inst % 10 === 0 ? b() : b(val(1, inst)));
  const got = a.read(500, 503, 1 << 20);
  expect(got.map((p) => [p.inst, ids(p.cVal)])).toEqual([[500, []], [501, ["1:501"]], [502, ["1:502"]]]);
  expect(a.read(995, 2000, 1 << 20).map((p) => p.inst)).toEqual([995, 996, 997, 998, 999]);
  expect(a.read(1000, 2000, 1 << 20)).toEqual([]);
  expect(a.read(0, 1000, 200).length).toBeLessThan(20); // bounded by bytes
  a.close();
  const again = LearnerArchive.open(dir, 7, 1);
  expect(again.size).toBe(1000);
  again.append(999, b(val(9, 9))); // already archived: skipped
  again.append(1000, b(val(1, 1000)));
  expect(again.read(998, 1001, 1 << 20).map((p) => ids(p.cVal))).toEqual([["1:998"], ["1:999"], ["1:1000"]]);
  again.close();
});

// Issue 11: a learner archive read back from disk is checked like the acceptor log; a malformed
// archived batch used to be served as an empty, decided batch.
test("a damaged archive ends where its damage starts when reopened (it is never synced), and reads check every record", () => {
  const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"));
  const a = LearnerArchive.open(dir, 7, 1);
  for (let inst = 0; inst < 300; inst++) a.append(inst, b(val(1, inst, "x".repeat(50))));
  a.close();
  const path = join(dir, "learner-1.archive");
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // pages written out of order, say
  writeFileSync(path, bytes);
  const reopened = LearnerArchive.open(dir, 7, 1);
  expect(reopened.size).toBeGreaterThan(100);
  expect(reopened.size).toBeLessThan(300);
  // Damage after it was opened: the read fails loudly.
  const again = readFileSync(path);
  again[200]! ^= 0xff;
  writeFileSync(path, again);
  expect(() => reopened.read(0, 10, 1 << 20)).toThrow(/damaged record at byte \d+ \(checksum mismatch\)/);
});

test("an archived batch that does not parse is refused, not served as an empty batch", () => {
  const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"));
  const archive = LearnerArchive.open(dir, 7, 1);
  archive.append(0, b(val(1, 0, "ok")));
  archive.flush();
  // The disk changes under it: the batch's length field now runs past its end, and the record's
  // checksum is recomputed to match (so only the batch check can tell).
  const path = join(dir, "learner-1.archive");
  const bytes = readFileSync(path);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const record = 16;
  const payload = bytes.subarray(record + 8, record + 8 + dv.getUint32(record, true));
  expect([...payload.subarray(8)]).toEqual([1, 0, 0, 1, 3, 111, 107, 10]); // client 1, seq 0, floor 0, 1 value, 3 bytes: "ok\n"
  payload[8 + 4] = 99;
  dv.setUint32(record + 4, Bun.hash.crc32(payload), true);
  writeFileSync(path, bytes);
  expect(() => archive.read(0, 1, 1 << 20)).toThrow(/instance 0 holds a malformed batch/);
  // As the learner's port, it says so instead (the learner stops, naming it).
  expect(archive.port().read(0, 1, 1 << 20)).toEqual({ damage: expect.stringMatching(/learner-1\.archive: instance 0 holds a malformed batch/) });
  archive.close();
  expect(LearnerArchive.open(dir, 7, 1).size).toBe(0); // reopened: the archive ends before it
});

// Issue 20: the archive indexed every 256th instance only, so a read starting between index
// points of an archive that did not start at one returned nothing, and so did one starting more
// than a read's worth of bytes (1 MiB) past its index point.
test("any start instance is served: an archive that starts mid-way, large batches, and a gap", () => {
  const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"));
  const late = LearnerArchive.open(dir, 7, 1); // a learner that resumed its --output at 1000
  for (let inst = 1000; inst < 1100; inst++) late.append(inst, b(val(1, inst)));
  expect(late.read(1000, 1003, 1 << 20).map((p) => p.inst)).toEqual([1000, 1001, 1002]);
  expect(late.read(1050, 1052, 1 << 20).map((p) => ids(p.cVal))).toEqual([["1:1050"], ["1:1051"]]);
  expect(late.read(900, 1002, 1 << 20).map((p) => p.inst)).toEqual([1000, 1001]); // what it holds of the range
  // A gap (the learner restarted further on): served on both sides, nothing made up inside it.
  for (let inst = 1500; inst < 1600; inst++) late.append(inst, b(val(1, inst)));
  expect(late.read(1200, 1300, 1 << 20)).toEqual([]);
  expect(late.read(1290, 1502, 1 << 20).map((p) => p.inst)).toEqual([1500, 1501]);
  expect(late.read(1598, 1700, 1 << 20).map((p) => p.inst)).toEqual([1598, 1599]);
  late.close();
  const reopened = LearnerArchive.open(dir, 7, 1);
  expect(reopened.read(1001, 1002, 1 << 20).map((p) => p.inst)).toEqual([1001]);
  expect(reopened.read(1510, 1511, 1 << 20).map((p) => p.inst)).toEqual([1510]);
  reopened.close();

  const big = LearnerArchive.open(mkdtempSync(join(tmpdir(), "paxos-archive-")), 7, 1);
  for (let inst = 0; inst < 100; inst++) big.append(inst, b(val(1, inst, "y".repeat(60_000))));
  expect(big.read(50, 52, 1 << 20).map((p) => p.inst)).toEqual([50, 51]);
  expect(big.read(99, 100, 1 << 20).map((p) => p.inst)).toEqual([99]);
  big.close();
});
