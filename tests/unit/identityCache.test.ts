// IdentityService keeps users' token states in memory for authenticate: revocation and deletion
// must still take effect at once, on this node and (through the bus) on another one, and a lookup
// that raced with a revocation must not leave the old state behind.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { IdentityService, LocalBus, MemoryStore, TokenService, type Bus, type Store } from "@parley/server";

const resourceId = randomUUID();

function service(store: Store, tokens: TokenService, bus?: Bus): IdentityService {
  return new IdentityService({ store, tokens, clock: Date.now, uuid: randomUUID, resourceId, ...(bus && { bus }) });
}

async function tokenFor(identity: IdentityService): Promise<{ userId: string; token: string }> {
  const created = await identity.createUser({ scopes: ["chat"] });
  assert.ok("userId" in created && created.token);
  return { userId: created.userId, token: created.token.token };
}

const outcome = async (identity: IdentityService, token: string) => {
  const caller = await identity.authenticate(token);
  return "code" in caller ? caller.code : "ok";
};

describe("IdentityService token states", () => {
  it("a revocation or deletion applies to the very next request", async () => {
    const identity = service(new MemoryStore(), new TokenService(randomBytes(32), { resourceId, clock: Date.now }));
    const { userId, token } = await tokenFor(identity);
    assert.equal(await outcome(identity, token), "ok");
    assert.equal(await outcome(identity, token), "ok", "served from memory the second time");
    assert.equal(await identity.revokeTokens(userId), true);
    assert.equal(await outcome(identity, token), "TokenRevoked");
    const fresh = await identity.issueToken(userId, ["chat"]);
    assert.ok("token" in fresh);
    assert.equal(await outcome(identity, fresh.token), "ok");
    assert.equal(await identity.deleteUser(userId), true);
    assert.equal(await outcome(identity, fresh.token), "TokenRevoked");
  });

  it("a lookup that raced with a revocation is not remembered", async () => {
    const store = new MemoryStore();
    const identity = service(store, new TokenService(randomBytes(32), { resourceId, clock: Date.now }));
    const { userId, token } = await tokenFor(identity);
    // Hold the next getUser's answer (read before the revocation) until the revocation is done.
    const getUser = store.getUser.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let read!: () => void;
    const wasRead = new Promise<void>((resolve) => (read = resolve));
    store.getUser = async (id) => {
      store.getUser = getUser; // only this first lookup is held
      const before = await getUser(id);
      read();
      await held;
      return before;
    };
    const racing = outcome(identity, token);
    await wasRead;
    assert.equal(await identity.revokeTokens(userId), true);
    release();
    assert.equal(await racing, "ok", "the request in flight read the state before the revocation");
    assert.equal(await outcome(identity, token), "TokenRevoked", "and that state was not kept");
  });

  it("another node's revocation reaches this node's memory through the bus", async () => {
    const store = new MemoryStore();
    const bus = new LocalBus();
    const tokens = new TokenService(randomBytes(32), { resourceId, clock: Date.now });
    const here = service(store, tokens, bus);
    const there = service(store, tokens, bus);
    const { userId, token } = await tokenFor(here);
    assert.equal(await outcome(here, token), "ok");
    assert.equal(await there.revokeTokens(userId), true);
    await new Promise((r) => setImmediate(r)); // the bus delivers on a microtask
    assert.equal(await outcome(here, token), "TokenRevoked");
  });
});
