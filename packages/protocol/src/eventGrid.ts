/**
 * Azure Event Grid chat events as ACS publishes them (Microsoft.Communication, data-plane 2018-01-01)
 * and the two envelopes Event Grid delivers them in. Parley's webhooks send exactly these shapes.
 */
import type { CommunicationIdentifierModel } from "./identifiers.js";

/** Per-user events go to each participant except the one who caused them; in-thread events once. */
export const ACS_CHAT_USER_EVENT_TYPES = [
  "Microsoft.Communication.ChatMessageReceived",
  "Microsoft.Communication.ChatMessageEdited",
  "Microsoft.Communication.ChatMessageDeleted",
  "Microsoft.Communication.ChatThreadCreatedWithUser",
  "Microsoft.Communication.ChatThreadWithUserDeleted",
  "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser",
  "Microsoft.Communication.ChatParticipantAddedToThreadWithUser",
  "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser",
] as const;

export const ACS_CHAT_THREAD_EVENT_TYPES = [
  "Microsoft.Communication.ChatMessageReceivedInThread",
  "Microsoft.Communication.ChatMessageEditedInThread",
  "Microsoft.Communication.ChatMessageDeletedInThread",
  "Microsoft.Communication.ChatThreadCreated",
  "Microsoft.Communication.ChatThreadDeleted",
  "Microsoft.Communication.ChatThreadPropertiesUpdated",
  "Microsoft.Communication.ChatThreadParticipantAdded",
  "Microsoft.Communication.ChatThreadParticipantRemoved",
] as const;

export const ACS_CHAT_EVENT_TYPES = [...ACS_CHAT_USER_EVENT_TYPES, ...ACS_CHAT_THREAD_EVENT_TYPES] as const;
export type AcsChatEventType = (typeof ACS_CHAT_EVENT_TYPES)[number];

export const SUBSCRIPTION_VALIDATION_EVENT_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent";

export type StringMap = Record<string, string>;

export interface AcsChatThreadParticipantProperties {
  displayName?: string;
  participantCommunicationIdentifier: CommunicationIdentifierModel;
  metadata?: StringMap;
}

/** AcsChatEventBaseProperties (per-user) / AcsChatEventInThreadBaseProperties (both fields required). */
export interface AcsChatEventBase {
  recipientCommunicationIdentifier?: CommunicationIdentifierModel;
  transactionId: string;
  threadId: string;
}

export interface AcsChatMessageEventData extends AcsChatEventBase {
  messageId: string;
  senderCommunicationIdentifier: CommunicationIdentifierModel;
  senderDisplayName?: string;
  composeTime?: string;
  /** Capitalised, unlike the REST API: "Text", "Html". */
  type: string;
  version?: number;
  messageBody?: string;
  metadata?: StringMap;
  editTime?: string;
  deleteTime?: string;
}

export interface AcsChatThreadEventData extends AcsChatEventBase {
  createTime?: string;
  version?: number;
  createdByCommunicationIdentifier?: CommunicationIdentifierModel;
  deletedByCommunicationIdentifier?: CommunicationIdentifierModel;
  editedByCommunicationIdentifier?: CommunicationIdentifierModel;
  properties?: Record<string, unknown>;
  metadata?: StringMap;
  participants?: AcsChatThreadParticipantProperties[];
  deleteTime?: string;
  editTime?: string;
}

export interface AcsChatParticipantEventData extends AcsChatEventBase {
  createTime?: string;
  version?: number;
  time?: string;
  addedByCommunicationIdentifier?: CommunicationIdentifierModel;
  participantAdded?: AcsChatThreadParticipantProperties;
  removedByCommunicationIdentifier?: CommunicationIdentifierModel;
  participantRemoved?: AcsChatThreadParticipantProperties;
}

export type AcsChatEventData = AcsChatMessageEventData | AcsChatThreadEventData | AcsChatParticipantEventData;

/** The Event Grid schema envelope; a delivery's body is a JSON array of these. */
export interface EventGridEvent<T = unknown> {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: T;
  dataVersion: string;
  metadataVersion: "1";
}

/** The CloudEvents 1.0 envelope (structured mode). */
export interface CloudEvent<T = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  subject?: string;
  type: string;
  time: string;
  data: T;
}

export interface SubscriptionValidationEventData {
  validationCode: string;
  /** Present when the subscriber may validate later by GETting this URL (manual handshake). */
  validationUrl?: string;
}
