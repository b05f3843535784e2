export type * from "./store.js";
export type * from "./records.js";
export { isStoreFailure } from "./store.js";
export { MemoryStore } from "./memory/memoryStore.js";
export { openSqliteStore, SqliteStore } from "./sqlite/sqliteStore.js";
export { MIGRATIONS as SQLITE_MIGRATIONS } from "./sqlite/migrations.js";
export { GroupCommit, type GroupCommitHooks } from "./sqlite/groupCommit.js";
export { WalSync, NO_DURABILITY, type Durability } from "./sqlite/walSync.js";
