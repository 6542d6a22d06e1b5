/**
 * Decoder fuzzing: inputs mutated from valid datagrams (bit flips, truncation, extension, type
 * swaps) go to the decoder and, through the runtime's receive path (Node.onDatagram), to each
 * role. Nothing may throw; an input that does not decode never reaches the role.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { proposerOptions } from "../protocol/helpers.ts";
import { Decoder } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { DecodeError, decode, encode } from "../../src/net/codec.ts";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { Client } from "../../src/protocol/client.ts";
import { Learner } from "../../src/protocol/learner.ts";
import type { Effects, Group, Input, Role } from "../../src/protocol/messages.ts";
import { Proposer } from "../../src/protocol/proposer.ts";
import { Prng } from "../../src/prng.ts";
import { createLogger } from "../../src/runtime/log.ts";
import { Node } from "../../src/runtime/node.ts";
import { SAMPLES } from "../net/samples.ts";

// 100,000 inputs through every role in this one process (no real processes, no sockets): on a
// shared, sometimes busy, 2-core machine they need room beyond bun's 5 s default.
setDefaultTimeout(120_000);
const WIRE = { cluster: DEFAULT_CONFIG.cluster, acceptors: DEFAULT_CONFIG.acceptors };
const cbor = new Encoder({ useRecords: false, tagUint8Array: false } as never);
const raw = new Decoder({ useRecords: false, mapsAsObjects: false } as never);

function mutate(rng: Prng, valid: Uint8Array[]): Uint8Array {
  const base = rng.pick(valid);
  switch (rng.int(0, 3)) {
    case 0: {
      const out = Uint8Array.from(base);
      for (let k = rng.int(1, 4); k > 0; k--) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
      return out;
    }
    case 1:
      return base.subarray(0, rng.int(0, base.length - 1));
    case 2: {
      const out = new Uint8Array(base.length + rng.int(1, 32));
      out.set(base);
      for (let i = base.length; i < out.length; i++) out[i] = rng.int(0, 255);
      return out;
    }
    default: {
      const arr = raw.decode(base) as unknown[];
      arr[2] = rng.int(0, 12); // another message type with these fields
      return cbor.encode(arr);
    }
  }
}

/** A role that counts the inputs that reach it. */
class Spy implements Role {
  steps = 0;
  constructor(readonly inner: Role) {}
  step(input: Input, nowMs: number): Effects {
    this.steps++;
    return this.inner.step(input, nowMs);
  }
  invariants(): void {
    this.inner.invariants();
  }
  stamp() {
    return this.inner.stamp();
  }
  get config() {
    return this.inner.config;
  }
}

const roles: [Group, () => Role][] = [
  ["acceptors", () => new Acceptor({ id: 1, acceptors: 3, ident: 1, datagramBytesMax: 1400, catchupDatagramsMax: 4, retainInstances: 1024 })],
  ["proposers", () => new Proposer(proposerOptions({ retainInstances: 1024 }))],
  ["learners", () => new Learner({ id: 1, acceptors: 3, catchupMs: 50, idleProbeMaxMs: 400 })],
  ["clients", () => new Client({ id: 1, acceptors: 3, outstandingMax: 10, batchBytesMax: 1296, retransmitMs: 100, retransmitMinMs: 20, seqBase: 0 })],
];

describe("fuzzing", () => {
  const valid = SAMPLES.map((m) => encode(m, WIRE));

  test("100,000 mutated datagrams: the decoder throws nothing but DecodeError", () => {
    const rng = new Prng(1);
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      try {
        decode(mutate(rng, valid), WIRE);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(50_000); // most mutations are caught, some yield valid messages
  }, 60_000);

  for (const [group, make] of roles) {
    test(`100,000 mutated datagrams into the ${group} runtime: nothing escapes, invalid ones never reach the role`, () => {
      const rng = new Prng(group.length);
      const spy = new Spy(make());
      const node = new Node({ config: DEFAULT_CONFIG, group, role: spy, log: createLogger("fuzz", false), loss: 0, seed: 1 });
      (node as unknown as { sender: unknown }).sender = { send() {}, flush() {}, close() {} };
      let decodable = 0;
      for (let i = 0; i < 100_000; i++) {
        const bytes = mutate(rng, valid);
        let ok = true;
        try {
          decode(bytes, WIRE);
        } catch {
          ok = false;
        }
        const before = spy.steps;
        node.onDatagram(bytes); // must not throw
        if (!ok) expect(spy.steps).toBe(before);
        else decodable++;
      }
      const dropped = Object.values(node.stats.dropped).reduce((a, b) => a + b, 0);
      expect(node.stats.received).toBe(100_000);
      expect(dropped + spy.steps).toBe(100_000);
      expect(spy.steps).toBeLessThanOrEqual(decodable);
    }, 60_000);
  }
});
