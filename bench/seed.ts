/**
 * Seeds a data dir for the history and start-up benchmarks, straight through Parley's Store (the
 * same `openSqliteStore` the server opens, same migrations, same rows, events and change feed as
 * messages sent over HTTP), before any server runs on it. Messages go in large Promise.all batches,
 * which the store's group commit turns into one transaction each.
 *
 * Runs as a process of its own (forked by lib/seed.ts) and reports progress over IPC. Timestamps are
 * spread over the last minutes, one millisecond apart, so nothing is old enough for the server's
 * start-up housekeeping to prune.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadOrCreateSecrets, openSqliteStore, isStoreFailure } from "@parley/server";
import { makeThreadId, makeUserId } from "@parley/protocol";
import type { MembersSeedRequest, MembersSeedResult, SeedRequest, SeedResult, SeedMessage } from "./lib/seed.js";

const send = (m: SeedMessage) => process.send?.(m);

async function seed(request: SeedRequest): Promise<SeedResult> {
  mkdirSync(request.dataDir, { recursive: true, mode: 0o700 });
  const secrets = loadOrCreateSecrets(request.dataDir);
  const store = openSqliteStore({ path: path.join(request.dataDir, "parley.db") });
  try {
    const total = request.threads.reduce((n, t) => n + t.messages, 0);
    const base = Date.now() - total - 120_000;
    const reader = makeUserId(secrets.resourceId, randomUUID());
    await store.createUser({ id: reader, createdAt: base - 1000, tokenEpoch: 0 });

    const started = performance.now();
    let done = 0;
    let at = base;
    const threads: SeedResult["threads"] = [];
    for (const spec of request.threads) {
      const id = makeThreadId(randomBytes(16).toString("hex"));
      await store.createThread({
        thread: { id, topic: `history ${spec.name}`, createdAt: at, createdBy: reader, participants: [{ userId: reader, displayName: "Reader", shareHistoryTime: 0 }] },
      });
      for (let i = 0; i < spec.messages; i += request.batch) {
        const writes = [];
        for (let k = i; k < Math.min(spec.messages, i + request.batch); k++) {
          writes.push(store.sendMessage({ threadId: id, senderId: reader, senderDisplayName: "Reader", type: "text", content: `history message ${k} of ${spec.name}`, at: at++ }));
        }
        const sent = await Promise.all(writes);
        const failed = sent.find(isStoreFailure);
        if (failed) throw new Error(`seeding failed: ${JSON.stringify(failed)}`);
        done += writes.length;
        send({ type: "progress", done, total });
      }
      // Newest first: the first row's sequenceId counts every message, the two creation system messages included.
      const [newest] = await store.listMessages(id, { notBefore: 0, limit: 1 });
      if (newest?.sequenceId !== spec.messages + 2) throw new Error(`thread ${spec.name}: expected ${spec.messages + 2} messages, found ${newest?.sequenceId}`);
      threads.push({ name: spec.name, id, messages: spec.messages });
    }
    const seconds = (performance.now() - started) / 1000;
    return { readerId: reader, threads, seconds, messagesPerSec: total / seconds };
  } finally {
    await store.close();
  }
}

/** Users and big threads for the real-time scenarios (lib/seed.ts MembersSeedRequest). */
async function seedMembers(request: MembersSeedRequest): Promise<MembersSeedResult> {
  mkdirSync(request.dataDir, { recursive: true, mode: 0o700 });
  const secrets = loadOrCreateSecrets(request.dataDir);
  const store = openSqliteStore({ path: path.join(request.dataDir, "parley.db") });
  try {
    const started = performance.now();
    const at = Date.now();
    const userIds = Array.from({ length: request.users }, () => makeUserId(secrets.resourceId, randomUUID()));
    // One Promise.all per 10,000 users: the group commit makes each batch one transaction.
    for (let i = 0; i < userIds.length; i += 10_000) {
      await Promise.all(userIds.slice(i, i + 10_000).map((id) => store.createUser({ id, createdAt: at, tokenEpoch: 0 })));
      send({ type: "progress", done: Math.min(userIds.length, i + 10_000), total: request.users });
    }
    const threads: MembersSeedResult["threads"] = [];
    for (const members of request.threads) {
      if (members > userIds.length) throw new Error(`a thread of ${members} members needs as many users`);
      const id = makeThreadId(randomBytes(16).toString("hex"));
      const participants = userIds.slice(0, members).map((userId, i) => ({ userId, displayName: `member ${i}`, shareHistoryTime: 0 }));
      await store.createThread({ thread: { id, topic: `fan-out ${members}`, createdAt: at, createdBy: userIds[0]!, participants } });
      threads.push({ members, id });
    }
    return { userIds, threads, seconds: (performance.now() - started) / 1000 };
  } finally {
    await store.close();
  }
}

process.once("message", (request: SeedRequest | MembersSeedRequest) => {
  ("kind" in request ? seedMembers(request) : seed(request)).then(
    (result) => send({ type: "result", result }),
    (error) => send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
