// Retries through a tiny fault-injecting proxy on 127.0.0.1 in front of Parley's http endpoint:
// idempotent requests are retried with back-off honouring Retry-After, non-idempotent ones are not
// repeated when the service may already have acted.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AzureCommunicationTokenCredential, ChatClient, CommunicationIdentityClient, RestError, type RetryOptions } from "@parley/sdk";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { all, rejectsWith } from "../helpers/assertions.js";
import { participant, sdkUser, type SdkUser } from "./support.js";

/**
 * What the proxy does with the next matching request:
 *  - a status: answer it without forwarding (the service never saw the request)
 *  - "forward-then-<status>": forward, let the service act, then answer <status> instead (lost answer)
 *  - "drop": destroy the connection without an answer
 *  - "hang": never answer
 */
type Fault = number | `forward-then-${number}` | "drop" | "hang";

class FaultProxy {
  readonly seen: string[] = [];
  private faults: Array<{ match: RegExp; fault: Fault; retryAfter?: string }> = [];
  private server: Server;
  private hanging = new Set<ServerResponse>();

  constructor(private readonly target: URL) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Queues faults for requests whose "METHOD path" matches. */
  fail(match: RegExp, ...faults: Array<Fault | { fault: Fault; retryAfter: string }>): void {
    for (const f of faults) this.faults.push(typeof f === "object" ? { match, ...f } : { match, fault: f });
  }

  reset(): void {
    this.faults = [];
    this.seen.length = 0;
    this.hanging.forEach((r) => r.destroy());
    this.hanging.clear();
  }

  count(match: RegExp): number {
    return this.seen.filter((s) => match.test(s)).length;
  }

  close(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const line = `${req.method} ${(req.url ?? "").split("?")[0]}`;
    this.seen.push(line);
    const index = this.faults.findIndex((f) => f.match.test(line));
    const entry = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
    const answer = (status: number) => {
      res.writeHead(status, { "content-type": "application/json", ...(entry?.retryAfter !== undefined && { "retry-after": entry.retryAfter }) });
      res.end(JSON.stringify({ error: { code: status === 429 ? "TooManyRequests" : "ServiceUnavailable", message: `injected ${status}` } }));
    };
    if (entry?.fault === "drop") return void req.socket.destroy();
    if (entry?.fault === "hang") return void this.hanging.add(res);
    if (typeof entry?.fault === "number") return answer(entry.fault);
    const after = typeof entry?.fault === "string" ? Number(entry.fault.slice("forward-then-".length)) : undefined;
    const upstream = request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (after !== undefined) {
          up.resume();
          up.on("end", () => answer(after));
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }
}

describe("@parley/sdk retries", () => {
  let server: TestServer;
  let proxy: FaultProxy;
  let proxied: string;
  let alice: SdkUser;
  let bob: SdkUser;
  const fast: RetryOptions = { retryDelayInMs: 5, maxRetryDelayInMs: 50 };

  const chatVia = (user: SdkUser, retryOptions: RetryOptions = fast) =>
    new ChatClient(proxied, new AzureCommunicationTokenCredential(user.token), { retryOptions });
  const identityVia = (retryOptions: RetryOptions = fast) => new CommunicationIdentityClient(proxied, server.accessKey, { retryOptions });

  before(async () => {
    server = await startTestServer();
    proxy = new FaultProxy(new URL(server.httpEndpoint));
    proxied = await proxy.listen();
    [alice, bob] = await Promise.all([sdkUser(server, "http"), sdkUser(server, "http")]);
  });
  beforeEach(() => proxy.reset());
  after(async () => {
    await proxy.close();
    await server.close();
  });

  async function newThread() {
    const { chatThread } = await alice.chat.createChatThread({ topic: "retries" }, { participants: [participant(bob)] });
    return chatThread!.id;
  }

  it("GETs are retried on 503 and succeed", async () => {
    const id = await newThread();
    proxy.fail(/^GET \/chat\/threads\//, 503, 503);
    const props = await chatVia(alice).getChatThreadClient(id).getProperties();
    assert.equal(props.id, id);
    assert.equal(proxy.count(/^GET /), 3);
  });

  it("retries 408, 429, 500, 502 and 504 on idempotent requests, but not 501 or 4xx", async () => {
    const id = await newThread();
    proxy.fail(/^GET /, 408, 429, 500, 502, 504);
    await chatVia(alice, { ...fast, maxRetries: 5 }).getChatThreadClient(id).getProperties();
    assert.equal(proxy.count(/^GET /), 6);
    proxy.reset();
    proxy.fail(/^GET /, 501);
    await rejectsWith(chatVia(alice).getChatThreadClient(id).getProperties(), 501);
    assert.equal(proxy.count(/^GET /), 1);
    proxy.reset();
    await rejectsWith(chatVia(alice).getChatThreadClient(id).getMessage("1"), 404);
    assert.equal(proxy.count(/^GET /), 1, "a 404 is an answer, not a failure to retry");
  });

  it("honours Retry-After (seconds) over its own back-off", async () => {
    const id = await newThread();
    proxy.fail(/^GET /, { fault: 503, retryAfter: "1" });
    const started = Date.now();
    await chatVia(alice, { retryDelayInMs: 1, maxRetryDelayInMs: 5000 }).getChatThreadClient(id).getProperties();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 950, `waited ${elapsed} ms`);
    assert.ok(elapsed < 3000, `waited ${elapsed} ms`);
  });

  it("gives up after maxRetries with the last error as a RestError", async () => {
    const id = await newThread();
    proxy.fail(/^GET /, 503, 503, 503, 503, 503);
    const error = await rejectsWith(chatVia(alice, { ...fast, maxRetries: 2 }).getChatThreadClient(id).getProperties(), 503, "ServiceUnavailable");
    assert.match(error.message, /injected 503/);
    assert.equal(proxy.count(/^GET /), 3);
    proxy.reset();
    proxy.fail(/^GET /, 503);
    await rejectsWith(chatVia(alice, { maxRetries: 0 }).getChatThreadClient(id).getProperties(), 503);
    assert.equal(proxy.count(/^GET /), 1);
  });

  it("createChatThread is retried after a lost answer and still creates one thread (repeatability-request-id)", async () => {
    const user = await sdkUser(server, "http");
    proxy.fail(/^POST \/chat\/threads$/, "forward-then-503", "forward-then-500");
    const created = await chatVia(user).createChatThread({ topic: "exactly once" });
    assert.equal(proxy.count(/^POST \/chat\/threads$/), 3);
    const threads = await all(user.chat.listChatThreads());
    assert.deepEqual(threads.map((t) => t.id), [created.chatThread!.id], "three deliveries, one thread");
  });

  it("sendMessage is not retried on a 5xx: the message may be stored, and it is stored once", async () => {
    const id = await newThread();
    proxy.fail(/^POST .*\/messages$/, "forward-then-503");
    await rejectsWith(chatVia(alice).getChatThreadClient(id).sendMessage({ content: "once" }), 503);
    assert.equal(proxy.count(/^POST .*\/messages$/), 1);
    const texts = (await all(alice.chat.getChatThreadClient(id).listMessages())).filter((m) => m.type === "text");
    assert.deepEqual(texts.map((m) => m.content?.message), ["once"]);
  });

  it("sendMessage is retried on 429 (refused before anything happened)", async () => {
    const id = await newThread();
    proxy.fail(/^POST .*\/messages$/, { fault: 429, retryAfter: "0" });
    await chatVia(alice).getChatThreadClient(id).sendMessage({ content: "after throttling" });
    assert.equal(proxy.count(/^POST .*\/messages$/), 2);
    const texts = (await all(alice.chat.getChatThreadClient(id).listMessages())).filter((m) => m.type === "text");
    assert.equal(texts.length, 1);
  });

  it("a dropped connection is retried for GET/PATCH/DELETE, but surfaces for sendMessage and addParticipants", async () => {
    const id = await newThread();
    const client = chatVia(alice).getChatThreadClient(id);
    const { id: messageId } = await alice.chat.getChatThreadClient(id).sendMessage({ content: "v1" });
    proxy.fail(/^GET /, "drop");
    proxy.fail(/^PATCH /, "drop");
    proxy.fail(/^DELETE /, "drop");
    await client.getMessage(messageId);
    await client.updateMessage(messageId, { content: "v2" });
    await client.deleteMessage(messageId);
    assert.deepEqual([proxy.count(/^GET /), proxy.count(/^PATCH /), proxy.count(/^DELETE /)], [2, 2, 2]);

    proxy.reset();
    proxy.fail(/^POST .*\/messages$/, "drop");
    proxy.fail(/^POST .*participants\/:add$/, "drop");
    const sendError = (await client.sendMessage({ content: "lost?" }).catch((e) => e)) as RestError;
    assert.equal(sendError.code, RestError.REQUEST_SEND_ERROR);
    const carol = await sdkUser(server, "http");
    const addError = (await client.addParticipants({ participants: [participant(carol)] }).catch((e) => e)) as RestError;
    assert.equal(addError.code, RestError.REQUEST_SEND_ERROR);
    assert.equal(proxy.count(/^POST /), 2, "one attempt each");
  });

  it("idempotent POSTs (remove participant, read receipt, typing) are retried", async () => {
    const id = await newThread();
    const { id: messageId } = await alice.chat.getChatThreadClient(id).sendMessage({ content: "x" });
    const client = chatVia(bob).getChatThreadClient(id);
    proxy.fail(/^POST /, "forward-then-503", "forward-then-503", "forward-then-503");
    await client.sendReadReceipt({ chatMessageId: messageId });
    await client.sendTypingNotification();
    await chatVia(alice).getChatThreadClient(id).removeParticipant({ communicationUserId: bob.id });
    assert.equal(proxy.count(/^POST /), 6);
  });

  it("identity: createUser is not retried after a lost answer; revokeTokens and getToken are", async () => {
    proxy.fail(/^POST \/identities$/, "forward-then-503");
    await rejectsWith(identityVia().createUser(), 503);
    assert.equal(proxy.count(/^POST \/identities$/), 1);
    const user = await identityVia().createUser();
    proxy.fail(/:revokeAccessTokens$/, 502);
    proxy.fail(/:issueAccessToken$/, "forward-then-504");
    await identityVia().revokeTokens(user);
    const token = await identityVia().getToken(user, ["chat"]);
    assert.ok(token.token);
    assert.equal(proxy.count(/:revokeAccessTokens$/), 2);
    assert.equal(proxy.count(/:issueAccessToken$/), 2);
  });

  it("requestOptions.timeout abandons a hanging attempt and retries an idempotent request", async () => {
    const id = await newThread();
    proxy.fail(/^GET /, "hang");
    const props = await chatVia(alice).getChatThreadClient(id).getProperties({ requestOptions: { timeout: 300 } });
    assert.equal(props.id, id);
    assert.equal(proxy.count(/^GET /), 2);
  });
});
