/** Runs bench/seed.ts in a process of its own and relays its progress. */
import { fork } from "node:child_process";
import path from "node:path";
import { BENCH_DIR } from "./paths.js";

export interface SeedRequest {
  dataDir: string;
  /** Threads to create, each with one participant (the reader) and this many text messages. */
  threads: Array<{ name: string; messages: number }>;
  /** Messages per Promise.all batch (one group-commit transaction). */
  batch: number;
}

export interface SeedResult {
  readerId: string;
  threads: Array<{ name: string; id: string; messages: number }>;
  seconds: number;
  messagesPerSec: number;
}

/**
 * For the real-time scenarios: `users` users, and one thread per entry of `threads` whose members
 * are the first n users (user 0 creates them all). Written through the Store, which (unlike the Chat
 * API, which enforces ACS's 250) takes threads of any size.
 */
export interface MembersSeedRequest {
  kind: "members";
  dataDir: string;
  users: number;
  threads: number[];
}

export interface MembersSeedResult {
  userIds: string[];
  threads: Array<{ members: number; id: string }>;
  seconds: number;
}

export type SeedMessage =
  | { type: "ready" }
  | { type: "progress"; done: number; total: number }
  | { type: "result"; result: SeedResult | MembersSeedResult }
  | { type: "error"; message: string };

export function seedDataDir(request: SeedRequest, progress: (done: number, total: number) => void, limitSec: number): Promise<SeedResult>;
export function seedDataDir(request: MembersSeedRequest, progress: (done: number, total: number) => void, limitSec: number): Promise<MembersSeedResult>;
export function seedDataDir(request: SeedRequest | MembersSeedRequest, progress: (done: number, total: number) => void, limitSec: number): Promise<SeedResult | MembersSeedResult> {
  const child = fork(path.join(BENCH_DIR, "seed.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise<SeedResult | MembersSeedResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`seeding took longer than ${limitSec} s`));
    }, limitSec * 1000);
    const finish = (error?: Error, result?: SeedResult | MembersSeedResult) => {
      clearTimeout(timer);
      child.disconnect();
      if (error) reject(error);
      else resolve(result!);
    };
    child.on("message", (m: SeedMessage) => {
      if (m.type === "ready") child.send(request);
      else if (m.type === "progress") progress(m.done, m.total);
      else if (m.type === "result") finish(undefined, m.result);
      else finish(new Error(m.message));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`seeding process exited with ${code}`));
    });
  });
}
