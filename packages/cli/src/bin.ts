#!/usr/bin/env node
/**
 * `parley`: the command line. `parley serve` (the default) starts a server; every option can also
 * come from a PARLEY_* environment variable.
 */
import { pathToFileURL } from "node:url";
import { realpathSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { startParley, type ParleyOptions } from "@parley/server";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port is a whole number from 0 to 65535 (0 = any free port)");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("parley").description("Parley: a self-hosted chat server speaking the Azure Communication Services Chat protocol");

  program
    .command("serve", { isDefault: true })
    .description("start Parley (HTTPS with a local dev CA, plus HTTP)")
    .addOption(new Option("--data-dir <dir>", "where data, keys and certificates live").env("PARLEY_DATA_DIR").default(".parley"))
    .addOption(new Option("--host <host>", "address to listen on").env("PARLEY_HOST").default("127.0.0.1"))
    .addOption(new Option("--https-port <port>", "HTTPS port (0 = any free port)").env("PARLEY_HTTPS_PORT").default(8443).argParser(port))
    .addOption(new Option("--http-port <port>", "HTTP port (0 = any free port)").env("PARLEY_HTTP_PORT").default(8080).argParser(port))
    .addOption(new Option("--store <driver>", "storage driver").env("PARLEY_STORE").choices(["sqlite", "memory"]).default("sqlite"))
    .addOption(new Option("--log-level <level>", "pino log level").env("PARLEY_LOG_LEVEL").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"))
    .addOption(new Option("--public-host <name>", "host name clients use, added to the certificate").env("PARLEY_PUBLIC_HOST"))
    .addOption(new Option("--cors-origins <list>", "comma-separated origins allowed by CORS, or *").env("PARLEY_CORS_ORIGINS").default("*"))
    .addOption(new Option("--webhooks-config <file>", "JSON file of webhook subscriptions to keep in place").env("PARLEY_WEBHOOKS_CONFIG"))
    .addOption(new Option("--webhooks-topic <path>", "Event Grid topic / CloudEvents source of webhook events").env("PARLEY_WEBHOOKS_TOPIC"))
    .action(async (opts: Record<string, string | number | undefined>) => {
      const options: ParleyOptions = {
        dataDir: String(opts.dataDir),
        host: String(opts.host),
        httpsPort: Number(opts.httpsPort),
        httpPort: Number(opts.httpPort),
        store: opts.store as ParleyOptions["store"],
        logLevel: String(opts.logLevel),
        corsOrigins: opts.corsOrigins === "*" ? "*" : String(opts.corsOrigins).split(",").map((o) => o.trim()).filter(Boolean),
        ...(opts.publicHost !== undefined && { publicHost: String(opts.publicHost) }),
        ...(opts.webhooksConfig !== undefined && { webhooksConfig: String(opts.webhooksConfig) }),
        ...(opts.webhooksTopic !== undefined && { webhooks: { topic: String(opts.webhooksTopic) } }),
      };
      await serve(options);
    });

  return program;
}

async function serve(options: ParleyOptions): Promise<void> {
  const parley = await startParley(options);
  const { info, trustEnv } = parley;
  process.stdout.write(
    [
      "",
      "Parley is running.",
      `  endpoint          ${info.endpoint}`,
      `  httpEndpoint      ${info.httpEndpoint}`,
      `  connectionString  ${info.connectionString}`,
      `  caCertPath        ${info.caCertPath}`,
      `  store             ${parley.store.driver}${options.store === "sqlite" ? ` (${options.dataDir})` : " (not persisted)"}`,
      "",
      "Trust the local CA (paste into the shell that runs your app):",
      `  export NODE_EXTRA_CA_CERTS="${trustEnv.NODE_EXTRA_CA_CERTS}"`,
      `  export REQUESTS_CA_BUNDLE="${trustEnv.REQUESTS_CA_BUNDLE}"`,
      "",
      `These values are also in ${options.dataDir}/endpoint.json. Stop with Ctrl+C.`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: finishing in-flight requests and closing the database…\n`);
    parley.close().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

export async function run(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv, { from: "user" });
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  run(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
