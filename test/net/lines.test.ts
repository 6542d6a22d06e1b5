import { describe, expect, test } from "bun:test";
import { splitLines } from "../../src/protocol/batch.ts";
import { readLineSlabs } from "../../src/runtime/lines.ts";

async function lines(chunks: string[], max = 10) {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });
  const out: string[] = [];
  for await (const items of readLineSlabs(stream, max)) {
    for (const item of items) {
      if (item.kind === "too-long") out.push(`#${item.number}:too long(${item.length})`);
      else {
        // A slab is whole lines, each ending with its newline, as many as it says.
        expect(item.lines[item.lines.length - 1]).toBe(0x0a);
        const values = splitLines(item.lines).map((l) => new TextDecoder().decode(l));
        expect(values.length).toBe(item.count);
        out.push(...values);
      }
    }
  }
  return out;
}

describe("readLineSlabs", () => {
  test("splits on newlines across chunks, keeps empty lines, drops no last line", async () => {
    expect(await lines(["a\nb", "c\n\n", "d"])).toEqual(["a", "bc", "", "d"]);
    expect(await lines(["a\n"])).toEqual(["a"]);
    expect(await lines([])).toEqual([]);
    expect(await lines(["x\r\n"])).toEqual(["x\r"]);
    expect(await lines(["ab", "cd", "ef\ngh", "\n"])).toEqual(["abcdef", "gh"]);
  });

  test("reports over-long lines by number without keeping them, in order among the others", async () => {
    expect(await lines(["ok\n0123456789AB", "CD\nfine\n"])).toEqual(["ok", "#2:too long(14)", "fine"]);
    expect(await lines(["a\n0123456789ABC\nb\n"])).toEqual(["a", "#2:too long(13)", "b"]);
    expect(await lines(["0123456789", "X"])).toEqual(["#1:too long(11)"]);
    expect(await lines(["0123456789\n"])).toEqual(["0123456789"]); // exactly the limit
  });

  test("a chunk's lines come as one slab between over-long ones", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("a\nb\nc\n"));
        c.close();
      },
    });
    const items = [];
    for await (const batch of readLineSlabs(stream, 10)) items.push(...batch);
    expect(items.map((i) => (i.kind === "lines" ? i.count : -1))).toEqual([3]);
  });
});
