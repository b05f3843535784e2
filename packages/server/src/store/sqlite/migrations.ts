/**
 * Versioned schema for the SQLite driver. The database's `user_version` says how many of these have
 * run; each runs once, in its own transaction, in order. Append new steps; never edit old ones.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: the initial schema */ `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    token_epoch INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE threads (
    ord INTEGER PRIMARY KEY,                -- creation order: the keyset for listing threads
    id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    metadata TEXT,
    retention_policy TEXT,
    deleted_at INTEGER,
    last_message_at INTEGER NOT NULL,
    last_sequence_id INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT
  );

  CREATE TABLE participants (
    joined INTEGER PRIMARY KEY,             -- join order, for stable skip paging
    thread_ord INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    display_name TEXT,
    share_history_time INTEGER NOT NULL,
    metadata TEXT,
    UNIQUE (thread_ord, user_id)
  );
  CREATE INDEX participants_by_user ON participants (user_id, thread_ord);

  CREATE TABLE messages (
    thread_ord INTEGER NOT NULL,
    sequence_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    content TEXT NOT NULL,
    sender_id TEXT,
    sender_display_name TEXT,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    PRIMARY KEY (thread_ord, sequence_id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX messages_by_id ON messages (thread_ord, id);
  CREATE INDEX messages_by_time ON messages (thread_ord, created_at);

  CREATE TABLE read_receipts (
    thread_ord INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_id INTEGER NOT NULL,
    read_at INTEGER NOT NULL,
    PRIMARY KEY (thread_ord, user_id)
  ) WITHOUT ROWID;

  CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_by_age ON idempotency (created_at);
  `,
  /* 2: per-user event logs for the real-time stream */ `
  ALTER TABLE users ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN event_pruned INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE user_events (
    user_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX user_events_by_age ON user_events (at);
  `,
  /* 3: the global change feed (webhooks and other server-side consumers) */ `
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    data TEXT NOT NULL,
    recipients TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX changes_by_age ON changes (at);
  `,
  /* 4: an event's payload lives once, in the change feed; each recipient's log row points at it */ `
  -- Rows written from now on carry change_seq and leave name, thread_id and data empty: a 250-member
  -- thread's events were copied 250 times into this WITHOUT ROWID table, and a row over ~1 KB
  -- (thread creation lists every participant) spills to overflow pages that every key lookup
  -- through it pays for. Rows written before keep their inline payload (change_seq NULL).
  -- Both tables are pruned with the same cutoff on the same 'at', so a log row never outlives
  -- the change it points at.
  ALTER TABLE user_events ADD COLUMN change_seq INTEGER;
  `,
];
