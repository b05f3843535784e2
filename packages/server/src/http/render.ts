/** Store records → ACS wire models. The one place that knows the response JSON shapes. */
import {
  communicationUser,
  type ChatMessage,
  type ChatMessageReadReceipt,
  type ChatParticipant,
  type ChatThreadItem,
  type ChatThreadProperties,
} from "@parley/protocol";
import type { MessageRecord, ParticipantRecord, ReadReceiptRecord, ThreadRecord } from "../store/index.js";
import { isoTime } from "../isoTime.js";

export function threadProperties(t: ThreadRecord): ChatThreadProperties {
  return {
    id: t.id,
    topic: t.topic,
    createdOn: isoTime(t.createdAt),
    createdByCommunicationIdentifier: communicationUser(t.createdBy),
    ...(t.deletedAt !== undefined && { deletedOn: isoTime(t.deletedAt) }),
    ...(t.metadata !== undefined && { metadata: t.metadata }),
    ...(t.retentionPolicy !== undefined && { retentionPolicy: t.retentionPolicy }),
  };
}

export function threadItem(t: ThreadRecord): ChatThreadItem {
  return {
    id: t.id,
    topic: t.topic,
    lastMessageReceivedOn: isoTime(t.lastMessageAt),
    ...(t.deletedAt !== undefined && { deletedOn: isoTime(t.deletedAt) }),
  };
}

export function participant(p: ParticipantRecord): ChatParticipant {
  return {
    communicationIdentifier: communicationUser(p.userId),
    shareHistoryTime: isoTime(p.shareHistoryTime),
    ...(p.displayName !== undefined && { displayName: p.displayName }),
    ...(p.metadata !== undefined && { metadata: p.metadata }),
  };
}

export function message(m: MessageRecord): ChatMessage {
  const c = m.content;
  const deleted = m.deletedAt !== undefined;
  return {
    id: m.id,
    type: m.type,
    sequenceId: String(m.sequenceId),
    version: m.version,
    // A deleted message keeps its place in history but no longer shows what it said.
    content: deleted
      ? {}
      : {
          ...(c.message !== undefined && { message: c.message }),
          ...(c.topic !== undefined && { topic: c.topic }),
          ...(c.participants !== undefined && { participants: c.participants.map(participant) }),
          ...(c.initiatorId !== undefined && { initiatorCommunicationIdentifier: communicationUser(c.initiatorId) }),
        },
    createdOn: isoTime(m.createdAt),
    ...(m.senderId !== undefined && { senderCommunicationIdentifier: communicationUser(m.senderId) }),
    ...(m.senderDisplayName !== undefined && { senderDisplayName: m.senderDisplayName }),
    ...(m.editedAt !== undefined && { editedOn: isoTime(m.editedAt) }),
    ...(m.deletedAt !== undefined && { deletedOn: isoTime(m.deletedAt) }),
    ...(m.metadata !== undefined && !deleted && { metadata: m.metadata }),
  };
}

export function readReceipt(r: ReadReceiptRecord): ChatMessageReadReceipt {
  return {
    senderCommunicationIdentifier: communicationUser(r.userId),
    chatMessageId: r.messageId,
    readOn: isoTime(r.readAt),
  };
}
