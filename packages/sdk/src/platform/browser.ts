/**
 * Browser (and worker) pieces for the package's `#platform` import: the global WebSocket, and a
 * clear error for the Node-only `tlsOptions` (browsers trust certificates through their own store).
 */
import type { CertificateAuthority, FetchLike, WebSocketConstructorLike } from "../models.js";

export const platformName = "browser";

export async function loadWebSocket(ca?: CertificateAuthority): Promise<WebSocketConstructorLike> {
  if (ca) throw new Error(TLS_MESSAGE);
  const global = (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (!global) throw new Error("This environment has no WebSocket; pass the WebSocket option.");
  return global;
}

export function createTlsFetch(_ca: CertificateAuthority): FetchLike {
  throw new Error(TLS_MESSAGE);
}

const TLS_MESSAGE =
  "tlsOptions.ca works in Node only. In a browser, trust Parley's CA (<data-dir>/tls/ca.crt) in the OS or browser, or use Parley's http:// endpoint locally.";
