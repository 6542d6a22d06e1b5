import { describe, expect, test } from "bun:test";
import { Decoder } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { encodeArray, type Item } from "../../src/net/cbor.ts";
import { DecodeError, WIRE_VERSION as V, decode, decodeWithCborX, encode } from "../../src/net/codec.ts";
import type { Message } from "../../src/protocol/messages.ts";
import { Prng } from "../../src/prng.ts";
import { Batch } from "../../src/protocol/batch.ts";
import { SAMPLES } from "./samples.ts";

const W = { cluster: 42, acceptors: 3 };


/** Byte arrays as plain arrays (a decoded Buffer and an encoded Uint8Array compare equal). */
const plain = (x: unknown): unknown =>
  x instanceof Batch ? plain(x.runList()) : x instanceof Uint8Array ? [...x] : Array.isArray(x) ? x.map(plain) : x !== null && typeof x === "object" ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)])) : x;

describe("codec", () => {
  test("the CBOR writer writes what cbor-x writes, for every message and for integers at every width", () => {
    const cborX = new Encoder({ useRecords: false, tagUint8Array: false, useFloat32: 0 } as never);
    const rng = new Prng(3);
    const ints = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 52, Number.MAX_SAFE_INTEGER];
    for (let k = 0; k < 2000; k++) ints.push(Math.floor(rng.next() * 2 ** (1 + rng.int(0, 52))));
    const bytes = [new Uint8Array(0), new Uint8Array(23), new Uint8Array(24), new Uint8Array(300), new Uint8Array(70_000)];
    const items: Item[] = [...ints, true, false, ...bytes, [1, [2, new Uint8Array(3)], []], Array.from({ length: 300 }, (_, k) => k)];
    expect([...encodeArray(items)]).toEqual([...cborX.encode(items)]);
    const raw = new Decoder({ useRecords: false, mapsAsObjects: false } as never);
    for (const m of SAMPLES) {
      const ours = encode(m, W);
      expect([...ours]).toEqual([...cborX.encode(raw.decode(ours))]); // the same items, as cbor-x writes them
    }
  });

  test("every message type round-trips", () => {
    for (const m of SAMPLES) expect(plain(decode(encode(m, W), W))).toEqual(plain(m));
  });

  test("a datagram of another cluster is refused", () => {
    expect(() => decode(encode(SAMPLES[2]!, { ...W, cluster: 1 }), W)).toThrow(new DecodeError("cluster"));
    expect(() => decode(encode(SAMPLES[2]!, { ...W, acceptors: 5 }), W)).toThrow(new DecodeError("config"));
  });

  test("malformed datagrams are refused with a reason", () => {
    const cbor = new Encoder({ useRecords: false } as never);
    const cases: [unknown, string][] = [
      [{ a: 1 }, "shape"],
      [[1, 42, 3, 2, 1, 7, 0, 0, 0], "version"], // version 1: the wire before rounds carried nonces
      [[2, 42, 3, 2, 1, 7, 0, 0, 0], "version"], // version 2 (paxos 0.1.0): 2Bs carried their values
      [[3, 42, 3, 2, 1, 7, 0, 0, 0], "version"], // version 3 (paxos 0.2): values one by one, not in runs
      [[V, 42, 5, 0, 0, 2, 1, 7, 0, 0, 0], "config"], // a process configured with 5 acceptors
      [[V, 42, 3, 0, 0, 99, 1, 7, 0, 0, 0], "type"],
      [[V, 42, 3, -1, 0, 2, 1, 7, 0, 0, 0], "field"], // a configuration epoch below 0
      [[V, 42, 3, 0, 1.5, 2, 1, 7, 0, 0, 0], "field"], // a knownTo that is no instance
      [[V, 42, 3, 0, 0, 2, -1, 7, 0, 0, 0], "field"],
      [[V, 42, 3, 0, 0, 2, 2 ** 53, 7, 0, 0, 0], "field"],
      [[V, 42, 3, 0, 0, 2, 1.5, 7, 0, 0, 0], "field"],
      [[V, 42, 3, 0, 0, 2, 1, 2 ** 48 + 1, 0, 0, 0], "field"], // nonce out of range
      [[V, 42, 3, 0, 0, 2, 1, 7, 0, 0], "shape"],
      [[V, 42, 3, 0, 0, 2, 1, 7, 0, 0, 0, 0], "shape"],
      [[V, 42, 3, 0, 0, 0, new Uint8Array([1, 2, 50, 0])], "field"],
      [[V, 42, 3, 0, 0, 6, 1, 9, [1, 2]], "field"],
      [[V, 42, 3, 0, 0, 0, new Uint8Array([1, 0, 0, 2, 2, 97, 10]), 0], "field"], // a run of 2 values with one line
      [[V, 42, 3, 0, 0, 0, new Uint8Array([1, 0, 0, 1, 1, 97]), 0], "field"], // a value without its newline
      [[V, 42, 3, 0, 0, 1, new Uint8Array([1, 0, 0])], "field"], // an ack of no value
      [[V, 42, 3, 0, 0, 5, 1, 7, [], 0, new Uint8Array([1, 2, 3])], "field"], // a truncated notify entry
    ];
    for (const [raw, reason] of cases) expect(() => decode(cbor.encode(raw), W)).toThrow(new DecodeError(reason as never));
    expect(() => decode(new Uint8Array([0xff, 0x00]), W)).toThrow(DecodeError);
  });

  test("reading in place and reading with cbor-x accept the same datagrams, as the same messages", () => {
    const rng = new Prng(11);
    const valid = SAMPLES.map((m) => encode(m, W));
    const outcome = (f: () => Message): unknown => {
      try {
        return plain(f());
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        return "refused";
      }
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from(rng.pick(valid));
      const cut = rng.chance(0.2) ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes;
      for (let k = rng.int(0, 3); k > 0 && cut.length > 0; k--) cut[rng.int(0, cut.length - 1)]! ^= 1 << rng.int(0, 7);
      const fast = outcome(() => decode(cut, W));
      expect(fast).toEqual(outcome(() => decodeWithCborX(cut, W).msg));
      if (fast !== "refused") accepted++;
    }
    expect(accepted).toBeGreaterThan(1000); // unmutated and harmlessly mutated ones
  });

  test("mutated datagrams never throw anything but DecodeError", () => {
    const rng = new Prng(7);
    const valid = SAMPLES.map((m) => encode(m, W));
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from(rng.pick(valid));
      const cut = rng.chance(0.3) ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes;
      for (let k = rng.int(1, 4); k > 0 && cut.length > 0; k--) cut[rng.int(0, cut.length - 1)]! ^= 1 << rng.int(0, 7);
      try {
        decode(cut, W);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
  });
});
