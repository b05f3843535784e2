// @parley/sdk CommunicationIdentityClient against a real Parley, over HTTPS (per-client CA) and HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { signRequest } from "@parley/server";
import { AzureKeyCredential, CommunicationIdentityClient, RestError, isRestError, parseConnectionString, parseToken } from "@parley/sdk";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { rejectsWith } from "../helpers/assertions.js";
import { sdkChat, sdkIdentity } from "./support.js";

const MINUTE = 60_000;

describe("@parley/sdk CommunicationIdentityClient", () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  for (const transport of ["https", "http"] as const) {
    describe(`over ${transport}`, () => {
      it("createUser returns a CommunicationUserIdentifier and nothing else", async () => {
        const user = await sdkIdentity(server, transport).createUser();
        assert.deepEqual(Object.keys(user), ["communicationUserId"]);
        assert.match(user.communicationUserId, /^8:acs:[0-9a-f-]+_[0-9a-f-]+$/);
      });

      it("createUserAndToken returns token, Date expiresOn (default 24 h) and the user", async () => {
        const result = await sdkIdentity(server, transport).createUserAndToken(["chat"]);
        assert.deepEqual(Object.keys(result).sort(), ["expiresOn", "token", "user"]);
        assert.ok(result.expiresOn instanceof Date);
        assert.ok(Math.abs(result.expiresOn.getTime() - (Date.now() + 1440 * MINUTE)) < MINUTE);
        assert.equal(parseToken(result.token).expiresOnTimestamp, Math.floor(result.expiresOn.getTime() / 1000) * 1000);
        // The token works for chat.
        await sdkChat(server, result.token, transport).createChatThread({ topic: "token works" });
      });

      it("tokenExpiresInMinutes sets the lifetime, on create and on getToken", async () => {
        const identity = sdkIdentity(server, transport);
        const { user, expiresOn } = await identity.createUserAndToken(["chat"], { tokenExpiresInMinutes: 60 });
        assert.ok(Math.abs(expiresOn.getTime() - (Date.now() + 60 * MINUTE)) < MINUTE);
        const second = await identity.getToken(user, ["chat", "voip"], { tokenExpiresInMinutes: 90 });
        assert.deepEqual(Object.keys(second).sort(), ["expiresOn", "token"]);
        assert.ok(Math.abs(second.expiresOn.getTime() - (Date.now() + 90 * MINUTE)) < MINUTE);
      });

      it("revokeTokens invalidates earlier tokens; deleteUser removes the user", async () => {
        const identity = sdkIdentity(server, transport);
        const { user, token } = await identity.createUserAndToken(["chat"]);
        await identity.revokeTokens(user);
        await rejectsWith(sdkChat(server, token, transport).createChatThread({ topic: "revoked" }), 401);
        const fresh = await identity.getToken(user, ["chat"]);
        await sdkChat(server, fresh.token, transport).createChatThread({ topic: "fresh token works" });
        await identity.deleteUser(user);
        await rejectsWith(identity.getToken(user, ["chat"]), 404);
        await rejectsWith(sdkChat(server, fresh.token, transport).createChatThread({ topic: "deleted" }), 401);
      });
    });
  }

  describe("constructor forms", () => {
    it("accepts (endpoint, AzureKeyCredential) and (endpoint, key string)", async () => {
      const { endpoint, credential } = parseConnectionString(server.connectionString);
      assert.equal(endpoint, server.endpoint);
      assert.equal(credential.key, server.accessKey);
      const withCredential = new CommunicationIdentityClient(server.endpoint, new AzureKeyCredential(server.accessKey), { tlsOptions: { ca: server.caPem } });
      const withString = new CommunicationIdentityClient(server.httpEndpoint, server.accessKey);
      assert.ok((await withCredential.createUser()).communicationUserId);
      assert.ok((await withString.createUser()).communicationUserId);
    });

    it("rejects malformed connection strings (without echoing the key) and Entra credentials", () => {
      assert.throws(() => new CommunicationIdentityClient("endpoint=https://x/"), /Invalid connection string/);
      assert.throws(
        () => new CommunicationIdentityClient("endpoint=nope;accesskey=SECRET"),
        (e: Error) => /Invalid endpoint/.test(e.message) && !e.message.includes("SECRET"),
      );
      const entra = { getToken: async () => ({ token: "", expiresOnTimestamp: 0 }) };
      assert.throws(() => new CommunicationIdentityClient(server.endpoint, entra as never), /access key only/);
    });
  });

  describe("errors", () => {
    it("a wrong access key is a RestError 401 with the service's code and message", async () => {
      const wrongKey = Buffer.from(randomUUID()).toString("base64");
      const identity = new CommunicationIdentityClient(server.httpEndpoint, wrongKey);
      const error = await rejectsWith(identity.createUser(), 401, "InvalidAuthentication");
      assert.ok(error instanceof RestError && isRestError(error));
      assert.equal(error.name, "RestError");
      assert.match(error.message, /signature/i);
      assert.equal(error.response?.status, 401);
      assert.equal(error.details?.code, "InvalidAuthentication");
    });

    it("unknown users are 404 NotFound; bad scopes and lifetimes are 400", async () => {
      const identity = sdkIdentity(server, "http");
      const ghost = { communicationUserId: `8:acs:${randomUUID()}_${randomUUID()}` };
      await rejectsWith(identity.getToken(ghost, ["chat"]), 404, "NotFound");
      await rejectsWith(identity.revokeTokens(ghost), 404);
      await rejectsWith(identity.deleteUser(ghost), 404);
      await rejectsWith(identity.createUserAndToken(["nonsense" as never]), 400);
      await rejectsWith(identity.createUserAndToken(["chat"], { tokenExpiresInMinutes: 30 }), 400);
    });

    it("an unreachable endpoint is a RestError REQUEST_SEND_ERROR without a status", async () => {
      const identity = new CommunicationIdentityClient("http://127.0.0.1:9/", server.accessKey, { retryOptions: { maxRetries: 0 } });
      const error = (await identity.createUser().catch((e) => e)) as RestError;
      assert.ok(isRestError(error));
      assert.equal(error.code, RestError.REQUEST_SEND_ERROR);
      assert.equal(error.statusCode, undefined);
    });
  });

  describe("HMAC signing (WebCrypto)", () => {
    it("signs exactly like the official SDK: x-ms-date, content hash, url.host, no Host header set", async () => {
      const seen: Array<{ url: string; method: string; headers: Headers; body: string }> = [];
      const identity = new CommunicationIdentityClient(server.httpEndpoint, server.accessKey, {
        fetch: (url, init) => {
          seen.push({ url, method: String(init.method), headers: new Headers(init.headers), body: String(init.body ?? "") });
          return fetch(url, init);
        },
      });
      const { user } = await identity.createUserAndToken(["chat"]);
      await identity.getToken(user, ["chat"]);
      await identity.deleteUser(user);
      assert.equal(seen.length, 3);
      for (const request of seen) {
        const url = new URL(request.url);
        assert.equal(request.headers.get("host"), null, "browsers cannot set Host, so the SDK does not either");
        assert.equal(url.searchParams.get("api-version"), "2023-10-01");
        const expected = signRequest({
          accessKeyBase64: server.accessKey,
          method: request.method,
          url,
          body: request.body,
          date: new Date(request.headers.get("x-ms-date")!),
        });
        assert.equal(request.headers.get("x-ms-date"), expected["x-ms-date"]);
        assert.equal(request.headers.get("x-ms-content-sha256"), expected["x-ms-content-sha256"]);
        assert.equal(request.headers.get("authorization"), expected.authorization);
        assert.match(request.headers.get("authorization")!, /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/);
      }
      assert.match(seen[1]!.url, /\/identities\/8%3Aacs%3A[^/]+\/:issueAccessToken\?api-version=/, "the user id is percent-encoded in the path");
    });
  });
});
