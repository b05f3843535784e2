/**
 * The socket.io 0.9 packet format the Trouter client speaks (protocol version 1):
 * `type:id[+]:endpoint[:data]`, several packets per frame as `\uFFFD<len>\uFFFD<packet>` where
 * `len` counts UTF-16 code units (JS `.length`). Only what Trouter uses is implemented.
 */

export const PACKET = {
  disconnect: "0",
  connect: "1",
  heartbeat: "2",
  message: "3",
  json: "4",
  event: "5",
  ack: "6",
  error: "7",
  noop: "8",
} as const;

export interface Packet {
  type: string;
  /** Message id, when the sender wants an ack. */
  id?: string;
  /** `+`: the ack carries data. */
  ackData: boolean;
  endpoint: string;
  data: string;
}

const PACKET_RE = /^([0-8]):([0-9]*)(\+)?:([^:]*)(?::([\s\S]*))?$/;

export function decodePacket(text: string): Packet | undefined {
  const m = PACKET_RE.exec(text);
  if (!m) return undefined;
  return { type: m[1]!, ...(m[2] ? { id: m[2] } : {}), ackData: m[3] === "+", endpoint: m[4] ?? "", data: m[5] ?? "" };
}

const FRAME_MARK = "\uFFFD";

/** One packet as-is; several framed. */
export function encodePayload(packets: readonly string[]): string {
  if (packets.length === 1) return packets[0]!;
  return packets.map((p) => `${FRAME_MARK}${p.length}${FRAME_MARK}${p}`).join("");
}

/** Splits a payload into packets; undefined when the framing is broken. */
export function decodePayload(payload: string): string[] | undefined {
  if (!payload.startsWith(FRAME_MARK)) return [payload];
  const out: string[] = [];
  let i = 0;
  while (i < payload.length) {
    if (payload[i] !== FRAME_MARK) return undefined;
    const end = payload.indexOf(FRAME_MARK, i + 1);
    if (end < 0) return undefined;
    const len = Number(payload.slice(i + 1, end));
    if (!Number.isSafeInteger(len) || len < 0 || end + 1 + len > payload.length) return undefined;
    out.push(payload.slice(end + 1, end + 1 + len));
    i = end + 1 + len;
  }
  return out;
}

/** `5:::{"name":…,"args":[…]}`: an event the server sends. */
export function eventPacket(name: string, args: unknown[]): string {
  return `5:::${JSON.stringify({ name, args })}`;
}

/** `6:::<id>+[]` (data ack) or `6:::<id>`. */
export function ackPacket(id: string, withData: boolean): string {
  return withData ? `6:::${id}+[]` : `6:::${id}`;
}

/** `3:::<json>`: a Trouter request frame (the client answers with a `3:::` response). */
export function messagePacket(json: unknown): string {
  return `3:::${JSON.stringify(json)}`;
}
