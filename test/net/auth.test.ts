import { describe, expect, test } from "bun:test";
import { MAC_BYTES, authenticator } from "../../src/net/auth.ts";

const key = (s: string) => new TextEncoder().encode(s);

describe("datagram authentication", () => {
  const a = authenticator(key("0123456789abcdef-secret"), 7);
  const payload = new Uint8Array([1, 2, 3, 4, 5]);

  test("a sealed datagram opens to its payload", () => {
    const sealed = a.seal(payload);
    expect(sealed.length).toBe(payload.length + MAC_BYTES);
    expect([...a.open(sealed)!]).toEqual([...payload]);
  });

  test("tampering, another key, another cluster, or no MAC at all: refused", () => {
    const sealed = a.seal(payload);
    for (let i = 0; i < sealed.length; i++) {
      const t = sealed.slice();
      t[i]! ^= 1;
      expect(a.open(t)).toBeUndefined();
    }
    expect(a.open(authenticator(key("another-key-of-16+chars"), 7).seal(payload))).toBeUndefined();
    expect(a.open(authenticator(key("0123456789abcdef-secret"), 8).seal(payload))).toBeUndefined();
    expect(a.open(payload)).toBeUndefined();
    expect(a.open(new Uint8Array(3))).toBeUndefined();
  });
});
