/**
 * Connection-string HMAC, signed exactly as `@azure/communication-common` signs:
 *
 *   VERB \n path-and-query \n <x-ms-date>;<host>;<x-ms-content-sha256>
 *
 * with base64decode(accesskey), on WebCrypto. Browsers cannot set `Host`; the server verifies against
 * the Host it receives, which is `url.host` (default ports omitted) on every platform.
 */
import { hmacSha256Base64, sha256Base64 } from "./encoding.js";

export const SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256";

export interface SignedHeaders {
  "x-ms-date": string;
  "x-ms-content-sha256": string;
  authorization: string;
}

export async function signRequest(accessKeyBase64: string, method: string, url: URL, body: string, date: Date = new Date()): Promise<SignedHeaders> {
  const utcNow = date.toUTCString();
  const contentHash = await sha256Base64(body);
  const stringToSign = `${method.toUpperCase()}\n${url.pathname}${url.search}\n${utcNow};${url.host};${contentHash}`;
  const signature = await hmacSha256Base64(accessKeyBase64, stringToSign);
  return {
    "x-ms-date": utcNow,
    "x-ms-content-sha256": contentHash,
    authorization: `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=${signature}`,
  };
}
