/** The system messages ACS writes into a thread's history, built once for every driver. */
import type { MessageContentRecord, ParticipantRecord } from "./records.js";

export type SystemMessageDraft =
  | { type: "participantAdded" | "participantRemoved"; content: MessageContentRecord }
  | { type: "topicUpdated"; content: MessageContentRecord };

export function participantsAdded(participants: ParticipantRecord[], initiatorId: string): SystemMessageDraft {
  return { type: "participantAdded", content: { participants, initiatorId } };
}

export function participantsRemoved(participants: ParticipantRecord[], initiatorId: string): SystemMessageDraft {
  return { type: "participantRemoved", content: { participants, initiatorId } };
}

export function topicUpdated(topic: string, initiatorId: string): SystemMessageDraft {
  return { type: "topicUpdated", content: { topic, initiatorId } };
}

