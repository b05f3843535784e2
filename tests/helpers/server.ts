/**
 * Starts a real Parley (the same startParley the CLI uses: HTTPS with a dev CA, plus HTTP) on
 * ephemeral loopback ports with a throwaway data dir.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startParley, type ConnectionOptions, type RunningParley, type WebhookOptions } from "@parley/server";

export interface TestServer {
  parley: RunningParley;
  endpoint: string;
  httpEndpoint: string;
  connectionString: string;
  accessKey: string;
  caPem: string;
  caCertPath: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  options: {
    store?: "sqlite" | "memory";
    dataDir?: string;
    keepDataDir?: boolean;
    stream?: Partial<ConnectionOptions>;
    /** Fixed ports (default 0: ephemeral), e.g. to restart a server where its clients expect it. */
    httpsPort?: number;
    httpPort?: number;
    /** Webhook tuning (short back-off in tests) and a subscriptions file. */
    webhooks?: Partial<WebhookOptions>;
    webhooksConfig?: string;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "parley-test-"));
  const parley = await startParley({
    dataDir,
    host: "127.0.0.1",
    httpsPort: options.httpsPort ?? 0,
    httpPort: options.httpPort ?? 0,
    store: options.store ?? "sqlite",
    logLevel: process.env.PARLEY_TEST_LOG_LEVEL ?? "silent",
    ...(options.stream && { stream: options.stream }),
    ...(options.webhooks && { webhooks: options.webhooks }),
    ...(options.webhooksConfig && { webhooksConfig: options.webhooksConfig }),
  });
  const { info } = parley;
  return {
    parley,
    endpoint: info.endpoint,
    httpEndpoint: info.httpEndpoint,
    connectionString: info.connectionString,
    accessKey: /accesskey=(.*)$/.exec(info.connectionString)![1]!,
    caPem: readFileSync(info.caCertPath, "utf8"),
    caCertPath: info.caCertPath,
    dataDir,
    close: async () => {
      await parley.close();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
