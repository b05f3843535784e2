/** Which users hear about a change: shared by every driver so all fan out alike. */
import type { EventData, ParticipantRecord } from "./records.js";

/** The actor as a participant, or a bare one when they are not (or no longer) in the thread. */
export function actorSnapshot(participants: Iterable<ParticipantRecord>, actorId: string): ParticipantRecord {
  for (const p of participants) if (p.userId === actorId) return p;
  return { userId: actorId, shareHistoryTime: 0 };
}

export function withActor(data: Omit<EventData, "actor">, participants: Iterable<ParticipantRecord>, actorId: string): EventData {
  return { ...data, actor: actorSnapshot(participants, actorId) };
}

/** Fans out commit notifications to listeners; a throwing listener does not stop the others. */
export class CommitListeners {
  private readonly listeners = new Set<(userIds: string[], feedGrew: boolean) => void>();

  add(listener: (userIds: string[], feedGrew: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(userIds: Iterable<string>, feedGrew = true): void {
    const ids = [...new Set(userIds)];
    if (ids.length === 0 && !feedGrew) return;
    for (const listener of this.listeners) {
      try {
        listener(ids, feedGrew);
      } catch {
        // A listener's failure must not affect the write that already committed.
      }
    }
  }
}
