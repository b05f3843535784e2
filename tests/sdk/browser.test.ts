// @parley/sdk in a real browser (Debian's headless Chromium via playwright-core): the esbuild
// browser bundle, served from a tiny loopback page server, talks to Parley over plain http/ws
// (cross-origin, so CORS is exercised) and receives a message another user sends, in real time.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { bundle } from "./bundle.js";
import { participant, sdkUser, type SdkUser } from "./support.js";

const CHROMIUM = "/usr/bin/chromium";
/** The app in the page: plain browser JavaScript using the bundled SDK. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>Parley SDK</title>
<script type="module">
  import { AzureCommunicationTokenCredential, ChatClient, CommunicationIdentityClient } from "/sdk.js";
  const received = [];
  const connection = [];
  let chat;
  window.parleyTestApp = {
    received,
    connection,
    async createUser(connectionString) {
      const result = await new CommunicationIdentityClient(connectionString).createUserAndToken(["chat"]);
      return { id: result.user.communicationUserId, isDate: result.expiresOn instanceof Date };
    },
    async startChat(endpoint, token) {
      chat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token));
      chat.on("realTimeNotificationConnected", () => connection.push("connected"));
      chat.on("chatMessageReceived", (e) =>
        received.push({ message: e.message, sender: e.sender, createdOnIsDate: e.createdOn instanceof Date, threadId: e.threadId }));
      await chat.startRealtimeNotifications();
    },
    async reply(threadId) {
      const thread = chat.getChatThreadClient(threadId);
      await thread.sendMessage({ content: "hello from the browser" }, { senderDisplayName: "Bob" });
      const typed = await thread.sendTypingNotification();
      const out = [];
      for await (const m of thread.listMessages()) if (m.type === "text" && m.createdOn instanceof Date) out.push(m.content.message);
      return { out, typed };
    },
    stop: () => chat.stopRealtimeNotifications(),
    tlsRefusal(endpoint) {
      try {
        new ChatClient(endpoint, new AzureCommunicationTokenCredential("x.eyJleHAiOjF9.x"), { tlsOptions: { ca: "pem" } });
        return "constructed";
      } catch (error) {
        return error.message;
      }
    },
  };
</script>`;

type App = {
  received: Array<{ message: string; sender: unknown; createdOnIsDate: boolean; threadId: string }>;
  connection: string[];
  createUser(connectionString: string): Promise<{ id: string; isDate: boolean }>;
  startChat(endpoint: string, token: string): Promise<void>;
  reply(threadId: string): Promise<{ out: string[]; typed: boolean }>;
  stop(): Promise<void>;
  tlsRefusal(endpoint: string): string;
};
declare global {
  /** The page's app object; page.evaluate callbacks run in the page, where this global exists. */
  var parleyTestApp: App | undefined;
}

describe("@parley/sdk in a browser", () => {
  let server: TestServer;
  let pages: Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let alice: SdkUser;
  const consoleErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    server = await startTestServer();
    alice = await sdkUser(server, "http");
    const { code } = await bundle(`export * from "@parley/sdk";`, "browser");
    pages = createServer((req, res) => {
      if (req.url === "/sdk.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(code);
      if (req.url === "/") return res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      if (req.url === "/favicon.ico") return res.writeHead(204).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage();
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(e.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => globalThis.parleyTestApp !== undefined);
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await server?.close();
  });

  it("runs the identity client in the page: HMAC on WebCrypto, no Host header, cross-origin", async () => {
    const created = await page.evaluate((cs) => globalThis.parleyTestApp!.createUser(cs), `endpoint=${server.httpEndpoint};accesskey=${server.accessKey}`);
    assert.match(created.id, /^8:acs:/);
    assert.equal(created.isDate, true);
  });

  it("receives a message sent by another user in real time, and sends one back", async () => {
    const bob = await sdkUser(server, "http");
    const { chatThread } = await alice.chat.createChatThread({ topic: "browser" }, { participants: [participant(alice, "Alice"), participant(bob, "Bob")] });
    const threadId = chatThread!.id;

    // Bob's page: start real-time notifications with the browser's own WebSocket.
    await page.evaluate(([endpoint, token]) => globalThis.parleyTestApp!.startChat(endpoint!, token!), [server.httpEndpoint, bob.token]);
    assert.deepEqual(await page.evaluate(() => globalThis.parleyTestApp!.connection), ["connected"]);

    // Alice, in Node, sends; the page hears it.
    await alice.chat.getChatThreadClient(threadId).sendMessage({ content: "hello from Node" }, { senderDisplayName: "Alice" });
    await page.waitForFunction(() => globalThis.parleyTestApp!.received.length >= 1, undefined, { timeout: 5000 });
    const [received] = await page.evaluate(() => globalThis.parleyTestApp!.received);
    assert.deepEqual(received, { message: "hello from Node", sender: { kind: "communicationUser", communicationUserId: alice.id }, createdOnIsDate: true, threadId });

    // The page answers over REST (CORS) and lists the history with Dates.
    const history = await page.evaluate((id) => globalThis.parleyTestApp!.reply(id), threadId);
    assert.deepEqual(history, { out: ["hello from the browser", "hello from Node"], typed: true });
    await page.waitForFunction(() => globalThis.parleyTestApp!.received.length >= 2, undefined, { timeout: 5000 });
    assert.equal((await page.evaluate(() => globalThis.parleyTestApp!.received))[1]!.message, "hello from the browser", "the sender's page hears its own message too");

    await page.evaluate(() => globalThis.parleyTestApp!.stop());
    assert.deepEqual(consoleErrors, []);
  });

  it("refuses the Node-only tlsOptions with a clear message", async () => {
    const message = await page.evaluate((endpoint) => globalThis.parleyTestApp!.tlsRefusal(endpoint), server.endpoint);
    assert.match(message, /tlsOptions\.ca works in Node only/);
  });
});
