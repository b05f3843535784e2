/** Wire JSON (ISO dates, `{rawId, communicationUser}` identifiers) ↔ SDK models (Dates, kinds). */
import type * as wire from "@parley/protocol";
import { toChatError } from "./errors.js";
import { deserializeIdentifier, serializeIdentifier, type SerializedIdentifier } from "./identifiers.js";
import type {
  ChatMessage,
  ChatMessageContent,
  ChatMessageReadReceipt,
  ChatParticipant,
  ChatThreadItem,
  ChatThreadProperties,
  CreateChatThreadResult,
  ChatError,
  ChatRetentionPolicy,
} from "./models.js";

/** ISO-8601 → Date; undefined stays undefined. */
export function date(value: string): Date;
export function date(value: string | undefined): Date | undefined;
export function date(value: string | undefined): Date | undefined {
  return value === undefined || value === null ? undefined : new Date(value);
}

const identifier = (model: wire.CommunicationIdentifierModel) => deserializeIdentifier(model as SerializedIdentifier);

export function participantToWire(p: ChatParticipant): wire.ChatParticipant {
  return {
    communicationIdentifier: serializeIdentifier(p.id) as wire.CommunicationIdentifierModel,
    ...(p.displayName !== undefined && { displayName: p.displayName }),
    ...(p.shareHistoryTime !== undefined && { shareHistoryTime: toIso(p.shareHistoryTime) }),
    ...(p.metadata !== undefined && { metadata: p.metadata }),
  };
}

export function toIso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

export function participant(p: wire.ChatParticipant): ChatParticipant {
  return {
    id: identifier(p.communicationIdentifier),
    ...(p.displayName !== undefined && { displayName: p.displayName }),
    ...(p.shareHistoryTime !== undefined && { shareHistoryTime: date(p.shareHistoryTime) }),
    ...(p.metadata !== undefined && { metadata: p.metadata }),
  };
}

export function threadProperties(t: wire.ChatThreadProperties): ChatThreadProperties {
  return {
    id: t.id,
    topic: t.topic,
    createdOn: date(t.createdOn),
    ...(t.createdByCommunicationIdentifier && { createdBy: identifier(t.createdByCommunicationIdentifier) }),
    ...(t.deletedOn !== undefined && { deletedOn: date(t.deletedOn) }),
    ...(t.metadata !== undefined && { metadata: t.metadata }),
    ...(t.retentionPolicy !== undefined && { retentionPolicy: retentionPolicy(t.retentionPolicy) }),
  };
}

function retentionPolicy(p: wire.ChatRetentionPolicy): ChatRetentionPolicy {
  return p.kind === "threadCreationDate" ? { kind: p.kind, deleteThreadAfterDays: p.deleteThreadAfterDays } : { kind: "none" };
}

export function threadItem(t: wire.ChatThreadItem): ChatThreadItem {
  return {
    id: t.id,
    topic: t.topic,
    ...(t.deletedOn !== undefined && { deletedOn: date(t.deletedOn) }),
    ...(t.lastMessageReceivedOn !== undefined && { lastMessageReceivedOn: date(t.lastMessageReceivedOn) }),
  };
}

function content(c: wire.ChatMessageContent): ChatMessageContent {
  const { participants, initiatorCommunicationIdentifier, ...rest } = c;
  return {
    ...rest,
    ...(initiatorCommunicationIdentifier && { initiator: identifier(initiatorCommunicationIdentifier) }),
    ...(participants && { participants: participants.map(participant) }),
  };
}

export function message(m: wire.ChatMessage): ChatMessage {
  return {
    id: m.id,
    type: m.type,
    sequenceId: m.sequenceId,
    version: m.version,
    ...(m.content && { content: content(m.content) }),
    ...(m.senderDisplayName !== undefined && { senderDisplayName: m.senderDisplayName }),
    createdOn: date(m.createdOn),
    ...(m.senderCommunicationIdentifier && { sender: identifier(m.senderCommunicationIdentifier) }),
    ...(m.deletedOn !== undefined && { deletedOn: date(m.deletedOn) }),
    ...(m.editedOn !== undefined && { editedOn: date(m.editedOn) }),
    ...(m.metadata !== undefined && { metadata: m.metadata }),
  };
}

export function readReceipt(r: wire.ChatMessageReadReceipt): ChatMessageReadReceipt {
  return { sender: identifier(r.senderCommunicationIdentifier), chatMessageId: r.chatMessageId, readOn: date(r.readOn) };
}

export function invalidParticipants(list: wire.CommunicationError[] | undefined): { invalidParticipants?: ChatError[] } {
  return list && list.length > 0 ? { invalidParticipants: list.map((e) => toChatError(e as unknown as Record<string, unknown>)) } : {};
}

export function createThreadResult(r: wire.CreateChatThreadResult): CreateChatThreadResult {
  return { ...(r.chatThread && { chatThread: threadProperties(r.chatThread) }), ...invalidParticipants(r.invalidParticipants) };
}
