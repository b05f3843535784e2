/**
 * The unmodified official browser SDK (`@azure/communication-chat` 1.6.0 with its pinned
 * `@azure/communication-signaling` 1.0.0-beta.34), bundled by esbuild for the browser, in Debian's
 * headless Chromium (playwright-core, never a downloaded browser), pointed at a real Parley over
 * HTTPS. Chromium trusts Parley's certificate by its public key
 * (`--ignore-certificate-errors-spki-list`), as a developer's browser would trust the dev CA.
 *
 * The page is served from another loopback origin, so every Trouter request crosses origins and
 * CORS is exercised as in a real app. Node drives the other side with the official Node SDKs.
 */
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CommunicationIdentityClient } from "@azure/communication-identity";
import { CHAT_EVENT_NAMES } from "@parley/protocol";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chatClient, identityClient, type TestUser } from "../helpers/sdk.js";

export const CHROMIUM = "/usr/bin/chromium";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The official SDK as an app's bundler would include it: browser platform, so the browser builds with signaling. */
export async function bundleOfficialSdk(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import { ChatClient } from "@azure/communication-chat";
        import { AzureCommunicationTokenCredential } from "@azure/communication-common";
        import { setLogLevel, AzureLogger } from "@azure/logger";
        globalThis.Acs = { ChatClient, AzureCommunicationTokenCredential, setLogLevel, AzureLogger };`,
      resolveDir: root,
      loader: "js",
      sourcefile: "official-sdk-entry.js",
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile!.inputs);
  assert.ok(inputs.some((i) => i.includes("@azure/communication-chat/dist/browser/")), "the browser build of the chat SDK is bundled");
  assert.ok(inputs.some((i) => i.includes("@azure/communication-signaling/dist/index.js")), "the signaling client (Trouter) is bundled");
  return result.outputFiles![0]!.text;
}

/** The app in the page: plain browser JavaScript on the bundled SDK; events serialized with Dates marked. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>Official ACS SDK on Parley</title>
<script src="/sdk.js"></script>
<script>
  const { ChatClient, AzureCommunicationTokenCredential, setLogLevel, AzureLogger } = globalThis.Acs;
  const sdkLog = [];
  setLogLevel("verbose");
  AzureLogger.log = (...args) => { sdkLog.push(args.map(String).join(" ")); if (sdkLog.length > 4000) sdkLog.shift(); };
  const EVENTS = ${JSON.stringify([...CHAT_EVENT_NAMES, "realTimeNotificationConnected", "realTimeNotificationDisconnected"])};
  function ser(v) {
    if (v instanceof Date) return { $date: isNaN(v.getTime()) ? "invalid" : v.toISOString() };
    if (Array.isArray(v)) return v.map(ser);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ser(x)]));
    return v;
  }
  const clients = {};
  globalThis.app = {
    async start(name, endpoint, token, options = {}) {
      const credential = new AzureCommunicationTokenCredential(
        options.refresh ? { token, tokenRefresher: () => globalThis.refreshToken(name) } : token);
      const clientOptions = options.insecure ? {
        allowInsecureConnection: true,
        signalingClientOptions: { additionalPolicies: [{ position: "perCall", policy: { name: "insecure",
          sendRequest: (req, next) => { req.allowInsecureConnection = true; return next(req); } } }] },
      } : {};
      const client = new ChatClient(endpoint, credential, clientOptions);
      const entry = { client, events: [] };
      clients[name] = entry;
      await client.startRealtimeNotifications();
      for (const e of EVENTS) client.on(e, (payload) => entry.events.push({ name: e, at: Date.now(), data: ser(payload) }));
    },
    events: (name) => clients[name].events,
    stop: (name) => clients[name].client.stopRealtimeNotifications(),
    sdkLog: () => sdkLog.slice(),
  };
</script>`;

export interface SdkEvent {
  name: string;
  at: number;
  data: any;
}

declare global {
  var app:
    | {
        start(name: string, endpoint: string, token: string, options?: { refresh?: boolean; insecure?: boolean }): Promise<void>;
        events(name: string): SdkEvent[];
        stop(name: string): Promise<void>;
        sdkLog(): string[];
      }
    | undefined;
  var refreshToken: ((name: string) => Promise<string>) | undefined;
}

/** One browser page with any number of official ChatClients in it. */
export class AppPage {
  readonly errors: string[] = [];
  constructor(
    readonly page: Page,
    private readonly harness: Harness,
  ) {
    page.on("pageerror", (e) => this.errors.push(e.message));
  }

  async start(name: string, token: string, options: { refresh?: boolean; insecure?: boolean; endpoint?: string } = {}): Promise<void> {
    const endpoint = options.endpoint ?? this.harness.server.endpoint;
    await this.page.evaluate(([n, ep, t, o]) => globalThis.app!.start(n as string, ep as string, t as string, o as { refresh?: boolean }), [name, endpoint, token, options] as const);
  }

  events(name: string, filter?: string): Promise<SdkEvent[]> {
    return this.page.evaluate(([n, f]) => globalThis.app!.events(n!).filter((e) => !f || e.name === f), [name, filter] as const);
  }

  /** Waits until `count` events named `event` have arrived for client `name`; returns them. */
  async waitFor(name: string, event: string, count = 1, timeoutMs = 15_000): Promise<SdkEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.events(name, event);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        const all = (await this.events(name)).map((e) => e.name);
        throw new Error(`${name}: waited ${timeoutMs} ms for ${count}× ${event}; got [${all.join(", ")}]`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(name: string): Promise<void> {
    return this.page.evaluate((n) => globalThis.app!.stop(n), name);
  }

  sdkLog(): Promise<string[]> {
    return this.page.evaluate(() => globalThis.app!.sdkLog());
  }
}

/** What one Parley request looked like: the trouter-side traffic the tests count. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  at: number;
}

export class Harness {
  server!: TestServer;
  browser!: Browser;
  pageOrigin!: string;
  identity!: CommunicationIdentityClient;
  /** Trouter-related requests the pages sent (allocate, handshake, polling, registrar; not preflights), in order. */
  readonly seen: SeenRequest[] = [];
  private pages!: Server;
  private readonly contexts: BrowserContext[] = [];
  private sdkCode = "";
  private readonly refreshers = new Map<string, () => Promise<string>>();

  static async start(options: { store?: "sqlite" | "memory" } = {}): Promise<Harness> {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    const h = new Harness();
    h.server = await startTestServer({ store: options.store ?? "memory" });
    h.identity = identityClient(h.server);
    h.sdkCode = await bundleOfficialSdk();
    h.pages = createServer((req, res) => {
      if (req.url === "/sdk.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(h.sdkCode);
      if (req.url === "/") return res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => h.pages.listen(0, "127.0.0.1", resolve));
    h.pageOrigin = `http://127.0.0.1:${(h.pages.address() as AddressInfo).port}`;
    h.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--ignore-certificate-errors-spki-list=${spkiHash(path.join(h.server.dataDir, "tls", "server.crt"))}`,
      ],
    });
    return h;
  }

  /** A new page (its own browser context: cookies and storage of its own, like another device). */
  async newPage(): Promise<AppPage> {
    const context = await this.browser.newContext();
    this.contexts.push(context);
    const apiOrigin = new URL(this.server.endpoint).origin;
    context.on("response", (response) => {
      const url = new URL(response.url());
      if (url.origin.replace(/^http:/, "https:") !== apiOrigin && url.host !== new URL(this.server.httpEndpoint).host) return;
      const method = response.request().method();
      if (method !== "OPTIONS" && /^\/(trouter|v4|socket\.io|registrar)\b/.test(url.pathname)) this.seen.push({ method, path: url.pathname, status: response.status(), at: Date.now() });
    });
    const page = await context.newPage();
    const app = new AppPage(page, this);
    await page.exposeFunction("refreshToken", async (name: string) => {
      const refresher = this.refreshers.get(name);
      if (!refresher) throw new Error(`no token refresher for ${name}`);
      return refresher();
    });
    await page.goto(`${this.pageOrigin}/`);
    await page.waitForFunction(() => globalThis.app !== undefined);
    return app;
  }

  /** What the page's `tokenRefresher` for client `name` returns. */
  onRefresh(name: string, refresher: () => Promise<string>): void {
    this.refreshers.set(name, refresher);
  }

  async newUser(): Promise<TestUser> {
    const { user, token } = await this.identity.createUserAndToken(["chat"]);
    return { id: user.communicationUserId, token, chat: chatClient(this.server, token) };
  }

  count(method: string, pathPrefix: string, since = 0): number {
    return this.seen.filter((r) => r.method === method && r.path.startsWith(pathPrefix) && r.at >= since).length;
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => {});
    await this.browser?.close();
    await new Promise((resolve) => this.pages?.close(resolve));
    await this.server?.close();
  }
}

/** base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate: what Chromium's SPKI allow-list takes. */
export function spkiHash(certPath: string): string {
  const cert = new X509Certificate(readFileSync(certPath));
  return createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" })).digest("base64");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts a serialized Date (from the page) is valid, optionally equal to an expected time. */
export function assertDate(value: unknown, expected?: Date | string, what = "date"): void {
  const v = value as { $date?: string } | undefined;
  assert.ok(v && typeof v.$date === "string" && v.$date !== "invalid", `${what} is a valid Date (got ${JSON.stringify(value)})`);
  if (expected !== undefined) assert.equal(v.$date, new Date(expected).toISOString(), what);
}
