// The WebhookStore contract, written once and run on every driver (memory, SQLite), plus what only a
// durable driver can show: state surviving a reopen.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MemoryWebhookStore, openSqliteWebhookStore, type NewDelivery, type SubscriptionRecord, type WebhookEvent, type WebhookStore } from "@parley/server";

function subscription(id: string, overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id,
    url: `http://127.0.0.1:1/${id}`,
    schema: "EventGridSchema",
    secret: "0123456789abcdef",
    maxEventsPerBatch: 10,
    maxConcurrentDeliveries: 2,
    status: "active",
    validatedBy: "skipped",
    source: "api",
    createdAt: 1,
    updatedAt: 1,
    ...overrides,
  };
}

function event(id: string): WebhookEvent {
  return { id, type: "Microsoft.Communication.ChatMessageReceived", subject: `thread/t/sender/s/recipient/${id}`, time: new Date(1000).toISOString(), data: { threadId: "t", n: id } };
}

const delivery = (subscriptionId: string, id: string, nextAttemptAt = 100, publishedAt = 50): NewDelivery => ({ subscriptionId, event: event(id), publishedAt, nextAttemptAt });

function contract(name: string, open: () => { store: WebhookStore; cleanup(): Promise<void> }) {
  describe(`WebhookStore on ${name}`, () => {
    const scenario = (body: (store: WebhookStore) => Promise<void>) => async () => {
      const { store, cleanup } = open();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    };

    it("keeps subscriptions: put replaces by id, list in creation order, delete reports", scenario(async (store) => {
      assert.match(store.instanceId, /^[0-9a-f-]{36}$/);
      await store.putSubscription(subscription("b", { createdAt: 2, includedEventTypes: ["Microsoft.Communication.ChatMessageReceived"] }));
      await store.putSubscription(subscription("a", { createdAt: 3, status: "awaitingValidation", validationCode: "c", validationExpiresAt: 9 }));
      await store.putSubscription(subscription("b", { createdAt: 2, url: "http://127.0.0.1:1/changed" }));
      assert.deepEqual((await store.listSubscriptions()).map((s) => s.id), ["b", "a"]);
      assert.equal((await store.getSubscription("b"))?.url, "http://127.0.0.1:1/changed");
      assert.deepEqual(await store.getSubscription("a"), subscription("a", { createdAt: 3, status: "awaitingValidation", validationCode: "c", validationExpiresAt: 9 }));
      assert.equal(await store.getSubscription("zzz"), undefined);
      assert.equal(await store.deleteSubscription("a"), true);
      assert.equal(await store.deleteSubscription("a"), false);
    }));

    it("advance moves the cursor and queues deliveries together, only from the expected cursor", scenario(async (store) => {
      await store.putSubscription(subscription("s"));
      assert.equal(await store.getCursor(), undefined);
      assert.equal(await store.advance(undefined, 5, []), true);
      assert.equal(await store.getCursor(), 5);
      assert.equal(await store.advance(undefined, 9, [delivery("s", "x")]), false, "a stale cursor changes nothing");
      assert.equal(await store.countPending("s"), 0);
      assert.equal(await store.advance(5, 7, [delivery("s", "e1"), delivery("s", "e2")]), true);
      assert.equal(await store.getCursor(), 7);
      assert.equal(await store.countPending("s"), 2);
      // The same event for the same subscription again (a replay) is ignored.
      assert.equal(await store.advance(7, 8, [delivery("s", "e1"), delivery("s", "e3")]), true);
      assert.deepEqual((await store.dueDeliveries("s", 1000, 10)).map((d) => d.event.id), ["e1", "e2", "e3"]);
    }));

    it("due deliveries: per subscription, oldest first, by time, limited; next attempt time", scenario(async (store) => {
      await store.putSubscription(subscription("s"));
      await store.putSubscription(subscription("t"));
      await store.advance(undefined, 1, [delivery("s", "a", 100), delivery("t", "b", 100), delivery("s", "c", 300), delivery("s", "d", 100)]);
      const due = await store.dueDeliveries("s", 150, 10);
      assert.deepEqual(due.map((d) => d.event.id), ["a", "d"]);
      assert.deepEqual(due[0], { id: due[0]!.id, subscriptionId: "s", event: event("a"), publishedAt: 50, nextAttemptAt: 100, attempts: 0 });
      assert.deepEqual((await store.dueDeliveries("s", 1000, 2)).map((d) => d.event.id), ["a", "c"]);
      assert.equal(await store.nextAttemptAfter(150), 300);
      assert.equal(await store.nextAttemptAfter(300), undefined);
      assert.equal(await store.countPending("t"), 1);
    }));

    it("records retries and removes delivered ones", scenario(async (store) => {
      await store.putSubscription(subscription("s"));
      await store.advance(undefined, 1, [delivery("s", "a"), delivery("s", "b")]);
      const [a, b] = await store.dueDeliveries("s", 100, 10);
      await store.scheduleRetry([{ id: a!.id, attempts: 1, at: 110, status: 503, error: "HTTP 503", nextAttemptAt: 500 }]);
      await store.scheduleRetry([{ id: b!.id, attempts: 2, at: 111, error: "timeout", nextAttemptAt: 400 }]);
      assert.deepEqual(await store.dueDeliveries("s", 300, 10), []);
      const later = await store.dueDeliveries("s", 500, 10);
      assert.deepEqual(
        later.map((d) => [d.event.id, d.attempts, d.nextAttemptAt, d.lastAttemptAt, d.lastStatus, d.lastError]),
        [["a", 1, 500, 110, 503, "HTTP 503"], ["b", 2, 400, 111, undefined, "timeout"]],
      );
      await store.markDelivered([a!.id]);
      assert.deepEqual((await store.dueDeliveries("s", 500, 10)).map((d) => d.event.id), ["b"]);
      await store.markDelivered([a!.id, 99_999]);
      assert.equal(await store.countPending("s"), 1);
    }));

    it("dead letters: moved out of the outbox, listed newest first with keyset paging, redelivered with a fresh budget", scenario(async (store) => {
      await store.putSubscription(subscription("s"));
      await store.advance(undefined, 1, ["a", "b", "c", "d", "e"].map((id) => delivery("s", id)));
      const due = await store.dueDeliveries("s", 100, 10);
      await store.deadLetter(due.slice(0, 4).map((d, i) => ({ id: d.id, attempts: 3, at: 200 + i, status: 500, error: "HTTP 500", reason: "MaxDeliveryAttemptsExceeded" as const })));
      assert.equal(await store.countPending("s"), 1);
      assert.equal(await store.countDeadLetters("s"), 4);

      const first = await store.listDeadLetters("s", { limit: 3 });
      assert.deepEqual(first.map((d) => d.event.id), ["d", "c", "b"]);
      const second = await store.listDeadLetters("s", { beforeId: first.at(-1)!.id, limit: 3 });
      assert.deepEqual(second.map((d) => d.event.id), ["a"]);
      const [a] = second;
      assert.deepEqual(
        { ...a, id: 0 },
        { id: 0, subscriptionId: "s", event: event("a"), publishedAt: 50, attempts: 3, reason: "MaxDeliveryAttemptsExceeded", deadLetteredAt: 200, lastAttemptAt: 200, lastStatus: 500, lastError: "HTTP 500" },
      );
      assert.deepEqual(await store.listDeadLetters("other", { limit: 10 }), []);

      // A dead-lettered event is not queued again by a replayed advance.
      await store.advance(1, 2, [delivery("s", "a")]);
      assert.equal(await store.countPending("s"), 1);

      assert.equal(await store.redeliver("s", 700, ["c", "nope"]), 1);
      assert.equal(await store.redeliver("s", 700, ["c"]), 0);
      const back = (await store.dueDeliveries("s", 700, 10)).find((d) => d.event.id === "c")!;
      assert.deepEqual([back.attempts, back.nextAttemptAt, back.publishedAt], [0, 700, 50]);
      assert.equal(await store.redeliver("s", 800), 3);
      assert.equal(await store.countDeadLetters("s"), 0);
      assert.deepEqual((await store.dueDeliveries("s", 800, 10)).map((d) => d.event.id), ["e", "c", "a", "b", "d"]);
    }));

    it("deleting a subscription drops its outbox and dead letters, not others'", scenario(async (store) => {
      await store.putSubscription(subscription("s"));
      await store.putSubscription(subscription("t"));
      await store.advance(undefined, 1, [delivery("s", "a"), delivery("s", "b"), delivery("t", "a")]);
      const [a] = await store.dueDeliveries("s", 100, 1);
      await store.deadLetter([{ id: a!.id, attempts: 1, at: 1, error: "HTTP 400", status: 400, reason: "NonRetriableStatus" }]);
      await store.deleteSubscription("s");
      assert.equal(await store.countPending("s"), 0);
      assert.equal(await store.countDeadLetters("s"), 0);
      assert.equal(await store.countPending("t"), 1);
      // Deliveries rendered for it while it was being deleted are dropped, not left for a namesake.
      await store.advance(1, 2, [delivery("s", "c"), delivery("t", "c")]);
      assert.equal(await store.countPending("s"), 0);
      assert.equal(await store.countPending("t"), 2);
      // A new subscription of the same name starts clean and may get the same events again.
      await store.putSubscription(subscription("s"));
      await store.advance(2, 3, [delivery("s", "a")]);
      assert.equal(await store.countPending("s"), 1);
    }));
  });
}

contract("memory", () => ({ store: new MemoryWebhookStore(), cleanup: async () => {} }));
contract("sqlite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-webhooks-"));
  const store = openSqliteWebhookStore({ path: path.join(dir, "webhooks.db") });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("WebhookStore on sqlite, reopened", () => {
  it("keeps the instance id, cursor, subscriptions, outbox with attempts, and dead letters", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-webhooks-"));
    const file = path.join(dir, "webhooks.db");
    try {
      const first = openSqliteWebhookStore({ path: file });
      await first.putSubscription(subscription("s"));
      await first.advance(undefined, 42, [delivery("s", "a"), delivery("s", "b")]);
      const [a, b] = await first.dueDeliveries("s", 100, 10);
      await first.scheduleRetry([{ id: a!.id, attempts: 4, at: 120, status: 429, error: "HTTP 429", nextAttemptAt: 999 }]);
      await first.deadLetter([{ id: b!.id, attempts: 1, at: 130, error: "HTTP 413", status: 413, reason: "NonRetriableStatus" }]);
      const instanceId = first.instanceId;
      await first.close();

      const second = openSqliteWebhookStore({ path: file });
      assert.equal(second.instanceId, instanceId, "event ids stay stable across restarts");
      assert.equal(await second.getCursor(), 42);
      assert.deepEqual(await second.getSubscription("s"), subscription("s"));
      const [pending] = await second.dueDeliveries("s", 1000, 10);
      assert.deepEqual([pending!.event, pending!.attempts, pending!.nextAttemptAt, pending!.lastStatus], [event("a"), 4, 999, 429]);
      assert.deepEqual((await second.listDeadLetters("s", { limit: 10 })).map((d) => [d.event.id, d.reason]), [["b", "NonRetriableStatus"]]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a webhooks database from a newer Parley", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-webhooks-"));
    const file = path.join(dir, "webhooks.db");
    try {
      const store = openSqliteWebhookStore({ path: file });
      await store.close();
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(file);
      db.pragma("user_version = 99");
      db.close();
      assert.throws(() => openSqliteWebhookStore({ path: file }), /newer than this Parley/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
