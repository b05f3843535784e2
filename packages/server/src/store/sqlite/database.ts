/**
 * Opening a Parley SQLite file, the same way for the chat store and the webhook outbox: WAL,
 * synchronous=NORMAL plus our own off-loop WAL flush (walSync.ts) for durability, temporary
 * structures in memory, and versioned migrations recorded in `user_version`; for the chat store,
 * WAL checkpoints in a worker thread (checkpoints.ts).
 */
import fs from "node:fs";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { NO_DURABILITY, WalSync, type Durability } from "./walSync.js";
import { BackgroundCheckpoints } from "./checkpoints.js";

export interface OpenedDatabase {
  db: Db;
  /** Flushes commits to disk; GroupCommit waits for it before acknowledging a write. */
  durability: Durability;
  /** Present when checkpoints run in a worker: tell it of commits, close it before the database. */
  checkpoints?: BackgroundCheckpoints;
}

export interface OpenDatabaseOptions {
  /** File path, or ":memory:". */
  path: string;
  /** Schema steps; `user_version` says how many have run. Append, never edit. */
  migrations: readonly string[];
  /** Names the file in errors, e.g. "database" or "webhooks database". */
  what: string;
  /** Checkpoint the WAL in a worker thread instead of inside COMMIT (file databases only). */
  backgroundCheckpoints?: boolean;
}

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const db = new Database(options.path);
  try {
    // Checked before anything touches the file, so a newer Parley's database is left as it was.
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > options.migrations.length) {
      throw new Error(`${options.what} schema version ${current} is newer than this Parley (${options.migrations.length}); upgrade Parley`);
    }
    db.pragma("journal_mode = WAL");
    // NORMAL: COMMIT does not fsync; WalSync flushes the WAL before any write is acknowledged.
    db.pragma("synchronous = NORMAL");
    // Each write runs in a savepoint; with temp files on disk every first change to a page inside
    // one is copied to a temporary file (measured: 130 → 73 µs of CPU per message).
    db.pragma("temp_store = MEMORY");
    db.pragma("busy_timeout = 5000");
    for (let version = current; version < options.migrations.length; version++) {
      db.transaction(() => {
        db.exec(options.migrations[version]!);
        db.pragma(`user_version = ${version + 1}`);
      })();
    }
    const durability = durabilityOf(db, options.path);
    const onDisk = durability !== NO_DURABILITY;
    return { db, durability, ...(onDisk && options.backgroundCheckpoints && { checkpoints: new BackgroundCheckpoints(db, options.path) }) };
  } catch (error) {
    db.close();
    throw error;
  }
}

function durabilityOf(db: Db, path: string): Durability {
  if (path === ":memory:" || path === "") return NO_DURABILITY;
  // A read transaction in WAL mode creates the -wal file if a previous run removed it on close.
  db.prepare("SELECT count(*) FROM sqlite_master").get();
  if (!fs.existsSync(`${path}-wal`)) throw new Error(`SQLite did not create ${path}-wal`);
  return WalSync.open(path);
}
