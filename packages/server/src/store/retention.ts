/** Retention policies, shared by every driver. */
import type { ThreadRecord } from "./records.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a thread's retention policy deletes it, or undefined when it is kept forever. */
export function retentionDeadline(thread: Pick<ThreadRecord, "createdAt" | "retentionPolicy">): number | undefined {
  const policy = thread.retentionPolicy;
  return policy?.kind === "threadCreationDate" ? thread.createdAt + policy.deleteThreadAfterDays * DAY_MS : undefined;
}
