import { Batch } from "../../src/protocol/batch.ts";
import type { Effects, Group, Message, Value } from "../../src/protocol/messages.ts";

const enc = new TextEncoder();

export const val = (client: number, seq: number, text = `v${client}.${seq}`): Value => ({
  client,
  seq,
  floor: 0,
  data: enc.encode(text),
});

/** The messages of one type sent to one group. */
export function sent<T extends Message["t"]>(fx: Effects, to: Group, t: T): Extract<Message, { t: T }>[] {
  return fx.sends.filter((s) => s.to === to && s.msg.t === t).map((s) => s.msg as Extract<Message, { t: T }>);
}

/** A batch of the given values. */
export const b = (...values: Value[]): Batch => Batch.of(values);

/** Value ids "client:seq" of a batch or a list of values. */
export const ids = (batch: Batch | readonly Value[]): string[] =>
  (batch instanceof Batch ? batch.values : batch).map((v) => `${v.client}:${v.seq}`);
