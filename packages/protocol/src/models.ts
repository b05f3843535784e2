/** Wire models, named as in the ACS OpenAPI specs (superset shape of every api-version). */
import type { CommunicationIdentifierModel } from "./identifiers.js";
import type { CommunicationError } from "./errors.js";

export type Metadata = Record<string, string>;

export type ChatRetentionPolicy =
  | { kind: "threadCreationDate"; deleteThreadAfterDays: number }
  | { kind: "none" };

export interface ChatParticipant {
  communicationIdentifier: CommunicationIdentifierModel;
  displayName?: string;
  shareHistoryTime?: string;
  metadata?: Metadata;
}

export interface ChatThreadProperties {
  id: string;
  topic: string;
  createdOn: string;
  createdByCommunicationIdentifier: CommunicationIdentifierModel;
  deletedOn?: string;
  metadata?: Metadata;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface ChatThreadItem {
  id: string;
  topic: string;
  deletedOn?: string;
  lastMessageReceivedOn?: string;
}

export type ChatMessageType = "text" | "html" | "topicUpdated" | "participantAdded" | "participantRemoved";
export const USER_MESSAGE_TYPES: readonly ChatMessageType[] = ["text", "html"];

export interface ChatAttachment {
  id: string;
  attachmentType: "image" | "file";
  name?: string;
  url?: string;
  previewUrl?: string;
}

export interface ChatMessageContent {
  message?: string;
  topic?: string;
  participants?: ChatParticipant[];
  initiatorCommunicationIdentifier?: CommunicationIdentifierModel;
  attachments?: ChatAttachment[];
}

export interface ChatMessage {
  id: string;
  type: ChatMessageType;
  sequenceId: string;
  version: string;
  content: ChatMessageContent;
  senderDisplayName?: string;
  createdOn: string;
  senderCommunicationIdentifier?: CommunicationIdentifierModel;
  deletedOn?: string;
  editedOn?: string;
  metadata?: Metadata;
}

export interface ChatMessageReadReceipt {
  senderCommunicationIdentifier: CommunicationIdentifierModel;
  chatMessageId: string;
  readOn: string;
}

export interface Page<T> {
  value: T[];
  nextLink?: string;
}

export interface CreateChatThreadResult {
  chatThread: ChatThreadProperties;
  invalidParticipants?: CommunicationError[];
}

export interface AddChatParticipantsResult {
  invalidParticipants?: CommunicationError[];
}

export interface SendChatMessageResult {
  id: string;
}

export interface CommunicationIdentity {
  id: string;
}

export interface CommunicationIdentityAccessToken {
  token: string;
  expiresOn: string;
}

export interface CommunicationIdentityAccessTokenResult {
  identity: CommunicationIdentity;
  accessToken?: CommunicationIdentityAccessToken;
}

/** Answer of `GET /chat/config/realTimeNotifications` (browser SDK; all three must be non-empty). */
export interface RealtimeNotificationConfig {
  trouterServiceUrl: string;
  registrarServiceUrl: string;
  cloudType: string;
}

/** Token scopes ACS knows. Unknown scopes are stored and carried, never granted anything. */
export const TOKEN_SCOPES = ["chat", "voip", "chat.join", "chat.join.limited", "voip.join"] as const;
