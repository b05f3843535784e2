/**
 * startParley(options): everything `parley serve` does, as a function. Creates the data dir,
 * its secrets, dev CA and database, starts HTTPS + HTTP and writes `<data-dir>/endpoint.json`.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp, type ParleyApp } from "./app.js";
import { listen } from "./server.js";
import { loadOrCreateSecrets } from "./config/secrets.js";
import { ensureDevTls } from "./tls/devCa.js";
import { MemoryStore, openSqliteStore, type Store } from "./store/index.js";
import type { ConnectionOptions } from "./realtime/connection.js";
import type { WebhookOptions } from "./webhooks/dispatcher.js";
import { loadWebhooksConfig } from "./webhooks/subscriptions.js";
import { MemoryWebhookStore } from "./webhooks/memoryWebhookStore.js";
import { openSqliteWebhookStore } from "./webhooks/sqliteWebhookStore.js";
import type { WebhookStore } from "./webhooks/webhookStore.js";

export interface ParleyOptions {
  dataDir: string;
  host: string;
  httpsPort: number;
  httpPort: number;
  store: "sqlite" | "memory";
  logLevel: string;
  /** Extra host names for the certificate and the printed endpoint (e.g. a LAN name). */
  publicHost?: string;
  corsOrigins?: "*" | string[];
  /** Event-stream tuning (tests use short heartbeats); see realtime/gateway.ts for defaults. */
  stream?: Partial<ConnectionOptions>;
  /** A JSON file listing webhook subscriptions to keep in place (docs/webhooks.md). */
  webhooksConfig?: string;
  /** Webhook tuning: topic, back-off, timeouts (tests use short ones); defaults in webhooks/dispatcher.ts. */
  webhooks?: Partial<WebhookOptions>;
}

export interface EndpointInfo {
  endpoint: string;
  httpEndpoint: string;
  connectionString: string;
  caCertPath: string;
}

export interface RunningParley {
  info: EndpointInfo;
  /** Lines a user pastes into a shell to trust the dev CA (Node, Python). */
  trustEnv: { NODE_EXTRA_CA_CERTS: string; REQUESTS_CA_BUNDLE: string };
  app: ParleyApp;
  store: Store;
  webhookStore: WebhookStore;
  close(): Promise<void>;
}

export async function startParley(options: ParleyOptions): Promise<RunningParley> {
  // Read before anything is created or opened: a bad file stops the start with a message naming the entry.
  const webhookConfig = options.webhooksConfig ? loadWebhooksConfig(path.resolve(options.webhooksConfig)) : undefined;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = loadOrCreateSecrets(dataDir);
  const publicHost = options.publicHost ?? displayHost(options.host);
  const tls = await ensureDevTls(dataDir, { hosts: [publicHost] });

  const store: Store = options.store === "memory" ? new MemoryStore() : openSqliteStore({ path: path.join(dataDir, "parley.db") });
  // Webhook state follows the chat store: durable next to parley.db, or gone with the process.
  const webhookStore: WebhookStore = options.store === "memory" ? new MemoryWebhookStore() : openSqliteWebhookStore({ path: path.join(dataDir, "webhooks.db") });
  const closeStores = async () => {
    await webhookStore.close();
    await store.close();
  };
  let app: ParleyApp;
  try {
    app = await createApp({
      store,
      secrets,
      logLevel: options.logLevel,
      ...(options.corsOrigins && { corsOrigins: options.corsOrigins }),
      ...(options.stream && { stream: options.stream }),
      webhooks: {
        store: webhookStore,
        ...(options.webhooks && { options: options.webhooks }),
        ...(webhookConfig && { config: webhookConfig }),
      },
    });
  } catch (error) {
    await closeStores();
    throw error;
  }
  const listening = await listen(app, { host: options.host, httpsPort: options.httpsPort, httpPort: options.httpPort, tls }).catch(async (error) => {
    await app.close();
    await closeStores();
    throw error;
  });

  const urlHost = publicHost.includes(":") ? `[${publicHost}]` : publicHost;
  const endpoint = `https://${urlHost}:${listening.httpsPort}/`;
  const info: EndpointInfo = {
    endpoint,
    httpEndpoint: `http://${urlHost}:${listening.httpPort}/`,
    connectionString: `endpoint=${endpoint};accesskey=${secrets.accessKey}`,
    caCertPath: tls.caCertPath,
  };
  // Written whole then renamed: tools that poll for the file never read a half-written one.
  const endpointFile = path.join(dataDir, "endpoint.json");
  writeFileSync(`${endpointFile}.tmp`, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  renameSync(`${endpointFile}.tmp`, endpointFile);

  return {
    info,
    trustEnv: { NODE_EXTRA_CA_CERTS: tls.caCertPath, REQUESTS_CA_BUNDLE: tls.caBundlePath },
    app,
    store,
    webhookStore,
    close: async () => {
      await listening.close();
      await closeStores();
    },
  };
}

/** The host clients should use: a wildcard bind is reached as localhost. */
function displayHost(bindHost: string): string {
  return bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "" ? "localhost" : bindHost;
}
