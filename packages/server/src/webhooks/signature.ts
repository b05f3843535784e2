/**
 * Delivery signatures. Every request Parley sends to a subscriber carries
 *
 *   Parley-Timestamp: <unix seconds when the request was signed>
 *   Parley-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + exact body bytes)>
 *
 * The timestamp is inside the signed bytes, so a captured request cannot be replayed later with a
 * fresh timestamp; receivers reject timestamps outside a tolerance (5 minutes by default). The key is
 * the subscription secret's UTF-8 bytes. `v1=` leaves room for another scheme without breaking
 * receivers, and several space-separated signatures may appear (any one matching is enough).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "parley-signature";
export const TIMESTAMP_HEADER = "parley-timestamp";

export function signBody(secret: string, timestampSeconds: number, body: Uint8Array): string {
  const mac = createHmac("sha256", secret).update(`${timestampSeconds}.`).update(body).digest("hex");
  return `v1=${mac}`;
}

export function signatureHeaders(secret: string, nowMs: number, body: Uint8Array): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signBody(secret, timestamp, body) };
}

export interface VerifyInput {
  secret: string;
  /** The raw request body, exactly as received. */
  body: Uint8Array | string;
  timestamp: string | undefined;
  signature: string | undefined;
  /** Defaults to Date.now(). */
  nowMs?: number;
  toleranceSeconds?: number;
}

/** What a receiver does: true only for a fresh timestamp and a matching v1 signature. */
export function verifyWebhookSignature(input: VerifyInput): boolean {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > (input.toleranceSeconds ?? 300)) return false;
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const expected = Buffer.from(signBody(input.secret, Number(timestamp), body));
  return signature.split(/\s+/).some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
