/** Base64, UTF-8, SHA-256/HMAC and UUIDs on web platform APIs only (browsers, workers, Node 20). */

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < view.length; i += 0x8000) binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const normalized = text.replace(/-/g, "+").replace(/_/g, "/").replace(/\s/g, "");
  const padded = normalized + "=".repeat((4 - (normalized.length % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new Error(
      "WebCrypto (crypto.subtle) is not available. Browsers only provide it in secure contexts (https:, or http://localhost / 127.0.0.1).",
    );
  }
  return s;
}

export async function sha256Base64(text: string): Promise<string> {
  return toBase64(await subtle().digest("SHA-256", utf8(text)));
}

export async function hmacSha256Base64(keyBase64: string, text: string): Promise<string> {
  const key = await subtle().importKey("raw", fromBase64(keyBase64), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64(await subtle().sign("HMAC", key, utf8(text)));
}

/** A version-4 UUID; uses crypto.randomUUID where available (it needs a secure context in browsers). */
export function randomUuid(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
