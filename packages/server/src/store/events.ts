/** Which users hear about a change: shared by every driver so all fan out alike. */
import type { CommittedChange, EventData, EventsCommitted, ParticipantRecord } from "./records.js";

/** The actor as a participant, or a bare one when they are not (or no longer) in the thread. */
export function actorSnapshot(participants: Iterable<ParticipantRecord>, actorId: string): ParticipantRecord {
  for (const p of participants) if (p.userId === actorId) return p;
  return { userId: actorId, shareHistoryTime: 0 };
}

export function withActor(data: Omit<EventData, "actor">, participants: Iterable<ParticipantRecord>, actorId: string): EventData {
  return { ...data, actor: actorSnapshot(participants, actorId) };
}

/** Fans out commit announcements to listeners; a throwing listener does not stop the others. */
export class CommitListeners {
  private readonly listeners = new Set<(commit: EventsCommitted) => void>();

  add(listener: (commit: EventsCommitted) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces the changes one commit appended (nothing when it appended none). */
  notify(changes: CommittedChange[]): void {
    if (changes.length === 0) return;
    const userIds = new Set<string>();
    for (const change of changes) for (const userId of change.recipients) userIds.add(userId);
    const commit: EventsCommitted = { userIds: [...userIds], changes };
    for (const listener of this.listeners) {
      try {
        listener(commit);
      } catch {
        // A listener's failure must not affect the write that already committed.
      }
    }
  }
}
