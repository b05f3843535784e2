/**
 * Real-time chat events as Parley's event stream sends them: the official JS SDK's event names and
 * field names (`@azure/communication-signaling`), with dates as ISO-8601 strings and identifiers in
 * the SDK's `{kind, communicationUserId}` form, so a plain JSON client needs no mapping.
 */
import type { ChatRetentionPolicy, Metadata } from "./models.js";

export interface UserIdentifierKind {
  kind: "communicationUser";
  communicationUserId: string;
}

export const userKind = (id: string): UserIdentifierKind => ({ kind: "communicationUser", communicationUserId: id });

export interface EventParticipant {
  id: UserIdentifierKind;
  displayName: string;
  shareHistoryTime?: string;
  metadata: Metadata;
}

interface BaseChatEvent {
  threadId: string;
  sender: UserIdentifierKind;
  senderDisplayName: string;
  recipient: UserIdentifierKind;
}

interface BaseChatMessageEvent extends BaseChatEvent {
  id: string;
  createdOn: string;
  version: string;
  type: string;
  /** Parley addition: the message's place in its thread. */
  sequenceId: string;
}

interface BaseChatThreadEvent {
  threadId: string;
  version: string;
  /** Parley addition: whose stream this event is in. */
  recipient: UserIdentifierKind;
}

export interface ChatMessageReceivedEvent extends BaseChatMessageEvent {
  message: string;
  metadata: Metadata;
}

export interface ChatMessageEditedEvent extends ChatMessageReceivedEvent {
  editedOn: string;
}

export interface ChatMessageDeletedEvent extends BaseChatMessageEvent {
  deletedOn: string;
}

export interface TypingIndicatorReceivedEvent extends BaseChatEvent {
  version: string;
  receivedOn: string;
}

export interface ReadReceiptReceivedEvent extends BaseChatEvent {
  chatMessageId: string;
  readOn: string;
}

export interface ChatThreadCreatedEvent extends BaseChatThreadEvent {
  createdOn: string;
  properties: { topic: string; metadata: Metadata };
  participants: EventParticipant[];
  createdBy: EventParticipant;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface ChatThreadPropertiesUpdatedEvent extends BaseChatThreadEvent {
  properties: { topic: string; metadata: Metadata };
  updatedOn: string;
  updatedBy: EventParticipant;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface ChatThreadDeletedEvent extends BaseChatThreadEvent {
  deletedOn: string;
  deletedBy: EventParticipant;
  reason: "deletedByUser" | "deletedByPolicy";
}

export interface ParticipantsAddedEvent extends BaseChatThreadEvent {
  addedOn: string;
  participantsAdded: EventParticipant[];
  addedBy: EventParticipant;
}

export interface ParticipantsRemovedEvent extends BaseChatThreadEvent {
  removedOn: string;
  participantsRemoved: EventParticipant[];
  removedBy: EventParticipant;
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

export type ChatEventName = keyof ChatEventMap;

export const CHAT_EVENT_NAMES: readonly ChatEventName[] = [
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

/** Events kept in each user's durable, resumable log. Typing and read receipts are live-only. */
export type DurableEventName = Exclude<ChatEventName, "typingIndicatorReceived" | "readReceiptReceived">;

// ---------------------------------------------------------------------------------------------
// The event-stream protocol (docs/realtime.md): frames are JSON text messages.

export const EVENT_STREAM_PATH = "/chat/events";

/** Close codes the server uses; a client reconnects with its cursor unless told otherwise. */
export const CLOSE_CODES = {
  /** Server restarting or shutting down: reconnect with your cursor. */
  goingAway: 1001,
  protocolError: 4000,
  /** Bad or missing token: do not reconnect with the same token. */
  unauthorized: 4001,
  /** The token expired: refresh it, then reconnect with your cursor. */
  tokenExpired: 4002,
  /** The token was revoked or its user deleted. */
  tokenRevoked: 4003,
  /** The client did not keep up; reconnect with your cursor to continue where you were. */
  slowConsumer: 4008,
  /** No pong to the server's pings: the connection was presumed dead. */
  heartbeatTimeout: 4009,
} as const;

export type ServerFrame =
  | { type: "ready"; userId: string; cursor: number; heartbeatMs: number; retentionHours: number }
  | { type: "event"; seq: number | null; event: ChatEventName; data: ChatEventMap[ChatEventName] }
  | { type: "resync"; reason: "cursorExpired" | "cursorAhead"; cursor: number }
  | { type: "ping" }
  | { type: "error"; code: string; message: string };

export type ClientFrame =
  | { type: "auth"; token: string; cursor?: number }
  | { type: "pong" };
