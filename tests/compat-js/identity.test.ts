// The official @azure/communication-identity 1.3.1, unmodified, against a real Parley over HTTPS.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CommunicationIdentityClient } from "@azure/communication-identity";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chatClient, identityClient } from "../helpers/sdk.js";
import { rejectsWith } from "../helpers/assertions.js";

describe("official JS identity SDK", () => {
  let server: TestServer;
  let identity: CommunicationIdentityClient;

  before(async () => {
    server = await startTestServer();
    identity = identityClient(server);
  });
  after(() => server.close());

  it("createUser returns an ACS-shaped user id", async () => {
    const user = await identity.createUser();
    assert.match(user.communicationUserId, /^8:acs:[0-9a-f-]{36}_[0-9a-f-]{36}$/);
  });

  it("createUserAndToken returns a user and a token with the default 24 h lifetime", async () => {
    const before = Date.now();
    const { user, token, expiresOn } = await identity.createUserAndToken(["chat"]);
    assert.match(user.communicationUserId, /^8:acs:/);
    assert.equal(token.split(".").length, 3);
    const lifetime = expiresOn.getTime() - before;
    assert.ok(lifetime > 23.9 * 3600_000 && lifetime <= 24 * 3600_000 + 1000, `lifetime ${lifetime}`);
  });

  it("createUserAndToken and getToken honour tokenExpiresInMinutes", async () => {
    const { user, expiresOn } = await identity.createUserAndToken(["chat", "voip"], { tokenExpiresInMinutes: 60 });
    assert.ok(Math.abs(expiresOn.getTime() - Date.now() - 3600_000) < 5000);
    const again = await identity.getToken(user, ["chat"], { tokenExpiresInMinutes: 1440 });
    assert.ok(Math.abs(again.expiresOn.getTime() - Date.now() - 86_400_000) < 5000);
  });

  it("rejects tokenExpiresInMinutes outside 60–1440 with 400", async () => {
    const user = await identity.createUser();
    await rejectsWith(identity.getToken(user, ["chat"], { tokenExpiresInMinutes: 59 }), 400);
    await rejectsWith(identity.getToken(user, ["chat"], { tokenExpiresInMinutes: 1441 }), 400);
    await rejectsWith(identity.createUserAndToken(["chat"], { tokenExpiresInMinutes: 30 }), 400);
  });

  it("rejects unknown scopes with 400", async () => {
    const user = await identity.createUser();
    await rejectsWith(identity.getToken(user, ["chat", "teleport" as "chat"]), 400);
  });

  it("revokeTokens invalidates every token issued before it, and later tokens work", async () => {
    const { user, token } = await identity.createUserAndToken(["chat"]);
    const chat = chatClient(server, token);
    await chat.createChatThread({ topic: "before revoke" });
    await identity.revokeTokens(user);
    await rejectsWith(chat.createChatThread({ topic: "after revoke" }), 401);
    const fresh = await identity.getToken(user, ["chat"]);
    await chatClient(server, fresh.token).createChatThread({ topic: "new token" });
  });

  it("deleteUser kills the user's tokens; a deleted user gets 404 on getToken", async () => {
    const { user, token } = await identity.createUserAndToken(["chat"]);
    await identity.deleteUser(user);
    await rejectsWith(chatClient(server, token).createChatThread({ topic: "x" }), 401);
    await rejectsWith(identity.getToken(user, ["chat"]), 404);
    await rejectsWith(identity.deleteUser(user), 404);
  });

  it("a connection string with the wrong access key gets 401", async () => {
    const wrongKey = Buffer.alloc(64, 7).toString("base64");
    const wrong = identityClient(server, `endpoint=${server.endpoint};accesskey=${wrongKey}`);
    await rejectsWith(wrong.createUser(), 401);
  });

  it("tokens with only chat.join cannot create threads; without a chat scope, chat is forbidden", async () => {
    const user = await identity.createUser();
    const join = await identity.getToken(user, ["chat.join"]);
    await rejectsWith(chatClient(server, join.token).createChatThread({ topic: "x" }), 403);
    const voip = await identity.getToken(user, ["voip"]);
    const threads = chatClient(server, voip.token).listChatThreads();
    await rejectsWith(threads.next(), 403);
  });
});
