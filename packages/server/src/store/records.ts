/**
 * What the store keeps. Times are epoch milliseconds; users are raw ids (`8:acs:...`). The HTTP layer
 * turns these into wire models, so a driver never deals with JSON shapes of the API.
 */
import type { ChatMessageType, ChatRetentionPolicy, DurableEventName, Metadata } from "@parley/protocol";

export interface UserRecord {
  id: string;
  createdAt: number;
  deletedAt?: number;
  /** Bumped by revokeAccessTokens: tokens carrying an older epoch are refused. */
  tokenEpoch: number;
}

export interface ThreadRecord {
  id: string;
  topic: string;
  createdAt: number;
  createdBy: string;
  metadata?: Metadata;
  retentionPolicy?: ChatRetentionPolicy;
  deletedAt?: number;
  /** Time of the newest message, system messages included; the creation time before any. */
  lastMessageAt: number;
  /** Creation order across all threads; the keyset for listing threads. */
  order: number;
}

export interface ParticipantRecord {
  userId: string;
  displayName?: string;
  /** Messages created before this time are hidden from this participant. */
  shareHistoryTime: number;
  metadata?: Metadata;
}

/** A participant as it appears inside a participantAdded/participantRemoved system message. */
export type ParticipantSnapshot = ParticipantRecord;

export interface MessageContentRecord {
  message?: string;
  topic?: string;
  participants?: ParticipantSnapshot[];
  initiatorId?: string;
}

export interface MessageRecord {
  threadId: string;
  sequenceId: number;
  id: string;
  version: string;
  type: ChatMessageType;
  content: MessageContentRecord;
  senderId?: string;
  senderDisplayName?: string;
  metadata?: Metadata;
  createdAt: number;
  editedAt?: number;
  deletedAt?: number;
}

export interface ReadReceiptRecord {
  userId: string;
  messageId: string;
  readAt: number;
}

/**
 * One durable event as a user's event stream sees it. `seq` is the event's place in the global
 * change feed: it increases along a user's stream but has gaps (other users' events), so it is a
 * cursor, not a count. `data` is domain data; the gateway renders the wire event per recipient.
 */
export interface EventRecord {
  userId: string;
  seq: number;
  name: DurableEventName;
  threadId: string;
  data: EventData;
  at: number;
}

export interface EventData {
  /** The thread after the change (created, updated, deleted). */
  thread?: ThreadRecord;
  /** The message after the change (received, edited, deleted). */
  message?: MessageRecord;
  /** Participants created with the thread, added or removed. */
  participants?: ParticipantRecord[];
  /** Who did it, as a participant at the time. */
  actor?: ParticipantRecord;
}

/**
 * One durable event as a commit announces it: the payload once, with its seq in the change feed
 * and who receives it (the thread's members at that moment, and the removed one for a removal).
 * For a recipient, it is the EventRecord `{ userId, seq, name, threadId, data, at }`.
 */
export interface CommittedChange {
  seq: number;
  name: DurableEventName;
  threadId: string;
  data: EventData;
  at: number;
  recipients: readonly string[];
}

/** What a commit that appended events announces, in commit order. */
export interface EventsCommitted {
  /** The users whose streams got events. */
  userIds: string[];
  /** The changes appended, oldest first, with consecutive seqs; never empty. */
  changes: CommittedChange[];
}

/** One entry of the global change feed: every durable event once, with who it went to. */
export interface ChangeRecord {
  seq: number;
  name: DurableEventName;
  threadId: string;
  data: EventData;
  /** The users whose streams got this event. */
  recipients: string[];
  at: number;
}
