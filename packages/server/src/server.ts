/**
 * Attaches a ParleyApp to an HTTPS and an HTTP listener and shuts both down gracefully: stop
 * accepting, let in-flight requests finish (bounded), then close the app and the store.
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { ParleyApp } from "./app.js";

export interface ListenOptions {
  host: string;
  /** 0 for an ephemeral port; null to not serve this scheme. */
  httpsPort: number | null;
  httpPort: number | null;
  tls?: { cert: string; key: string };
  /** How long to wait for in-flight requests at shutdown before cutting connections. */
  drainTimeoutMs?: number;
}

export interface Listening {
  httpsPort?: number;
  httpPort?: number;
  /** Stops accepting, drains in-flight requests, then stops the app. */
  close(): Promise<void>;
}

export async function listen(app: ParleyApp, options: ListenOptions): Promise<Listening> {
  const servers: http.Server[] = [];
  const result: Listening = { close: async () => {} };

  if (options.httpsPort !== null) {
    if (!options.tls) throw new Error("HTTPS needs a certificate and key");
    const server = https.createServer({ cert: options.tls.cert, key: options.tls.key }, app.handler);
    result.httpsPort = await start(server, options.host, options.httpsPort);
    servers.push(server);
  }
  if (options.httpPort !== null) {
    const server = http.createServer(app.handler);
    result.httpPort = await start(server, options.host, options.httpPort);
    servers.push(server);
  }
  for (const server of servers) {
    server.on("upgrade", app.upgrade);
    // Comfortably above client keep-alive pools' idle timeouts, so clients do not race a closing socket.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  }

  let closing: Promise<void> | undefined;
  result.close = () =>
    (closing ??= (async () => {
      app.setReady(false);
      // Stop accepting first; open streams are told to reconnect elsewhere (1001) by app.close().
      const drained = Promise.all(servers.map((s) => drain(s, options.drainTimeoutMs ?? 10_000)));
      await app.gateway.close();
      await drained;
      await app.close();
    })());
  return result;
}

function start(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function drain(server: http.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}
