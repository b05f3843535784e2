/**
 * Connection-string HMAC, verified exactly as the official identity SDKs sign:
 *
 *   VERB \n path-and-query \n x-ms-date;host;x-ms-content-sha256
 *
 * signed with base64decode(accesskey). The path is the raw, still percent-encoded request-target.
 * The Python SDK's quirks produce a few other canonical forms (see signedForms); all are accepted.
 * Comparison is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface HmacRequest {
  method: string;
  /** The raw request-target, e.g. `/identities?api-version=2023-10-01`. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type HmacVerdict = { ok: true } | { ok: false; reason: string };

const AUTH_HEADER = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/;
const EXPECTED_SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256";

export class HmacVerifier {
  private readonly key: Buffer;

  constructor(
    accessKeyBase64: string,
    private readonly options: { clock: () => number; maxSkewMs: number },
  ) {
    this.key = Buffer.from(accessKeyBase64, "base64");
  }

  verify(req: HmacRequest): HmacVerdict {
    const authorization = header(req.headers, "authorization");
    const match = authorization === undefined ? null : AUTH_HEADER.exec(authorization);
    if (!match) return { ok: false, reason: "Missing or malformed HMAC-SHA256 Authorization header." };
    if (match[1]!.toLowerCase() !== EXPECTED_SIGNED_HEADERS) {
      return { ok: false, reason: `SignedHeaders must be ${EXPECTED_SIGNED_HEADERS}.` };
    }

    const date = header(req.headers, "x-ms-date") ?? header(req.headers, "date");
    const when = date === undefined ? NaN : Date.parse(date);
    if (Number.isNaN(when)) return { ok: false, reason: "Missing or invalid x-ms-date header." };
    if (Math.abs(this.options.clock() - when) > this.options.maxSkewMs) {
      return { ok: false, reason: "x-ms-date is outside the allowed time window." };
    }

    const contentHash = header(req.headers, "x-ms-content-sha256");
    const actualHash = createHash("sha256").update(req.body).digest("base64");
    if (contentHash === undefined || !equalStrings(contentHash, actualHash)) {
      return { ok: false, reason: "x-ms-content-sha256 does not match the request body." };
    }

    const given = Buffer.from(match[2]!, "base64");
    for (const [host, pathAndQuery] of signedForms(header(req.headers, "host") ?? "", req.rawUrl)) {
      const expected = createHmac("sha256", this.key).update(`${req.method}\n${pathAndQuery}\n${date};${host};${contentHash}`, "utf8").digest();
      if (expected.length === given.length && timingSafeEqual(expected, given)) return { ok: true };
    }
    return { ok: false, reason: "The HMAC signature does not match." };
  }
}

/**
 * The (host, path-and-query) pairs an official SDK may have signed for this request:
 *  - as sent (JS, and Python over https);
 *  - path without its leading "/" (Python over http slices `url[len(host) + 8:]`, assuming https);
 *  - host with ":443" when the Host header omits the default port (Python signs the host as written);
 *  - host with a trailing "/" and one more character cut from the path: Python's
 *    `CommunicationIdentityClient("https://host:port/", AzureKeyCredential(key))` keeps the endpoint's
 *    trailing slash in the host it signs, and Parley prints its endpoint with one.
 */
function signedForms(host: string, rawUrl: string): Array<[string, string]> {
  const hosts = host.includes(":") ? [host] : [host, `${host}:443`];
  return hosts.flatMap((h): Array<[string, string]> => [
    [h, rawUrl],
    [h, rawUrl.slice(1)],
    [`${h}/`, rawUrl.slice(1)],
    [`${h}/`, rawUrl.slice(2)],
  ]);
}

function header(headers: HmacRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function equalStrings(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Signs a request the way the official SDKs do; used by Parley's own tools and tests. */
export function signRequest(options: {
  accessKeyBase64: string;
  method: string;
  url: URL;
  body?: string | Buffer;
  date?: Date;
}): Record<string, string> {
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const date = (options.date ?? new Date()).toUTCString();
  const contentHash = createHash("sha256").update(body).digest("base64");
  const pathAndQuery = options.url.pathname + options.url.search;
  const toSign = `${options.method}\n${pathAndQuery}\n${date};${options.url.host};${contentHash}`;
  const signature = createHmac("sha256", Buffer.from(options.accessKeyBase64, "base64")).update(toSign, "utf8").digest("base64");
  return {
    "x-ms-date": date,
    "x-ms-content-sha256": contentHash,
    authorization: `HMAC-SHA256 SignedHeaders=${EXPECTED_SIGNED_HEADERS}&Signature=${signature}`,
  };
}
