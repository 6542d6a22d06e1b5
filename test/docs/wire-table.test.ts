/**
 * DESIGN.md's wire table ("Wire format") against the codec: every message the codec encodes has
 * one row with its type code, no row names a message the codec lacks, and each row's fields are
 * the ones encoded, in order (an integer, a `bool`, a `bstr` or a flat `[…]` list).
 */
import { describe, expect, test } from "bun:test";
import { Decoder } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { join } from "node:path";
import { DecodeError, WIRE_VERSION, decode, encode } from "../../src/net/codec.ts";
import { Batch } from "../../src/protocol/batch.ts";
import { reportList } from "../../src/protocol/notify.ts";
import type { Message } from "../../src/protocol/messages.ts";

const W = { cluster: 42, acceptors: 3 };
const batch = Batch.ofRuns([{ client: 7, first: 9, floor: 8, count: 1, lines: new Uint8Array([1, 2, 10]) }]);

/** One message of each type; every integer field holds a value of its own, to find it on the wire. */
const SAMPLES: { [T in Message["t"]]: Extract<Message, { t: T }> } = {
  submit: { t: "submit", runs: batch, via: 101 },
  ack: { t: "ack", ranges: [7, 9, 1] },
  "1a": { t: "1a", cRnd: 201, nonce: 202, from: 203, decidedBelow: 204, acc: 205 },
  "1b": { t: "1b", acc: 301, ident: 302, rnd: 303, nonce: 304, from: 305, to: 306, done: true, votes: [{ inst: 1, vRnd: 2, vVal: batch }], decidedBelow: 307 },
  nack: { t: "nack", acc: 401, ident: 402, rnd: 403, cRnd: 404, nonce: 405 },
  "2a": { t: "2a", cRnd: 501, nonce: 502, proposals: [{ inst: 1, cVal: batch }], decidedBelow: 503, notify: new Uint8Array([1, 7, 9, 1]), report: reportList([1, 2]) },
  "2b": { t: "2b", acc: 601, ident: 602, vRnd: 603, nonce: 604, insts: [5, 3, 4], decidedBelow: 605, notify: new Uint8Array([1, 7, 9, 1]) },
  catchup: { t: "catchup", from: 701, to: 702, decidedBelow: 703, seenTo: 704 },
  decision: { t: "decision", decided: [{ inst: 1, cVal: batch }], decidedBelow: 851 },
  trimmed: { t: "trimmed", acc: 801, ident: 802, below: 803 },
  votes: { t: "votes", acc: 901, ident: 902, from: 903, to: 904, decidedBelow: 905, votes: [{ inst: 1, vRnd: 2, vVal: batch }] },
  refuse: { t: "refuse", acc: 1001, ident: 1002 },
  hello: { t: "hello", id: 1101, nonce: 1102, leading: true, startedMs: 1103 },
  config: { t: "config", history: [{ epoch: 1201, members: [1, 2, 4], from: 1202 }], knownTo: 1203, decidedBelow: 1204, ask: true, group: "clients" },
};

const raw = new Decoder({ useRecords: false, mapsAsObjects: false } as never);
/** [version, cluster, acceptors, type, ...fields] as the codec writes it. */
const wire = (m: Message): unknown[] => raw.decode(encode(m, W)) as unknown[];

interface Row {
  code: number;
  name: string;
  fields: { name: string; kind: "int" | "bool" | "bstr" | "list" }[];
}

/** Splits at commas outside brackets and parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let part = "";
  for (const ch of s) {
    if (ch === "[" || ch === "(") depth++;
    if (ch === "]" || ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(part.trim());
      part = "";
    } else part += ch;
  }
  if (part.trim() !== "") parts.push(part.trim());
  return parts;
}

function fieldOf(item: string): Row["fields"][number] {
  const m = /^([A-Za-z]+)\s*(?::\s*(.*))?$/s.exec(item);
  if (m === null) throw new Error(`wire table: cannot read the field "${item}"`);
  const type = (m[2] ?? "").trim();
  const kind = type === "" ? "int" : type.startsWith("[") ? "list" : type.startsWith("bstr") ? "bstr" : type.startsWith("bool") ? "bool" : undefined;
  if (kind === undefined) throw new Error(`wire table: unknown type "${type}" of field ${m[1]}`);
  return { name: m[1]!, kind };
}

/** The rows of the table under "| type | message | fields after the type |" in a markdown text. */
export function wireTable(markdown: string): Row[] {
  const lines = markdown.split("\n");
  const head = lines.findIndex((l) => /^\|\s*type\s*\|\s*message\s*\|/.test(l));
  if (head < 0) throw new Error("DESIGN.md has no wire table (| type | message | fields after the type |)");
  const rows: Row[] = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith("|")) break;
    const [code, name, fields] = line.split("|").slice(1, 4).map((c) => c.trim());
    const spans = [...fields!.matchAll(/`([^`]*)`/g)].map((x) => x[1]!);
    rows.push({ code: Number(code), name: name!, fields: spans.length === 0 ? [] : splitTop(spans.join(", ")).map(fieldOf) });
  }
  return rows;
}

/** The type codes the decoder knows: a bare header with a known code lacks fields ("shape"). */
function decodableCodes(): number[] {
  const codes: number[] = [];
  const enc = new Encoder({ useRecords: false } as never);
  for (let code = 0; code < 256; code++) {
    try {
      decode(enc.encode([WIRE_VERSION, W.cluster, W.acceptors, 0, 0, code]), W);
      codes.push(code);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (e.reason !== "type") codes.push(code);
    }
  }
  return codes;
}

const design = await Bun.file(join(import.meta.dir, "../../DESIGN.md")).text();

describe("DESIGN.md's wire table matches the codec", () => {
  test("the header is described as the codec writes it", () => {
    expect(wire(SAMPLES.catchup).slice(0, 5)).toEqual([WIRE_VERSION, W.cluster, W.acceptors, 0, 0]); // no configuration change known: epoch 0, knownTo 0
    expect(design).toContain(`\`[${WIRE_VERSION}, cluster, acceptors, epoch, knownTo, type, ...fields]\``);
  });

  test("one row per message, with the codec's type code, and no other row", () => {
    const codec = Object.values(SAMPLES)
      .map((m) => ({ code: wire(m)[5] as number, name: m.t }))
      .sort((a, b) => a.code - b.code);
    const documented = wireTable(design).map((r) => ({ code: r.code, name: r.name.toLowerCase() })).sort((a, b) => a.code - b.code);
    expect(documented).toEqual(codec);
    // And the decoder knows exactly these codes (no message type the samples above miss).
    expect(decodableCodes()).toEqual(codec.map((c) => c.code));
  });

  test("each row lists the fields the codec writes, in order", () => {
    for (const row of wireTable(design)) {
      const sample = SAMPLES[row.name.toLowerCase() as Message["t"]] as unknown as Record<string, unknown>;
      if (sample === undefined) continue; // reported by the test above
      const onWire = wire(sample as unknown as Message).slice(6);
      const where = `${row.name} (type ${row.code})`;
      expect(`${where}: ${row.fields.length} fields`).toBe(`${where}: ${onWire.length} fields`);
      row.fields.forEach((f, i) => {
        const got = onWire[i];
        const at = `${where}, field ${i + 1} "${f.name}"`;
        expect(`${at}: ${f.name in sample ? "a field of the message" : "not a field of the message"}`).toBe(`${at}: a field of the message`);
        // An int field whose message value is a name (Config's group) travels as its code.
        if (f.kind === "int" && typeof sample[f.name] === "string") expect(`${at}: ${typeof got}`).toBe(`${at}: number`);
        else if (f.kind === "int") expect(`${at}: ${String(got)}`).toBe(`${at}: ${String(sample[f.name])}`);
        else if (f.kind === "bool") expect(`${at}: ${typeof got}`).toBe(`${at}: boolean`);
        else if (f.kind === "bstr") expect(`${at}: ${got instanceof Uint8Array ? "bstr" : typeof got}`).toBe(`${at}: bstr`);
        else expect(`${at}: ${Array.isArray(got) ? "list" : typeof got}`).toBe(`${at}: list`);
      });
    }
  });

  test("the parser reads the table's notation", () => {
    const md = ["| type | message | fields after the type |", "|---|---|---|", "| 5 | 2A | `cRnd, nonce, proposals: [inst, cVal: bstr, …] (flat), decidedBelow` |", "", "| 9 | X |"].join("\n");
    expect(wireTable(md)).toEqual([
      {
        code: 5,
        name: "2A",
        fields: [
          { name: "cRnd", kind: "int" },
          { name: "nonce", kind: "int" },
          { name: "proposals", kind: "list" },
          { name: "decidedBelow", kind: "int" },
        ],
      },
    ]);
  });
});
