// Pure pieces of webhook delivery: back-off with jitter, Retry-After, signatures, the event renderer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { eventsForChange, signBody, verifyWebhookSignature, type ChangeRecord } from "@parley/server";
import { backoffMs, isNonRetriable, parseRetryAfter } from "../../packages/server/src/webhooks/retry.js";

const policy = { retryBaseMs: 1000, retryMaxMs: 60_000, maxAttempts: 30, eventTtlMs: 86_400_000, maxRetryAfterMs: 3_600_000 };

describe("webhook retry policy", () => {
  it("doubles from the base up to the cap, with up to half of each step random", () => {
    const low = (n: number) => backoffMs(policy, n, () => 0);
    const high = (n: number) => backoffMs(policy, n, () => 1);
    assert.deepEqual([1, 2, 3, 4].map(high), [1000, 2000, 4000, 8000]);
    assert.deepEqual([1, 2, 3, 4].map(low), [500, 1000, 2000, 4000]);
    assert.equal(high(7), 60_000, "capped");
    assert.equal(high(500), 60_000, "no overflow for large attempt counts");
    const spread = new Set(Array.from({ length: 50 }, () => backoffMs(policy, 3, Math.random)));
    assert.ok(spread.size > 10, "jitter spreads retries out");
    assert.ok([...spread].every((d) => d >= 2000 && d <= 4000));
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("1", now), 1000);
    assert.equal(parseRetryAfter(" 120 ", now), 120_000);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it("does not retry 400 and 413, retries the rest", () => {
    assert.ok(isNonRetriable(400) && isNonRetriable(413));
    assert.ok(![undefined, 401, 404, 408, 429, 500, 503].some(isNonRetriable));
  });
});

describe("webhook signatures", () => {
  it("is HMAC-SHA256 over '<timestamp>.<body>' that any receiver can recompute", () => {
    const body = Buffer.from('[{"id":"1"}]');
    const expected = "v1=" + createHmac("sha256", "s3cret-s3cret-s3cret").update("1700000000." + body.toString()).digest("hex");
    assert.equal(signBody("s3cret-s3cret-s3cret", 1700000000, body), expected);
    const input = { secret: "s3cret-s3cret-s3cret", body, timestamp: "1700000000", signature: expected, nowMs: 1700000000_000 + 60_000 };
    assert.ok(verifyWebhookSignature(input));
    assert.ok(verifyWebhookSignature({ ...input, signature: `v0=abc ${expected}` }), "any of several signatures may match");
    assert.ok(verifyWebhookSignature({ ...input, body: body.toString() }), "the body may be given as text");
    assert.ok(!verifyWebhookSignature({ ...input, signature: undefined }));
    assert.ok(!verifyWebhookSignature({ ...input, timestamp: "1700000000.5" }));
    assert.ok(!verifyWebhookSignature({ ...input, nowMs: 1700000000_000 + 301_000 }));
    assert.ok(verifyWebhookSignature({ ...input, nowMs: 1700000000_000 + 301_000, toleranceSeconds: 600 }));
  });
});

describe("webhook event renderer", () => {
  const a = "8:acs:r_a";
  const b = "8:acs:r_b";
  const message = { threadId: "19:t@thread.v2", sequenceId: 3, id: "1700000000001", version: "1700000000001", type: "html" as const, content: { message: "<b>x</b>" }, senderId: a, createdAt: 1700000000001 };
  const change: ChangeRecord = { seq: 7, name: "chatMessageReceived", threadId: "19:t@thread.v2", data: { message }, recipients: [a, b], at: 1700000000001 };

  it("is deterministic per installation, so ids survive re-rendering", () => {
    const once = eventsForChange(change, { instanceId: "i1" });
    assert.deepEqual(eventsForChange(change, { instanceId: "i1" }), once);
    assert.notDeepEqual(eventsForChange(change, { instanceId: "i2" }).map((e) => e.id), once.map((e) => e.id));
    assert.deepEqual(once.map((e) => e.type), ["Microsoft.Communication.ChatMessageReceivedInThread", "Microsoft.Communication.ChatMessageReceived"]);
    assert.equal(once[1]!.data.type, "Html");
    assert.equal(once[1]!.data.senderDisplayName, undefined, "absent display names stay absent");
  });

  it("a thread deleted by its retention policy has no actor: every participant hears it, deletedBy is empty", () => {
    const thread = { id: "19:t@thread.v2", topic: "x", createdAt: 1, createdBy: a, lastMessageAt: 1, order: 1, deletedAt: 99 };
    const events = eventsForChange({ seq: 8, name: "chatThreadDeleted", threadId: thread.id, data: { thread }, recipients: [a, b], at: 99 }, { instanceId: "i" });
    assert.equal(events.filter((e) => e.type === "Microsoft.Communication.ChatThreadWithUserDeleted").length, 2);
    assert.equal((events[0]!.data.deletedByCommunicationIdentifier as { rawId: string }).rawId, "");
    assert.equal(events[0]!.subject, `thread/${thread.id}/deletedBy/`);
  });
});
