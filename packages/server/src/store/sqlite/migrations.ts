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
  /* 5: event streams read from the change feed by membership (fan-out on read) */ `
  -- A user's stream was a run of rows in user_events, one per recipient per event: a message to a
  -- 1,000-member thread dirtied ~1,000 pages (a seq bump and a log row per member). Now an event is
  -- one change row, and a user's stream is read as the changes of each thread they belonged to,
  -- between the change that made them a member and the one that removed them. The cursor becomes
  -- the change's seq: it still increases along a stream, but with gaps.
  CREATE TABLE memberships (
    user_id TEXT NOT NULL,
    thread_ord INTEGER NOT NULL,
    from_seq INTEGER NOT NULL,              -- the first change this member receives
    to_seq INTEGER,                         -- the last one (their removal); NULL while a member
    PRIMARY KEY (user_id, thread_ord, from_seq)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_by_thread ON memberships (thread_ord, from_seq);

  ALTER TABLE changes ADD COLUMN thread_ord INTEGER;
  -- (thread_ord, seq): seq is the rowid, which every index carries as its last column.
  CREATE INDEX changes_by_thread ON changes (thread_ord);
  -- Pruning finds its cutoff on the primary key ('at' follows seq), so this index only cost a page per event.
  DROP INDEX changes_by_age;

  -- The highest seq pruned: cursors below it cannot be served.
  CREATE TABLE stream_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned INTEGER NOT NULL
  );

  -- Cursors handed out before this step were per-user counts, which mean nothing as feed seqs. New
  -- seqs start above every old cursor and every old change, and everything up to there counts as
  -- pruned, so an old cursor gets an explicit resync rather than a wrong replay. A database that
  -- never had an event starts at 0.
  CREATE TEMP TABLE floor AS
    SELECT CASE WHEN m = 0 THEN 0 ELSE m + 1 END AS seq FROM (
      SELECT max(coalesce((SELECT max(event_seq) FROM users), 0), coalesce((SELECT max(seq) FROM changes), 0),
                 coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)) AS m);
  INSERT INTO stream_state (id, pruned) SELECT 1, seq FROM temp.floor;
  DELETE FROM sqlite_sequence WHERE name = 'changes';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', seq FROM temp.floor WHERE seq > 0;
  -- Today's participants receive everything from here on.
  INSERT INTO memberships (user_id, thread_ord, from_seq) SELECT user_id, thread_ord, (SELECT seq FROM temp.floor) + 1 FROM participants;
  DROP TABLE temp.floor;

  DROP TABLE user_events;
  ALTER TABLE users DROP COLUMN event_seq;
  ALTER TABLE users DROP COLUMN event_pruned;
  `,
  /* 6: no time index on messages */ `
  -- Only listMessages with a time bound (startTime, a participant's shareHistoryTime) read it, and
  -- it finds the same first message by bisecting the primary key on created_at (which never
  -- decreases along a thread's sequence). Every message paid it a page write: with sends spread
  -- over many threads, each batch dirtied one more leaf page per thread it touched.
  DROP INDEX messages_by_time;
  `,
  /* 7: memberships of deleted threads end at the deletion */ `
  -- Deleting a thread left its members' memberships open, so every stream read of theirs kept
  -- walking a thread that could never change again, and pruning never removed them. They now end
  -- at the thread's last change (its deletion), or at the pruned seq if that is gone.
  UPDATE memberships SET to_seq = coalesce(
      (SELECT max(c.seq) FROM changes c WHERE c.thread_ord = memberships.thread_ord),
      (SELECT pruned FROM stream_state WHERE id = 1))
  WHERE to_seq IS NULL AND thread_ord IN (SELECT ord FROM threads WHERE deleted_at IS NOT NULL);
  `,
];
