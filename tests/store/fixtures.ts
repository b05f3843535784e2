// Test data for the Store suites: ids shaped like real ones, and small helpers that keep tests short.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { MessageRecord, NewThread, ParticipantRecord, Store, StoreFailure, ThreadRecord } from "@parley/server";

export type StoreFactory = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const resource = randomUUID();

/** A Communication user id: `8:acs:<resource>_<uuid>`. */
export const newUserId = (): string => `8:acs:${resource}_${randomUUID()}`;

/** A chat thread id: `19:<32 hex>@thread.v2`. */
export const newThreadId = (): string => `19:${randomUUID().replaceAll("-", "")}@thread.v2`;

export const member = (userId: string, extra: Partial<ParticipantRecord> = {}): ParticipantRecord => ({ userId, shareHistoryTime: 0, ...extra });

/** Creates `n` users (created at `at`) and returns their ids. */
export async function seedUsers(store: Store, n: number, at = 1): Promise<string[]> {
  const ids = Array.from({ length: n }, newUserId);
  for (const id of ids) await store.createUser({ id, createdAt: at, tokenEpoch: 0 });
  return ids;
}

/** Creates a thread with the given creator and participants; fails the test unless it was created. */
export async function seedThread(
  store: Store,
  creator: string,
  participants: Array<string | ParticipantRecord>,
  extra: Partial<Omit<NewThread, "createdBy" | "participants">> = {},
): Promise<ThreadRecord> {
  const outcome = await store.createThread({
    thread: {
      id: newThreadId(),
      topic: "topic",
      createdAt: 1_000,
      createdBy: creator,
      participants: participants.map((p) => (typeof p === "string" ? member(p) : p)),
      ...extra,
    },
  });
  assert.ok("created" in outcome, "createThread created a thread");
  return outcome.created;
}

/** Sends a text message; fails the test on a failure value. */
export async function send(store: Store, threadId: string, senderId: string, content: string, at: number): Promise<MessageRecord> {
  return ok(await store.sendMessage({ threadId, senderId, type: "text", content, at }));
}

/** Unwraps a result that must not be a failure. */
export function ok<T>(value: T | StoreFailure): T {
  if (typeof value === "object" && value !== null && "failure" in value) {
    assert.fail(`unexpected store failure: ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Asserts the result is the given failure (and returns it for further checks). */
export function failed(value: unknown, failure: StoreFailure["failure"]): StoreFailure {
  assert.ok(typeof value === "object" && value !== null && "failure" in value, `expected failure ${failure}, got ${JSON.stringify(value)}`);
  assert.equal((value as StoreFailure).failure, failure);
  return value as StoreFailure;
}

/**
 * The JSON shape of a record: optional fields left undefined and absent fields compare equal, which
 * is all the contract promises (drivers differ in whether they keep `key: undefined`).
 */
export function plain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Every message of a thread, oldest first. */
export async function history(store: Store, threadId: string): Promise<MessageRecord[]> {
  return (await store.listMessages(threadId, { notBefore: Number.MIN_SAFE_INTEGER, limit: 100_000 })).reverse();
}

/** Numeric message ids/versions compare as numbers; checks they are plain decimal integers. */
export function numeric(id: string): number {
  assert.match(id, /^[1-9]\d*$/, `"${id}" is a decimal numeric string`);
  return Number(id);
}
