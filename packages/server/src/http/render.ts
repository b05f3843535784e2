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

// Optional fields are assigned rather than spread: a page renders 51 messages, and conditional
// spreads are V8's slow way to build an object (see toMessage in the SQLite store for numbers).

export function participant(p: ParticipantRecord): ChatParticipant {
  const out: ChatParticipant = { communicationIdentifier: communicationUser(p.userId), shareHistoryTime: isoTime(p.shareHistoryTime) };
  if (p.displayName !== undefined) out.displayName = p.displayName;
  if (p.metadata !== undefined) out.metadata = p.metadata;
  return out;
}

export function message(m: MessageRecord): ChatMessage {
  const deleted = m.deletedAt !== undefined;
  const out: ChatMessage = {
    id: m.id,
    type: m.type,
    sequenceId: String(m.sequenceId),
    version: m.version,
    // A deleted message keeps its place in history but no longer shows what it said.
    content: deleted ? {} : content(m.content),
    createdOn: isoTime(m.createdAt),
  };
  if (m.senderId !== undefined) out.senderCommunicationIdentifier = communicationUser(m.senderId);
  if (m.senderDisplayName !== undefined) out.senderDisplayName = m.senderDisplayName;
  if (m.editedAt !== undefined) out.editedOn = isoTime(m.editedAt);
  if (m.deletedAt !== undefined) out.deletedOn = isoTime(m.deletedAt);
  if (m.metadata !== undefined && !deleted) out.metadata = m.metadata;
  return out;
}

function content(c: MessageRecord["content"]): ChatMessage["content"] & object {
  const out: ChatMessage["content"] & object = {};
  if (c.message !== undefined) out.message = c.message;
  if (c.topic !== undefined) out.topic = c.topic;
  if (c.participants !== undefined) out.participants = c.participants.map(participant);
  if (c.initiatorId !== undefined) out.initiatorCommunicationIdentifier = communicationUser(c.initiatorId);
  return out;
}

export function readReceipt(r: ReadReceiptRecord): ChatMessageReadReceipt {
  return {
    senderCommunicationIdentifier: communicationUser(r.userId),
    chatMessageId: r.messageId,
    readOn: isoTime(r.readAt),
  };
}
