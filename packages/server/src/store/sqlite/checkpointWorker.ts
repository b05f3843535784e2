/**
 * Worker thread of BackgroundCheckpoints (checkpoints.ts): its own connection to the database,
 * which copies committed WAL frames into the database file (a PASSIVE checkpoint: it never blocks
 * the writer) whenever the main thread has committed since the last look.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

interface CheckpointWorkerData {
  path: string;
  /** Incremented by the main thread after each commit. */
  commits: Int32Array;
  intervalMs: number;
}

const { path, commits, intervalMs } = workerData as CheckpointWorkerData;
const db = new Database(path);
// Checkpoints from a connection at NORMAL or FULL sync the WAL before copying and the database
// after, so a frame is only ever overwritten (WAL reset) once its page is on disk in the database.
db.pragma("synchronous = NORMAL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

let seen = Atomics.load(commits, 0);
const timer = setInterval(() => {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  seen = now;
  try {
    checkpoint.run();
  } catch {
    // Best effort: the main connection's own checkpoint at its WAL size cap stays the backstop.
  }
}, intervalMs);

parentPort!.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
