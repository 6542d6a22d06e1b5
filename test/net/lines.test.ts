import { describe, expect, test } from "bun:test";
import { readLines } from "../../src/runtime/lines.ts";

async function lines(chunks: string[], max = 10) {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });
  const out: string[] = [];
  for await (const ls of readLines(stream, max)) for (const l of ls) out.push(l.tooLong ? `#${l.number}:too long(${l.length})` : new TextDecoder().decode(l.bytes));
  return out;
}

describe("readLines", () => {
  test("splits on newlines across chunks, keeps empty lines, drops no last line", async () => {
    expect(await lines(["a\nb", "c\n\n", "d"])).toEqual(["a", "bc", "", "d"]);
    expect(await lines(["a\n"])).toEqual(["a"]);
    expect(await lines([])).toEqual([]);
    expect(await lines(["x\r\n"])).toEqual(["x\r"]);
  });

  test("reports over-long lines by number without keeping them", async () => {
    expect(await lines(["ok\n0123456789AB", "CD\nfine\n"])).toEqual(["ok", "#2:too long(14)", "fine"]);
  });
});
