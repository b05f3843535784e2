// Smoke test of the ChatComposite (`@azure/communication-react` 1.34.0, React 18) on Parley: the UI
// library that builds its own official ChatClient, awaits startRealtimeNotifications() and relies on
// real-time events only (it never polls). Bundled by esbuild for the browser like an app would.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { CHROMIUM, Harness, sleep, spkiHash } from "./harness.js";
import { member } from "../helpers/sdk.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function bundleComposite(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import React from "react";
        import { createRoot } from "react-dom/client";
        import { ChatComposite, createAzureCommunicationChatAdapter } from "@azure/communication-react";
        import { AzureCommunicationTokenCredential } from "@azure/communication-common";
        globalThis.Composite = { React, createRoot, ChatComposite, createAzureCommunicationChatAdapter, AzureCommunicationTokenCredential };`,
      resolveDir: ROOT,
      loader: "js",
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  return result.outputFiles![0]!.text;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ChatComposite on Parley</title>
<div id="root" style="height:700px;width:900px"></div>
<script src="/composite.js"></script>
<script>
  const { React, createRoot, ChatComposite, createAzureCommunicationChatAdapter, AzureCommunicationTokenCredential } = globalThis.Composite;
  let adapter;
  globalThis.compositeApp = {
    async mount(endpoint, userId, displayName, token, threadId) {
      adapter = await createAzureCommunicationChatAdapter({
        endpoint, userId: { communicationUserId: userId }, displayName, credential: new AzureCommunicationTokenCredential(token), threadId });
      createRoot(document.getElementById("root")).render(React.createElement(ChatComposite, { adapter }));
    },
    send: (text) => adapter.sendMessage(text),
    state() {
      const t = adapter.getState().thread;
      return {
        messages: Object.values(t.chatMessages).map((m) => ({ id: m.id, type: m.type, content: m.content?.message ?? "", status: m.status })),
        typing: t.typingIndicators.map((e) => e.sender.communicationUserId),
        participants: Object.keys(t.participants),
        readReceipts: t.readReceipts.map((r) => ({ sender: r.sender.communicationUserId, chatMessageId: r.chatMessageId })),
        topic: t.properties?.topic,
      };
    },
    text: () => document.getElementById("root").innerText,
  };
</script>`;

interface CompositeState {
  messages: Array<{ id: string; type: string; content: string; status?: string }>;
  typing: string[];
  participants: string[];
  readReceipts: Array<{ sender: string; chatMessageId: string }>;
  topic?: string;
}

interface CompositeApp {
  mount(endpoint: string, userId: string, displayName: string, token: string, threadId: string): Promise<void>;
  send(text: string): Promise<unknown>;
  state(): CompositeState;
  text(): string;
}

declare global {
  var compositeApp: CompositeApp | undefined;
}

describe("ChatComposite (@azure/communication-react) on Parley", () => {
  let h: Harness;
  let pages: Server;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    h = await Harness.start();
    const code = await bundleComposite();
    pages = createServer((req, res) => {
      if (req.url === "/composite.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(code);
      if (req.url === "/") return res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        `--ignore-certificate-errors-spki-list=${spkiHash(path.join(h.server.dataDir, "tls", "server.crt"))}`],
    });
    page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(pages.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => globalThis.compositeApp !== undefined);
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await h?.close();
  });

  const state = (): Promise<CompositeState> => page.evaluate(() => globalThis.compositeApp!.state());
  async function until(what: string, check: (s: CompositeState, text: string) => boolean, timeoutMs = 15_000): Promise<CompositeState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await state();
      const text = await page.evaluate(() => globalThis.compositeApp!.text());
      if (check(s, text)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}\n${text}`);
      await sleep(100);
    }
  }

  it("loads, shows messages, typing, joins and leaves, and read receipts from real-time events alone", async () => {
    const [alice, bob, carol] = [await h.newUser(), await h.newUser(), await h.newUser()];
    const { chatThread } = await alice.chat.createChatThread({ topic: "Composite" }, { participants: [member(alice, "Alice"), member(bob, "Bob")] });
    const threadId = chatThread!.id;
    const thread = alice.chat.getChatThreadClient(threadId);

    // The adapter awaits startRealtimeNotifications(): it resolves only if the config call works.
    await page.evaluate(([ep, id, token, t]) => globalThis.compositeApp!.mount(ep!, id!, "Bob", token!, t!), [h.server.endpoint, bob.id, bob.token, threadId]);
    await until("the initial data", (s) => s.topic === "Composite" && s.participants.length === 2);
    await until("the socket", () => h.server.parley.app.trouter.stats(bob.id).connected === 1);

    const sent = await thread.sendMessage({ content: "Hello from Alice" }, { senderDisplayName: "Alice" });
    await until("Alice's message on screen", (s, text) => s.messages.some((m) => m.id === sent.id) && text.includes("Hello from Alice"));

    await thread.sendTypingNotification({ senderDisplayName: "Alice" });
    await until("the typing indicator", (s, text) => s.typing.includes(alice.id) && /Alice is typing/i.test(text));
    await until("the typing indicator to clear", (s, text) => !/is typing/i.test(text), 20_000);

    await thread.addParticipants({ participants: [member(carol, "Carol")] });
    await until("Carol's join as a system message", (s) => s.participants.includes(carol.id) && s.messages.some((m) => m.type === "participantAdded"));
    await thread.removeParticipant({ communicationUserId: carol.id });
    await until("Carol's leave as a system message", (s) => !s.participants.includes(carol.id) && s.messages.some((m) => m.type === "participantRemoved"));

    await page.evaluate(() => globalThis.compositeApp!.send("Hi Alice, Bob here"));
    const mine = (await until("Bob's own message", (s) => s.messages.some((m) => m.content === "Hi Alice, Bob here" && m.status === "delivered"))).messages.find((m) => m.content === "Hi Alice, Bob here")!;
    assert.ok(!(await page.evaluate(() => globalThis.compositeApp!.text())).includes("Message seen by others"), "not seen before the receipt");
    await thread.sendReadReceipt({ chatMessageId: mine.id });
    await until("Alice's read receipt (seen)", (s, text) => s.readReceipts.some((r) => r.sender === alice.id && r.chatMessageId === mine.id) && text.includes("Message seen by others"));

    await thread.updateTopic("Renamed");
    await until("the new topic", (s) => s.topic === "Renamed");
    assert.equal(h.server.parley.app.trouter.counters.rejected, 0);
    assert.deepEqual(errors, []);
  });
});
