/**
 * Node-only pieces, reached through the package's `#platform` import (browsers get ./browser.js):
 * the `ws` fallback for Node 20 (no global WebSocket), and `tlsOptions.ca` for fetch and WebSocket.
 * Node built-ins and `ws` are loaded lazily, so importing the SDK costs nothing until used.
 */
import type { CertificateAuthority, FetchLike, WebSocketConstructorLike } from "../models.js";

export const platformName = "node";

/** PEM text(s) from strings or bytes. */
function pems(ca: CertificateAuthority): string[] {
  return (Array.isArray(ca) ? ca : [ca]).map((c) => (typeof c === "string" ? c : new TextDecoder().decode(c)));
}

/** The global WebSocket when there is one (Node 22+), else `ws`; with a CA always `ws`. */
export async function loadWebSocket(authority?: CertificateAuthority): Promise<WebSocketConstructorLike> {
  const ca = authority === undefined ? undefined : pems(authority);
  const global = (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (global && !ca) return global;
  let ws: typeof import("ws");
  try {
    ws = await import("ws");
  } catch (error) {
    throw new Error("Real-time notifications on Node 20 need the `ws` package (npm install ws), or pass the WebSocket option.", { cause: error });
  }
  const Base = ws.WebSocket;
  if (!ca) return Base as unknown as WebSocketConstructorLike;
  return class TrustingWebSocket extends Base {
    constructor(url: string) {
      super(url, { ca });
    }
  } as unknown as WebSocketConstructorLike;
}

/** A fetch over node:https / node:http that trusts the given CA certificates (PEM). */
export function createTlsFetch(authority: CertificateAuthority): FetchLike {
  const ca = pems(authority);
  return async (input, init) => {
    const [{ request: httpsRequest }, { request: httpRequest }] = await Promise.all([import("node:https"), import("node:http")]);
    const url = new URL(input);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const body = typeof init.body === "string" ? init.body : undefined;
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const req = send(url, { method: init.method ?? "GET", headers, ...(url.protocol === "https:" && { ca }) }, (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          signal?.removeEventListener("abort", onAbort);
          const status = res.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(key, v);
          }
          const bytes = Buffer.concat(chunks);
          const nullBody = status === 204 || status === 205 || status === 304 || bytes.length === 0;
          resolve(new Response(nullBody ? null : bytes, { status, statusText: res.statusMessage ?? "", headers: responseHeaders }));
        });
      });
      const onAbort = () => req.destroy(abortError(signal!) as Error);
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(signal?.aborted ? abortError(signal) : new TypeError("fetch failed", { cause: error }));
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}
