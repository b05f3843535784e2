/**
 * Real-time chat events with the official SDK's names and payloads (`@azure/communication-signaling`
 * via `ChatClient.on`): dates as Date objects, identifiers as CommunicationIdentifierKind.
 * Parley adds `sequenceId` to message events and `recipient` to thread events.
 */
import type * as wire from "@parley/protocol";
import { deserializeIdentifier, type CommunicationIdentifierKind } from "./identifiers.js";
import { date } from "./mappers.js";
import type { ChatAttachment, ChatRetentionPolicy } from "./models.js";

export interface ChatEventParticipant {
  id: CommunicationIdentifierKind;
  displayName: string;
  shareHistoryTime?: Date;
  metadata: Record<string, string>;
}

export interface ChatEventThreadProperties {
  topic: string;
  metadata: Record<string, string>;
}

export interface BaseChatEvent {
  threadId: string;
  sender: CommunicationIdentifierKind;
  senderDisplayName: string;
  recipient: CommunicationIdentifierKind;
}

export interface BaseChatMessageEvent extends BaseChatEvent {
  id: string;
  createdOn: Date;
  version: string;
  type: string;
  /** Parley: the message's place in its thread. */
  sequenceId?: string;
}

export interface BaseChatThreadEvent {
  threadId: string;
  version: string;
  /** Parley: whose stream delivered this event. */
  recipient?: CommunicationIdentifierKind;
}

export interface ChatMessageReceivedEvent extends BaseChatMessageEvent {
  message: string;
  metadata: Record<string, string>;
  attachments?: ChatAttachment[];
}

export interface ChatMessageEditedEvent extends ChatMessageReceivedEvent {
  editedOn: Date;
}

export interface ChatMessageDeletedEvent extends BaseChatMessageEvent {
  deletedOn: Date;
}

export interface TypingIndicatorReceivedEvent extends BaseChatEvent {
  version: string;
  receivedOn: Date;
}

export interface ReadReceiptReceivedEvent extends BaseChatEvent {
  chatMessageId: string;
  readOn: Date;
}

export interface ChatThreadCreatedEvent extends BaseChatThreadEvent {
  createdOn: Date;
  properties: ChatEventThreadProperties;
  participants: ChatEventParticipant[];
  createdBy: ChatEventParticipant;
  retentionPolicy: ChatRetentionPolicy;
}

export interface ChatThreadPropertiesUpdatedEvent extends BaseChatThreadEvent {
  properties: ChatEventThreadProperties;
  updatedOn: Date;
  updatedBy: ChatEventParticipant;
  retentionPolicy: ChatRetentionPolicy;
}

export interface ChatThreadDeletedEvent extends BaseChatThreadEvent {
  deletedOn: Date;
  deletedBy: ChatEventParticipant;
  reason: string;
}

export interface ParticipantsAddedEvent extends BaseChatThreadEvent {
  addedOn: Date;
  participantsAdded: ChatEventParticipant[];
  addedBy: ChatEventParticipant;
}

export interface ParticipantsRemovedEvent extends BaseChatThreadEvent {
  removedOn: Date;
  participantsRemoved: ChatEventParticipant[];
  removedBy: ChatEventParticipant;
}

/** Parley: the stream could not resume from the cursor (too old, or unknown): re-read state over REST. */
export interface RealtimeResyncEvent {
  reason: "cursorExpired" | "cursorAhead";
  /** Where delivery continues from now. */
  cursor: number;
}

/** Parley: why the real-time connection ended (`realTimeNotificationDisconnected` gets it too). */
export interface RealtimeDisconnectedEvent {
  /** WebSocket close code (1006 when the connection dropped without one). */
  code: number;
  reason: string;
  /** True when the client will reconnect by itself; false after 4001/4003 or stopRealtimeNotifications(). */
  willReconnect: boolean;
}

export interface ChatEventMap {
  chatMessageReceived: ChatMessageReceivedEvent;
  chatMessageEdited: ChatMessageEditedEvent;
  chatMessageDeleted: ChatMessageDeletedEvent;
  typingIndicatorReceived: TypingIndicatorReceivedEvent;
  readReceiptReceived: ReadReceiptReceivedEvent;
  chatThreadCreated: ChatThreadCreatedEvent;
  chatThreadPropertiesUpdated: ChatThreadPropertiesUpdatedEvent;
  chatThreadDeleted: ChatThreadDeletedEvent;
  participantsAdded: ParticipantsAddedEvent;
  participantsRemoved: ParticipantsRemovedEvent;
}

export type ChatEventId = keyof ChatEventMap | "realTimeNotificationConnected" | "realTimeNotificationDisconnected";

export const CHAT_EVENT_IDS: readonly (keyof ChatEventMap)[] = [
  "chatMessageReceived",
  "chatMessageEdited",
  "chatMessageDeleted",
  "typingIndicatorReceived",
  "readReceiptReceived",
  "chatThreadCreated",
  "chatThreadPropertiesUpdated",
  "chatThreadDeleted",
  "participantsAdded",
  "participantsRemoved",
];

// ---------------------------------------------------------------------------------------------
// Wire → SDK

function kind(id: wire.UserIdentifierKind | undefined): CommunicationIdentifierKind {
  const loose = (id ?? {}) as unknown as Record<string, unknown>;
  if (loose.kind === "communicationUser" || typeof loose.communicationUserId === "string") {
    return { kind: "communicationUser", communicationUserId: String(loose.communicationUserId ?? "") };
  }
  if (typeof loose.kind === "string" && !("rawId" in loose)) return loose as unknown as CommunicationIdentifierKind;
  return deserializeIdentifier(loose);
}

function participant(p: wire.EventParticipant): ChatEventParticipant {
  return {
    id: kind(p.id),
    displayName: p.displayName ?? "",
    ...(p.shareHistoryTime !== undefined && { shareHistoryTime: date(p.shareHistoryTime) }),
    metadata: p.metadata ?? {},
  };
}

function base(e: { threadId: string; sender: wire.UserIdentifierKind; senderDisplayName: string; recipient: wire.UserIdentifierKind }): BaseChatEvent {
  return { threadId: e.threadId, sender: kind(e.sender), senderDisplayName: e.senderDisplayName ?? "", recipient: kind(e.recipient) };
}

function messageBase(e: wire.ChatMessageDeletedEvent | wire.ChatMessageReceivedEvent): BaseChatMessageEvent {
  return {
    ...base(e),
    id: e.id,
    createdOn: date(e.createdOn),
    version: e.version,
    type: e.type,
    ...(e.sequenceId !== undefined && { sequenceId: e.sequenceId }),
  };
}

function threadBase(e: { threadId: string; version: string; recipient?: wire.UserIdentifierKind }): BaseChatThreadEvent {
  return { threadId: e.threadId, version: e.version, ...(e.recipient && { recipient: kind(e.recipient) }) };
}

const NO_POLICY: ChatRetentionPolicy = { kind: "none" };

/** A wire event → the SDK event for `on(name)`; undefined for names this SDK does not know. */
export function toSdkEvent(name: string, data: unknown): ChatEventMap[keyof ChatEventMap] | undefined {
  switch (name) {
    case "chatMessageReceived": {
      const e = data as wire.ChatMessageReceivedEvent;
      return { ...messageBase(e), message: e.message ?? "", metadata: e.metadata ?? {} };
    }
    case "chatMessageEdited": {
      const e = data as wire.ChatMessageEditedEvent;
      return { ...messageBase(e), message: e.message ?? "", metadata: e.metadata ?? {}, editedOn: date(e.editedOn) };
    }
    case "chatMessageDeleted": {
      const e = data as wire.ChatMessageDeletedEvent;
      return { ...messageBase(e), deletedOn: date(e.deletedOn) };
    }
    case "typingIndicatorReceived": {
      const e = data as wire.TypingIndicatorReceivedEvent;
      return { ...base(e), version: e.version, receivedOn: date(e.receivedOn) };
    }
    case "readReceiptReceived": {
      const e = data as wire.ReadReceiptReceivedEvent;
      return { ...base(e), chatMessageId: e.chatMessageId, readOn: date(e.readOn) };
    }
    case "chatThreadCreated": {
      const e = data as wire.ChatThreadCreatedEvent;
      return {
        ...threadBase(e),
        createdOn: date(e.createdOn),
        properties: { topic: e.properties?.topic ?? "", metadata: e.properties?.metadata ?? {} },
        participants: (e.participants ?? []).map(participant),
        createdBy: participant(e.createdBy),
        retentionPolicy: e.retentionPolicy ?? NO_POLICY,
      };
    }
    case "chatThreadPropertiesUpdated": {
      const e = data as wire.ChatThreadPropertiesUpdatedEvent;
      return {
        ...threadBase(e),
        properties: { topic: e.properties?.topic ?? "", metadata: e.properties?.metadata ?? {} },
        updatedOn: date(e.updatedOn),
        updatedBy: participant(e.updatedBy),
        retentionPolicy: e.retentionPolicy ?? NO_POLICY,
      };
    }
    case "chatThreadDeleted": {
      const e = data as wire.ChatThreadDeletedEvent;
      return { ...threadBase(e), deletedOn: date(e.deletedOn), deletedBy: participant(e.deletedBy), reason: e.reason };
    }
    case "participantsAdded": {
      const e = data as wire.ParticipantsAddedEvent;
      return { ...threadBase(e), addedOn: date(e.addedOn), participantsAdded: (e.participantsAdded ?? []).map(participant), addedBy: participant(e.addedBy) };
    }
    case "participantsRemoved": {
      const e = data as wire.ParticipantsRemovedEvent;
      return {
        ...threadBase(e),
        removedOn: date(e.removedOn),
        participantsRemoved: (e.participantsRemoved ?? []).map(participant),
        removedBy: participant(e.removedBy),
      };
    }
  }
  return undefined;
}
