/**
 * The WebhookStore on SQLite, in its own file next to the chat database (`<data-dir>/webhooks.db`).
 *
 * Why a separate file rather than tables appended to the chat schema:
 *  - SQLite has one writer per database. The dispatcher writes once per delivery attempt; in the chat
 *    file those writes would queue behind (and in front of) chat writes and their group-commit fsyncs.
 *    In their own file they never contend with a 2xx a chat client is waiting for.
 *  - Nothing needs a transaction spanning both: the change feed is only read from here, and what must
 *    be atomic — advancing the cursor together with the deliveries it produced — is all in this file.
 *  - Its schema evolves on its own (`user_version` of this file) without interleaving with the chat
 *    migrations, and deleting webhooks.db resets webhooks without touching chat data.
 * Same conventions as the chat driver (store/sqlite/database.ts): WAL flushed off the event loop,
 * versioned migrations, prepared statements, and writes batched by GroupCommit (a resolved write is
 * on disk).
 */
import { randomUUID } from "node:crypto";
import type { Database as Db, Statement } from "better-sqlite3";
import { GroupCommit } from "../store/sqlite/groupCommit.js";
import { openDatabase } from "../store/sqlite/database.js";
import { NO_DURABILITY, type Durability } from "../store/sqlite/walSync.js";
import type { WebhookEvent } from "./events.js";
import type {
  AttemptResult,
  DeadLetterReason,
  DeadLetterRecord,
  DeliveryRecord,
  NewDelivery,
  SubscriptionRecord,
  WebhookStore,
} from "./webhookStore.js";

/** Versioned schema of webhooks.db; append steps, never edit old ones. */
export const WEBHOOK_MIGRATIONS: readonly string[] = [
  /* 1: subscriptions, cursor, outbox, dead letters */ `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE subscriptions (
    ord INTEGER PRIMARY KEY,              -- creation order, for listing
    id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL                  -- SubscriptionRecord as JSON
  );

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- delivery order; never reused
    subscription_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,                  -- WebhookEvent as JSON, rendered once when queued
    published_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    UNIQUE (subscription_id, event_id)
  );
  CREATE INDEX outbox_due ON outbox (subscription_id, next_attempt_at, id);
  CREATE INDEX outbox_next ON outbox (next_attempt_at);

  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_lettered_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    UNIQUE (subscription_id, event_id)
  );
  CREATE INDEX dead_letters_by_subscription ON dead_letters (subscription_id, id);
  `,
];

export function openSqliteWebhookStore(options: { path: string }): SqliteWebhookStore {
  const { db, durability } = openDatabase({ path: options.path, migrations: WEBHOOK_MIGRATIONS, what: "webhooks database" });
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_id', ?)").run(randomUUID());
  return new SqliteWebhookStore(db, durability);
}

/** The columns outbox and dead_letters share: a dead letter is its delivery's row, moved over. */
interface QueuedEventRow {
  id: number;
  subscription_id: string;
  event: string;
  published_at: number;
  attempts: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

interface DeliveryRow extends QueuedEventRow {
  next_attempt_at: number;
}

interface DeadLetterRow extends QueuedEventRow {
  reason: DeadLetterReason;
  dead_lettered_at: number;
}

export class SqliteWebhookStore implements WebhookStore {
  readonly driver = "sqlite";
  readonly instanceId: string;
  private readonly writes: GroupCommit;
  private readonly sql: ReturnType<typeof prepare>;

  constructor(
    private readonly db: Db,
    private readonly durability: Durability = NO_DURABILITY,
  ) {
    this.writes = new GroupCommit(db, {}, durability);
    this.sql = prepare(db);
    this.instanceId = this.sql.getMeta.get("instance_id") as string;
  }

  async close(): Promise<void> {
    await this.writes.drained();
    this.durability.close();
    if (this.db.open) this.db.close();
  }

  putSubscription(subscription: SubscriptionRecord): Promise<void> {
    return this.writes.write(() => {
      this.sql.upsertSubscription.run(subscription.id, JSON.stringify(subscription));
    });
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    const record = this.sql.getSubscription.get(id) as string | undefined;
    return record === undefined ? undefined : (JSON.parse(record) as SubscriptionRecord);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return (this.sql.listSubscriptions.all() as string[]).map((r) => JSON.parse(r) as SubscriptionRecord);
  }

  deleteSubscription(id: string): Promise<boolean> {
    return this.writes.write(() => {
      this.sql.deleteOutboxOf.run(id);
      this.sql.deleteDeadLettersOf.run(id);
      return this.sql.deleteSubscription.run(id).changes > 0;
    });
  }

  async getCursor(): Promise<number | undefined> {
    const value = this.sql.getMeta.get("cursor") as string | undefined;
    return value === undefined ? undefined : Number(value);
  }

  advance(from: number | undefined, to: number, deliveries: NewDelivery[]): Promise<boolean> {
    return this.writes.write(() => {
      const value = this.sql.getMeta.get("cursor") as string | undefined;
      if ((value === undefined ? undefined : Number(value)) !== from) return false;
      this.sql.setMeta.run("cursor", String(to));
      const exists = new Map<string, boolean>();
      for (const d of deliveries) {
        if (!exists.has(d.subscriptionId)) exists.set(d.subscriptionId, this.sql.getSubscription.get(d.subscriptionId) !== undefined);
        if (!exists.get(d.subscriptionId)) continue;
        if (this.sql.isDeadLettered.get(d.subscriptionId, d.event.id)) continue;
        this.sql.enqueue.run(d.subscriptionId, d.event.id, JSON.stringify(d.event), d.publishedAt, d.nextAttemptAt);
      }
      return true;
    });
  }

  async dueDeliveries(subscriptionId: string, now: number, limit: number): Promise<DeliveryRecord[]> {
    return (this.sql.due.all(subscriptionId, now, limit) as DeliveryRow[]).map(toDelivery);
  }

  async nextAttemptAfter(now: number): Promise<number | undefined> {
    return (this.sql.nextAttemptAfter.get(now) as number | null) ?? undefined;
  }

  async countPending(subscriptionId: string): Promise<number> {
    return this.sql.countPending.get(subscriptionId) as number;
  }

  markDelivered(ids: number[]): Promise<void> {
    return this.writes.write(() => {
      for (const id of ids) this.sql.deleteDelivery.run(id);
    });
  }

  scheduleRetry(results: Array<AttemptResult & { nextAttemptAt: number }>): Promise<void> {
    return this.writes.write(() => {
      for (const r of results) this.sql.retry.run(r.attempts, r.nextAttemptAt, r.at, r.status ?? null, r.error, r.id);
    });
  }

  deadLetter(results: Array<AttemptResult & { reason: DeadLetterReason }>): Promise<void> {
    return this.writes.write(() => {
      for (const r of results) {
        const row = this.sql.getDelivery.get(r.id) as DeliveryRow | undefined;
        if (!row) continue;
        this.sql.insertDeadLetter.run(
          row.subscription_id,
          (JSON.parse(row.event) as WebhookEvent).id,
          row.event,
          row.published_at,
          r.attempts,
          r.reason,
          r.at,
          r.at,
          r.status ?? null,
          r.error,
        );
        this.sql.deleteDelivery.run(r.id);
      }
    });
  }

  async listDeadLetters(subscriptionId: string, options: { beforeId?: number; limit: number }): Promise<DeadLetterRecord[]> {
    const rows = this.sql.listDeadLetters.all(subscriptionId, options.beforeId ?? Number.MAX_SAFE_INTEGER, options.limit) as DeadLetterRow[];
    return rows.map(toDeadLetter);
  }

  async countDeadLetters(subscriptionId: string): Promise<number> {
    return this.sql.countDeadLetters.get(subscriptionId) as number;
  }

  redeliver(subscriptionId: string, at: number, eventIds?: string[]): Promise<number> {
    return this.writes.write(() => {
      const rows = (eventIds === undefined
        ? this.sql.deadLettersOf.all(subscriptionId)
        : eventIds.map((e) => this.sql.deadLetterByEvent.get(subscriptionId, e)).filter((r) => r !== undefined)) as DeadLetterRow[];
      for (const row of rows.sort((a, b) => a.id - b.id)) {
        this.sql.deleteDeadLetter.run(row.id);
        this.sql.enqueue.run(subscriptionId, (JSON.parse(row.event) as WebhookEvent).id, row.event, row.published_at, at);
      }
      return rows.length;
    });
  }
}

function prepare(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  const deliveryCols = "id, subscription_id, event, published_at, next_attempt_at, attempts, last_attempt_at, last_status, last_error";
  const deadLetterCols = "id, subscription_id, event, published_at, attempts, reason, dead_lettered_at, last_attempt_at, last_status, last_error";
  return {
    getMeta: s("SELECT value FROM meta WHERE key = ?").pluck(),
    setMeta: s("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),

    upsertSubscription: s("INSERT INTO subscriptions (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record"),
    getSubscription: s("SELECT record FROM subscriptions WHERE id = ?").pluck(),
    listSubscriptions: s("SELECT record FROM subscriptions ORDER BY ord").pluck(),
    deleteSubscription: s("DELETE FROM subscriptions WHERE id = ?"),

    enqueue: s(
      `INSERT INTO outbox (subscription_id, event_id, event, published_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
    ),
    isDeadLettered: s("SELECT 1 FROM dead_letters WHERE subscription_id = ? AND event_id = ?").pluck(),
    due: s(`SELECT ${deliveryCols} FROM outbox WHERE subscription_id = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?`),
    nextAttemptAfter: s("SELECT min(next_attempt_at) FROM outbox WHERE next_attempt_at > ?").pluck(),
    countPending: s("SELECT count(*) FROM outbox WHERE subscription_id = ?").pluck(),
    getDelivery: s(`SELECT ${deliveryCols} FROM outbox WHERE id = ?`),
    deleteDelivery: s("DELETE FROM outbox WHERE id = ?"),
    deleteOutboxOf: s("DELETE FROM outbox WHERE subscription_id = ?"),
    retry: s("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ?"),

    insertDeadLetter: s(
      `INSERT INTO dead_letters (subscription_id, event_id, event, published_at, attempts, reason, dead_lettered_at, last_attempt_at, last_status, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING`,
    ),
    listDeadLetters: s(`SELECT ${deadLetterCols} FROM dead_letters WHERE subscription_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
    countDeadLetters: s("SELECT count(*) FROM dead_letters WHERE subscription_id = ?").pluck(),
    deadLettersOf: s(`SELECT ${deadLetterCols} FROM dead_letters WHERE subscription_id = ?`),
    deadLetterByEvent: s(`SELECT ${deadLetterCols} FROM dead_letters WHERE subscription_id = ? AND event_id = ?`),
    deleteDeadLetter: s("DELETE FROM dead_letters WHERE id = ?"),
    deleteDeadLettersOf: s("DELETE FROM dead_letters WHERE subscription_id = ?"),
  };
}

function opt<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The shared columns as record fields, read the same way for a delivery and for a dead letter. */
function queuedEventFields(row: QueuedEventRow) {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    event: JSON.parse(row.event) as WebhookEvent,
    publishedAt: row.published_at,
    attempts: row.attempts,
    ...opt("lastAttemptAt", row.last_attempt_at),
    ...opt("lastStatus", row.last_status),
    ...opt("lastError", row.last_error),
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return { ...queuedEventFields(row), nextAttemptAt: row.next_attempt_at };
}

function toDeadLetter(row: DeadLetterRow): DeadLetterRecord {
  return { ...queuedEventFields(row), reason: row.reason, deadLetteredAt: row.dead_lettered_at };
}
