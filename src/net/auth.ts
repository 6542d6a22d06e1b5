/**
 * Datagram authentication: HMAC-SHA256 over (cluster id, payload), truncated to 16 bytes and
 * appended to the datagram. A datagram whose MAC does not verify is dropped before it is decoded.
 * Without a key the cluster trusts its network and datagrams carry no MAC.
 */
import { timingSafeEqual } from "node:crypto";
import { AUTH_TAG_BYTES } from "../protocol/wire-budget.ts";

export const MAC_BYTES = AUTH_TAG_BYTES;

export interface Authenticator {
  /** The datagram to send: payload followed by its MAC. */
  seal(payload: Uint8Array): Uint8Array;
  /** The payload of an authentic datagram, or undefined (too short, or a MAC that fails). */
  open(datagram: Uint8Array): Uint8Array | undefined;
}

export function authenticator(key: Uint8Array, clusterId: number): Authenticator {
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, clusterId >>> 0);
  const mac = (payload: Uint8Array): Uint8Array => {
    const h = new Bun.CryptoHasher("sha256", key);
    h.update(prefix);
    h.update(payload);
    return h.digest().subarray(0, MAC_BYTES);
  };
  return {
    seal(payload) {
      const out = new Uint8Array(payload.length + MAC_BYTES);
      out.set(payload);
      out.set(mac(payload), payload.length);
      return out;
    },
    open(datagram) {
      if (datagram.length < MAC_BYTES) return undefined;
      const payload = datagram.subarray(0, datagram.length - MAC_BYTES);
      const got = datagram.subarray(datagram.length - MAC_BYTES);
      return timingSafeEqual(mac(payload), got) ? payload : undefined;
    },
  };
}
