import { valuesOf } from "../protocol/values.ts";
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import type { PersistRecord } from "../../src/protocol/messages.ts";
import { AcceptorLog, StorageError } from "../../src/storage/acceptor-log.ts";
import { b, ids, val, NONCE } from "../protocol/helpers.ts";

const dir = () => mkdtempSync(join(tmpdir(), "paxos-log-"));
const vote = (inst: number, vRnd: number, ...v: ReturnType<typeof val>[]): PersistRecord => ({ kind: "vote", vote: { inst, vRnd, vVal: b(...v) } });
const show = (rs: PersistRecord[]) =>
  rs.map((r) =>
    r.kind === "promise"
      ? `promise ${r.rnd}`
      : r.kind === "trim" || r.kind === "decided"
        ? `${r.kind} ${r.below}`
        : r.kind === "config"
          ? `config ${r.history.map((c) => `${c.epoch}:${c.members.join(",")}@${c.from}`).join(" ")} knownTo ${r.knownTo}`
          : `vote ${r.vote.inst}@${r.vote.vRnd} ${ids(r.vote.vVal).join(",")}`,
  );

const open = (d: string, cluster = 7, create = false) => AcceptorLog.open(d, cluster, 1, { create, newIdent: () => 4242 });
/** The commit marker, and the marker written after each sync (see RecordLog.markSynced). */
const MARKER = 8 + 13;
/** Where the first record after the identity (written, synced and marked when the log is created) starts. */
const FIRST = 16 + (8 + 9) + MARKER + MARKER;

/** As if the machine crashed before the last group's sync returned: no synced-marker after it. */
function unsynced(path: string): void {
  truncateSync(path, statSync(path).size - MARKER);
}

/** Writes the groups of records, creating the log on first use. */
function written(d: string, records: PersistRecord[][]): string {
  const { log } = open(d, 7, !existsSync(join(d, "acceptor-1.log")));
  for (const group of records) {
    log.append(group);
    log.commit();
  }
  log.close();
  return join(d, "acceptor-1.log");
}

describe("acceptor log", () => {
  test("records survive a reopen, in order, values intact", () => {
    const d = dir();
    written(d, [[{ kind: "promise", rnd: 1001, owner: NONCE }, vote(0, 1001, val(1, 0, "a"))], [vote(1, 1001, val(1, 1, "b"), val(2, 0, ""))]]);
    const { loaded } = open(d);
    expect(show(loaded.records)).toEqual(["promise 1001", "vote 0@1001 1:0", "vote 1@1001 1:1,2:0"]);
    expect(loaded.tornBytes).toBe(0);
    const restored = new Acceptor({ id: 1, acceptors: 3, ident: 1, datagramBytesMax: 1400, catchupDatagramsMax: 4, retainInstances: 1_000_000 });
    restored.restore(loaded.records);
    expect(restored.promised).toBe(1001);
    expect(new TextDecoder().decode(valuesOf(restored.voteOf(0)!.vVal)[0]!.data)).toBe("a");
  });

  test("a torn last record (never acknowledged) is dropped, and appends continue after it", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0))], [vote(1, 1001, val(1, 1, "x".repeat(100)))]]);
    unsynced(path);
    truncateSync(path, statSync(path).size - MARKER - 10); // the crash tore the last write (record and commit marker)
    const first = open(d);
    expect(show(first.loaded.records)).toEqual(["vote 0@1001 1:0"]);
    expect(first.loaded.tornBytes).toBeGreaterThan(0);
    first.log.append([vote(2, 2002, val(3, 0))]);
    first.log.close();
    expect(show(open(d).loaded.records)).toEqual(["vote 0@1001 1:0", "vote 2@2002 3:0"]);
  });

  test("damage before the last record refuses to start", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "aaaa"))], [vote(1, 1001, val(1, 1, "bbbb"))]]);
    const bytes = readFileSync(path);
    bytes[FIRST + 8 + 20]! ^= 0xff; // inside the first vote's payload
    writeFileSync(path, bytes);
    expect(() => open(d)).toThrow(new RegExp(`corrupt record at byte ${FIRST} \\(checksum mismatch, before a committed record\\).*refusing to start`));
  });

  test("a damaged length in a committed record refuses to start (it is not a torn tail)", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "aaaa"))], [vote(1, 1001, val(1, 1, "bbbb"))]]);
    const bytes = readFileSync(path);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(FIRST, 1_000_000, true); // the first vote's length
    writeFileSync(path, bytes);
    expect(() => open(d)).toThrow(new RegExp(`corrupt record at byte ${FIRST} \\(length beyond the end, before a committed record\\)`));
  });

  // A power loss can leave the file extended with its data never written: zeros parse as a
  // zero-length record with a valid CRC, which made the acceptor refuse to start.
  test("a zero-filled tail (size extended, data never written) is a torn tail", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "a"))]]);
    appendFileSync(path, new Uint8Array(4096));
    const { loaded } = open(d);
    expect(show(loaded.records)).toEqual(["vote 0@1001 1:0"]);
    expect(loaded.tornBytes).toBe(4096);
  });

  // The last group was never synced, so its pages may have reached the disk in any order: here its
  // commit marker did and a page in its middle did not. Nothing of it was acknowledged.
  test("damage inside the last group, before its own marker, is a torn tail too", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "a"))]]);
    const firstGroupEnd = statSync(path).size;
    written(d, [[vote(1, 1001, val(1, 1, "x".repeat(300))), vote(2, 1001, val(1, 2, "y".repeat(300)))]]);
    unsynced(path);
    const bytes = readFileSync(path);
    bytes.fill(0, firstGroupEnd + 100, firstGroupEnd + 400);
    writeFileSync(path, bytes);
    expect(show(open(d).loaded.records)).toEqual(["vote 0@1001 1:0"]);
  });

  // Reviewed: damage in a group that was synced (the disk, not a crash) must not pass for a torn
  // tail, even when no group follows it: the marker written after its sync shows it was synced.
  test("damage in the last group after its sync (the disk, not a crash) refuses to start", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "a"))], [vote(1, 1001, val(1, 1, "x".repeat(300)))]]);
    const bytes = readFileSync(path);
    bytes[bytes.length - MARKER - MARKER - 100]! ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => open(d)).toThrow(/checksum mismatch, before a committed record.*refusing to start/);
  });

  test("…and damage in a group that a later committed group follows refuses to start", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0, "a"))], [vote(1, 1001, val(1, 1, "x".repeat(300)))], [vote(2, 1001, val(1, 2))]]);
    const bytes = readFileSync(path);
    const second = bytes.length - 400;
    bytes.fill(0, second, second + 50);
    writeFileSync(path, bytes);
    expect(() => open(d)).toThrow(/refusing to start/);
  });

  test("another acceptor's or cluster's log, or a foreign file, is refused", () => {
    const d = dir();
    written(d, [[vote(0, 1001, val(1, 0))]]);
    expect(() => open(d, 8)).toThrow(StorageError);
    const other = dir();
    writeFileSync(join(other, "acceptor-1.log"), "hello, this is not a log at all");
    expect(() => open(other)).toThrow(/bad magic/);
  });

  test("compaction keeps the live state only, and the identity", () => {
    const d = dir();
    const { log } = open(d, 7, true);
    const a = new Acceptor({ id: 1, acceptors: 3, ident: 1, datagramBytesMax: 1400, catchupDatagramsMax: 4, retainInstances: 1_000_000 });
    for (let r = 1; r <= 50; r++) {
      const records: PersistRecord[] = [{ kind: "promise", rnd: r * 1000 + 1, owner: NONCE }, vote(0, r * 1000 + 1, val(1, r))];
      a.restore(records);
      log.append(records);
    }
    log.commit();
    const before = statSync(log.path).size;
    log.compact(a.snapshot());
    expect(statSync(log.path).size).toBeLessThan(before / 10);
    log.close();
    const reopened = open(d);
    expect(show(reopened.loaded.records)).toEqual(["promise 50001", "trim 0", "decided 0", "config 0:1,2,3@0 knownTo 0", "vote 0@50001 1:50"]);
    expect(reopened.loaded.ident).toBe(4242);
  });
});

// Issue 11: a durable acceptor whose log is missing or empty (a wrong directory, a lost volume)
// used to start with empty state: it had forgotten its votes.
describe("acceptor log: first start and identity", () => {
  test("a missing or empty log is refused unless this is the first start (--init)", () => {
    const d = dir();
    expect(() => open(d)).toThrow(/acceptor-1\.log does not exist \(or is empty\): on an acceptor's first start pass --init/);
    writeFileSync(join(d, "acceptor-1.log"), "");
    expect(() => open(d)).toThrow(/does not exist \(or is empty\)/);
    const first = open(d, 7, true);
    expect(first.loaded.ident).toBe(4242);
    first.log.close();
    expect(open(d).loaded.ident).toBe(4242); // kept in the log
  });

  test("--init on an existing log is refused (it must not stay in a unit file)", () => {
    const d = dir();
    written(d, [[vote(0, 1001, val(1, 0))]]);
    expect(() => open(d, 7, true)).toThrow(/already exists: --init is for an acceptor's first start only/);
  });

  test("a log written before identities existed gets one, kept from then on", () => {
    const d = dir();
    const path = written(d, [[vote(0, 1001, val(1, 0))]]);
    const bytes = readFileSync(path);
    // Cut the identity group out: what a version 0.1 log looks like.
    writeFileSync(path, Buffer.concat([bytes.subarray(0, 16), bytes.subarray(FIRST)]));
    const old = AcceptorLog.open(d, 7, 1, { create: false, newIdent: () => 777 });
    expect(show(old.loaded.records)).toEqual(["vote 0@1001 1:0"]);
    expect(old.loaded.ident).toBe(777);
    old.log.close();
    expect(open(d).loaded.ident).toBe(777);
  });
});
