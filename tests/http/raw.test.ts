// What the SDKs hide: exact status codes, error JSON, HMAC edge cases, CORS, limits, bad input.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { rawRequest, signedRequest, type RawResponse } from "../helpers/http.js";

const CHAT = "api-version=2025-03-15";
const IDENTITY = "api-version=2023-10-01";

function assertAcsError(res: RawResponse, status: number, code?: string) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  assert.equal(typeof res.json?.error?.code, "string", `error body: ${res.text}`);
  assert.equal(typeof res.json.error.message, "string");
  if (code) assert.equal(res.json.error.code, code);
}

describe("raw HTTP contract", () => {
  let server: TestServer;
  let userId: string;
  let token: string;
  let threadId: string;
  const api = (path: string) => `${server.endpoint}${path.replace(/^\//, "")}`;
  const bearer = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    rawRequest(api(path), {
      method,
      ca: server.caPem,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }), ...extra },
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });

  before(async () => {
    server = await startTestServer();
    const created = await signedRequest(api(`/identities?${IDENTITY}`), server.accessKey, {
      body: JSON.stringify({ createTokenWithScopes: ["chat"] }),
      ca: server.caPem,
    });
    assert.equal(created.status, 201);
    userId = created.json.identity.id;
    token = created.json.accessToken.token;
    const thread = await bearer("POST", `/chat/threads?${CHAT}`, { topic: "raw" });
    assert.equal(thread.status, 201);
    threadId = encodeURIComponent(thread.json.chatThread.id);
  });
  after(() => server.close());

  describe("identity and HMAC", () => {
    it("POST /identities answers 201 to an empty body with Content-Type json (as JS sends it)", async () => {
      const res = await signedRequest(api(`/identities?${IDENTITY}`), server.accessKey, { ca: server.caPem });
      assert.equal(res.status, 201);
      assert.match(res.json.identity.id, /^8:acs:/);
      assert.equal(res.json.accessToken, undefined);
    });

    it("accepts Python's explicit nulls", async () => {
      const res = await signedRequest(api(`/identities?api-version=2022-10-01`), server.accessKey, {
        body: '{"createTokenWithScopes": ["chat"], "expiresInMinutes": null}',
        ca: server.caPem,
      });
      assert.equal(res.status, 201);
      assert.equal(typeof res.json.accessToken.token, "string");
      assert.ok(!Number.isNaN(Date.parse(res.json.accessToken.expiresOn)));
    });

    it("exact success codes: issue 200, revoke 204, delete 204", async () => {
      const id = encodeURIComponent(userId);
      const issued = await signedRequest(api(`/identities/${id}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: '{"scopes":["chat"]}', ca: server.caPem });
      assert.equal(issued.status, 200);
      const other = (await signedRequest(api(`/identities?${IDENTITY}`), server.accessKey, { ca: server.caPem })).json.identity.id;
      const revoke = await signedRequest(api(`/identities/${encodeURIComponent(other)}/:revokeAccessTokens?${IDENTITY}`), server.accessKey, { ca: server.caPem });
      assert.equal(revoke.status, 204);
      assert.equal(revoke.text, "");
      const del = await signedRequest(api(`/identities/${encodeURIComponent(other)}?${IDENTITY}`), server.accessKey, { method: "DELETE", ca: server.caPem });
      assert.equal(del.status, 204);
    });

    it("401 for a wrong key, a tampered body, a stale or future date, and no signature", async () => {
      const url = api(`/identities?${IDENTITY}`);
      const wrong = await signedRequest(url, Buffer.alloc(64, 1).toString("base64"), { ca: server.caPem });
      assertAcsError(wrong, 401);

      const good = await import("@parley/server").then((m) => m.signRequest({ accessKeyBase64: server.accessKey, method: "POST", url: new URL(url), body: '{"createTokenWithScopes":["chat"]}' }));
      const tampered = await rawRequest(url, { method: "POST", headers: { ...good, "content-type": "application/json" }, body: '{"createTokenWithScopes":["voip"]}', ca: server.caPem });
      assertAcsError(tampered, 401);

      const stale = await signedRequest(url, server.accessKey, { ca: server.caPem, date: new Date(Date.now() - 16 * 60_000) });
      assertAcsError(stale, 401);
      const future = await signedRequest(url, server.accessKey, { ca: server.caPem, date: new Date(Date.now() + 16 * 60_000) });
      assertAcsError(future, 401);
      const within = await signedRequest(url, server.accessKey, { ca: server.caPem, date: new Date(Date.now() - 10 * 60_000) });
      assert.equal(within.status, 201);

      assertAcsError(await rawRequest(url, { method: "POST", ca: server.caPem }), 401);
      // A valid user token is no substitute for the access key.
      assertAcsError(await rawRequest(url, { method: "POST", headers: { authorization: `Bearer ${token}` }, ca: server.caPem }), 401);
    });

    it("accepts the path signed without its leading '/' (Python over http)", async () => {
      const url = new URL(`${server.httpEndpoint}identities?api-version=2022-10-01`);
      const { createHash, createHmac } = await import("node:crypto");
      const date = new Date().toUTCString();
      const hash = createHash("sha256").update("").digest("base64");
      const toSign = `POST\nidentities?api-version=2022-10-01\n${date};${url.host};${hash}`;
      const sig = createHmac("sha256", Buffer.from(server.accessKey, "base64")).update(toSign).digest("base64");
      const res = await rawRequest(url.href, {
        method: "POST",
        headers: { "x-ms-date": date, "x-ms-content-sha256": hash, authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${sig}`, "content-length": "0" },
      });
      assert.equal(res.status, 201, res.text);
    });

    it("400 for malformed user ids and bodies", async () => {
      assertAcsError(await signedRequest(api(`/identities/not-a-user/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: '{"scopes":["chat"]}', ca: server.caPem }), 400);
      const id = encodeURIComponent(userId);
      assertAcsError(await signedRequest(api(`/identities/${id}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: "{", ca: server.caPem }), 400);
      assertAcsError(await signedRequest(api(`/identities/${id}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: '{"scopes":"chat"}', ca: server.caPem }), 400);
      assertAcsError(await signedRequest(api(`/identities/${id}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: "{}", ca: server.caPem }), 400);
      assertAcsError(await signedRequest(api(`/identities/${id}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: '{"scopes":["chat"],"expiresInMinutes":60.5}', ca: server.caPem }), 400);
      const ghost = encodeURIComponent(`8:acs:${randomUUID()}_${randomUUID()}`);
      assertAcsError(await signedRequest(api(`/identities/${ghost}/:issueAccessToken?${IDENTITY}`), server.accessKey, { body: '{"scopes":["chat"]}', ca: server.caPem }), 404);
    });
  });

  describe("chat status codes", () => {
    it("create thread 201 with Location; send 201; typing 200 and read receipt 200 with empty bodies; PATCH/DELETE 204", async () => {
      const created = await bearer("POST", `/chat/threads?${CHAT}`, { topic: "codes" });
      assert.equal(created.status, 201);
      assert.match(String(created.headers.location), /\/chat\/threads\/19%3A/);
      const t = encodeURIComponent(created.json.chatThread.id);
      const sent = await bearer("POST", `/chat/threads/${t}/messages?${CHAT}`, { content: "hi" });
      assert.equal(sent.status, 201);
      assert.match(sent.json.id, /^\d+$/);
      const typing = await bearer("POST", `/chat/threads/${t}/typing?${CHAT}`, {});
      assert.deepEqual([typing.status, typing.text], [200, ""]);
      const typingNoBody = await bearer("POST", `/chat/threads/${t}/typing?api-version=2021-03-07`);
      assert.equal(typingNoBody.status, 200);
      const receipt = await bearer("POST", `/chat/threads/${t}/readReceipts?${CHAT}`, { chatMessageId: sent.json.id });
      assert.deepEqual([receipt.status, receipt.text], [200, ""]);
      const patch = await bearer("PATCH", `/chat/threads/${t}?${CHAT}`, { topic: "renamed" }, { "content-type": "application/merge-patch+json" });
      assert.equal(patch.status, 204);
      const patchMessage = await bearer("PATCH", `/chat/threads/${t}/messages/${sent.json.id}?${CHAT}`, { content: "edited" }, { "content-type": "application/merge-patch+json" });
      assert.equal(patchMessage.status, 204);
      const delMessage = await bearer("DELETE", `/chat/threads/${t}/messages/${sent.json.id}?${CHAT}`);
      assert.equal(delMessage.status, 204);
      const del = await bearer("DELETE", `/chat/threads/${t}?${CHAT}`);
      assert.equal(del.status, 204);
    });

    it("lists always carry value; nextLinks are relative, carry api-version and work verbatim", async () => {
      for (let i = 0; i < 3; i++) await bearer("POST", `/chat/threads/${threadId}/messages?${CHAT}`, { content: `m${i}` });
      const first = await bearer("GET", `/chat/threads/${threadId}/messages?maxPageSize=2&api-version=2021-09-07`);
      assert.equal(first.status, 200);
      assert.equal(first.json.value.length, 2);
      assert.match(first.json.nextLink, /^\/chat\/threads\/19%3A.*\?api-version=2021-09-07&continuationToken=/);
      let link: string | undefined = first.json.nextLink;
      let count = first.json.value.length;
      while (link) {
        const page = await bearer("GET", link);
        assert.equal(page.status, 200);
        count += page.json.value.length;
        link = page.json.nextLink;
      }
      assert.equal(count, 5, "2 system messages + 3 sent");
      const emptyList = await bearer("GET", `/chat/threads/${threadId}/readReceipts?${CHAT}`);
      assert.deepEqual(emptyList.json, { value: [] });
    });

    it("every message has content, a known type, and identifiers carry rawId, kind and communicationUser", async () => {
      const list = await bearer("GET", `/chat/threads/${threadId}/messages?${CHAT}`);
      for (const m of list.json.value) {
        assert.ok(["text", "html", "topicUpdated", "participantAdded", "participantRemoved"].includes(m.type));
        assert.equal(typeof m.content, "object");
        for (const key of ["id", "sequenceId", "version", "createdOn"]) assert.equal(typeof m[key], "string");
        const ident = m.senderCommunicationIdentifier ?? m.content.initiatorCommunicationIdentifier;
        assert.deepEqual(ident, { rawId: userId, kind: "communicationUser", communicationUser: { id: userId } });
      }
    });

    it("accepts every api-version the SDKs send, and unknown ones; requires one", async () => {
      for (const v of ["2021-03-07", "2021-09-07", "2023-11-07", "2024-03-07", "2024-09-01", "2025-03-15", "2024-03-15-preview", "2099-01-01"]) {
        const res = await bearer("GET", `/chat/threads?api-version=${v}`);
        assert.equal(res.status, 200, `api-version ${v}`);
      }
      assertAcsError(await bearer("GET", `/chat/threads`), 400);
    });

    it("GET /chat/config/realTimeNotifications answers 200 with three non-empty fields", async () => {
      const res = await bearer("GET", `/chat/config/realTimeNotifications?api-version=2024-09-01`);
      assert.equal(res.status, 200);
      for (const key of ["trouterServiceUrl", "registrarServiceUrl", "cloudType"]) assert.ok(res.json[key], key);
    });
  });

  describe("bad input never yields a 5xx", () => {
    it("malformed JSON, wrong shapes and unknown types are 400 with ACS error JSON", async () => {
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, "{nope"), 400, "InvalidRequestBody");
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, "[]"), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: 5 }), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: "   " }), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: "x", participants: [{}] }), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: "x", metadata: { a: 1 } }), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: "x", retentionPolicy: { kind: "forever" } }), 400);
      assertAcsError(await bearer("POST", `/chat/threads?${CHAT}`, { topic: "x", retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 5 } }), 400);
      assertAcsError(await bearer("POST", `/chat/threads/${threadId}/messages?${CHAT}`, { content: "x", type: "topicUpdated" }), 400);
      assertAcsError(await bearer("POST", `/chat/threads/${threadId}/messages?${CHAT}`, { content: ["x"] }), 400);
      assertAcsError(await bearer("POST", `/chat/threads/${threadId}/participants/:remove?${CHAT}`, { rawId: "4:+15550100" }), 400);
      assertAcsError(await bearer("POST", `/chat/threads/${threadId}/messages?${CHAT}`, { content: "x" }, { "content-type": "application/x-www-form-urlencoded" }), 415);
    });

    it("malformed ids, page sizes and continuation tokens are 400", async () => {
      assertAcsError(await bearer("GET", `/chat/threads/not-a-thread?${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages/abc?${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?maxPageSize=0&${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?maxPageSize=201&${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?maxPageSize=abc&${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?startTime=yesterday&${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/participants?skip=-1&${CHAT}`), 400);
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?continuationToken=garbage&${CHAT}`), 400);
      const forged = Buffer.from(JSON.stringify({ v: 1, size: 10_000 })).toString("base64url");
      assertAcsError(await bearer("GET", `/chat/threads/${threadId}/messages?continuationToken=${forged}&${CHAT}`), 400);
    });

    it("bodies over the limit are 413; unknown routes 404; both as ACS error JSON", async () => {
      assertAcsError(await bearer("POST", `/chat/threads/${threadId}/messages?${CHAT}`, { content: "x".repeat(300 * 1024) }), 413);
      assertAcsError(await bearer("GET", `/nope?${CHAT}`), 404);
    });

    it("a fuzzed body on every write route never produces a 5xx", async () => {
      const routes: Array<[string, string]> = [
        ["POST", `/chat/threads?${CHAT}`],
        ["PATCH", `/chat/threads/${threadId}?${CHAT}`],
        ["POST", `/chat/threads/${threadId}/messages?${CHAT}`],
        ["PATCH", `/chat/threads/${threadId}/messages/1?${CHAT}`],
        ["POST", `/chat/threads/${threadId}/participants/:add?${CHAT}`],
        ["POST", `/chat/threads/${threadId}/participants/:remove?${CHAT}`],
        ["POST", `/chat/threads/${threadId}/readReceipts?${CHAT}`],
        ["POST", `/chat/threads/${threadId}/typing?${CHAT}`],
      ];
      const bodies = ["null", "1", '"s"', "true", "[]", "{}", '{"topic":null}', '{"content":{}}', '{"participants":"x"}', '{"participants":[null]}',
        '{"participants":[{"communicationIdentifier":{"rawId":5}}]}', '{"participants":[{"communicationIdentifier":{"communicationUser":{"id":"8:acs:x_y"}},"shareHistoryTime":"soon"}]}',
        '{"chatMessageId":{}}', '{"senderDisplayName":7}', '{"metadata":[]}', '{"__proto__":{"x":1}}', "\u0000", "{\"a\":" + "[".repeat(5000)];
      for (const [method, path] of routes) {
        for (const body of bodies) {
          const res = await bearer(method, path, body);
          assert.ok(res.status < 500, `${method} ${path} with ${body.slice(0, 40)} → ${res.status} ${res.text}`);
          if (res.status >= 400) assertAcsError(res, res.status);
        }
      }
    });
  });

  describe("CORS", () => {
    it("answers preflights for the headers browser SDKs send", async () => {
      const res = await rawRequest(api(`/chat/threads?${CHAT}`), {
        method: "OPTIONS",
        ca: server.caPem,
        headers: {
          origin: "http://localhost:3000",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-ms-client-request-id,x-ms-useragent,repeatability-request-id",
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers["access-control-allow-origin"], "http://localhost:3000");
      assert.match(String(res.headers["access-control-allow-methods"]), /PATCH/);
      assert.match(String(res.headers["access-control-allow-headers"]), /repeatability-request-id/);
    });

    it("adds CORS headers to real answers, errors included", async () => {
      const ok = await bearer("GET", `/chat/threads?${CHAT}`, undefined, { origin: "https://app.example" });
      assert.equal(ok.headers["access-control-allow-origin"], "https://app.example");
      const denied = await rawRequest(api(`/chat/threads?${CHAT}`), { ca: server.caPem, headers: { origin: "https://app.example" } });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers["access-control-allow-origin"], "https://app.example");
    });
  });

  it("GET /healthz is 200 over both HTTPS and HTTP", async () => {
    assert.equal((await rawRequest(api("/healthz"), { ca: server.caPem })).status, 200);
    assert.equal((await rawRequest(`${server.httpEndpoint}healthz`)).status, 200);
  });
});
