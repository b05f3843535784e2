/**
 * The Store: every read and every atomic write Parley needs, independent of the database.
 *
 * Writes are whole domain operations so each driver can make them atomic its own way (one SQLite
 * transaction, one PostgreSQL transaction). Preconditions that must hold at commit time (the thread
 * exists, the actor is a member) are checked inside the operation and come back as a `StoreFailure`
 * value, never as an exception. A resolved write promise means the write is durable.
 */
import type { ChatRetentionPolicy, Metadata } from "@parley/protocol";
import type {
  ChangeRecord,
  EventRecord,
  EventsCommitted,
  MessageRecord,
  ParticipantRecord,
  ReadReceiptRecord,
  ThreadRecord,
  UserRecord,
} from "./records.js";

export type StoreFailure =
  | { failure: "threadNotFound" }
  | { failure: "notMember" }
  | { failure: "messageNotFound" }
  | { failure: "messageDeleted" }
  | { failure: "notSender" }
  | { failure: "systemMessage" }
  | { failure: "participantLimit"; limit: number; current: number; adding: number };

export function isStoreFailure(value: unknown): value is StoreFailure {
  return typeof value === "object" && value !== null && "failure" in value;
}

export interface NewThread {
  id: string;
  topic: string;
  createdAt: number;
  createdBy: string;
  metadata?: Metadata;
  retentionPolicy?: ChatRetentionPolicy;
  participants: ParticipantRecord[];
}

export interface IdempotencyKey {
  /** Whose key it is: keys of different callers never collide. */
  scope: string;
  key: string;
}

export interface CreateThreadInput {
  thread: NewThread;
  /** The answer to replay when the same key comes again. */
  idempotency?: IdempotencyKey & { response: string };
}

export type CreateThreadOutcome = { created: ThreadRecord } | { replayed: string };

export interface NewUserMessage {
  threadId: string;
  senderId: string;
  senderDisplayName?: string;
  type: "text" | "html";
  content: string;
  metadata?: Metadata;
  at: number;
}

export interface ThreadPatch {
  topic?: string;
  metadata?: Metadata;
  retentionPolicy?: ChatRetentionPolicy | null;
}

export interface MessagePatch {
  content?: string;
  metadata?: Metadata;
}

export interface MessageQuery {
  /** Only messages with a sequenceId below this (newest first paging). */
  beforeSequenceId?: number;
  /** Only messages created at or after this time. */
  notBefore: number;
  limit: number;
}

export interface ThreadQuery {
  /** Only threads earlier in creation order than this `order`. */
  beforeOrder?: number;
  /** Only threads whose last message is at or after this time. */
  lastMessageNotBefore?: number;
  limit: number;
}

export interface Store {
  readonly driver: string;

  /** Waits for queued writes to commit, then releases the database. */
  close(): Promise<void>;

  // Identity
  createUser(user: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | undefined>;
  /** Bumps the token epoch; returns the updated user, or undefined for an unknown/deleted one. */
  revokeTokens(id: string): Promise<UserRecord | undefined>;
  /** Marks the user deleted (tokens die with it); false when there was no such live user. */
  deleteUser(id: string, at: number): Promise<boolean>;

  // Threads
  createThread(input: CreateThreadInput): Promise<CreateThreadOutcome>;
  getThread(id: string): Promise<ThreadRecord | undefined>;
  /** Threads the user is a participant of, newest created first. Deleted ones are included. */
  listThreads(userId: string, query: ThreadQuery): Promise<ThreadRecord[]>;
  /** Applies the patch and, when the topic changes, records a topicUpdated message. */
  updateThread(threadId: string, actorId: string, patch: ThreadPatch, at: number): Promise<ThreadRecord | StoreFailure>;
  deleteThread(threadId: string, actorId: string, at: number): Promise<true | StoreFailure>;
  /**
   * Deletes every live thread whose `threadCreationDate` retention policy has run out by `now`
   * (a chatThreadDeleted event with no actor goes to its participants). Returns their ids.
   */
  expireThreads(now: number): Promise<string[]>;

  // Participants
  getParticipant(threadId: string, userId: string): Promise<ParticipantRecord | undefined>;
  countParticipants(threadId: string): Promise<number>;
  /** Participants in the order they joined. */
  listParticipants(threadId: string, skip: number, limit: number): Promise<ParticipantRecord[]>;
  /**
   * Adds those not yet in the thread (others are left unchanged) and records one participantAdded
   * message listing the new ones. Fails whole if the thread would exceed `limit` participants.
   */
  addParticipants(
    threadId: string,
    actorId: string,
    participants: ParticipantRecord[],
    options: { at: number; limit: number },
  ): Promise<{ added: ParticipantRecord[] } | StoreFailure>;
  /** Removes the participant and records a participantRemoved message; removed=false if absent. */
  removeParticipant(threadId: string, actorId: string, userId: string, at: number): Promise<{ removed: boolean } | StoreFailure>;

  // Messages
  sendMessage(message: NewUserMessage): Promise<MessageRecord | StoreFailure>;
  getMessage(threadId: string, messageId: string): Promise<MessageRecord | undefined>;
  /** Newest first. */
  listMessages(threadId: string, query: MessageQuery): Promise<MessageRecord[]>;
  updateMessage(threadId: string, messageId: string, actorId: string, patch: MessagePatch, at: number): Promise<MessageRecord | StoreFailure>;
  deleteMessage(threadId: string, messageId: string, actorId: string, at: number): Promise<MessageRecord | StoreFailure>;

  // Read receipts: one read horizon per participant; it only moves forward.
  sendReadReceipt(threadId: string, userId: string, messageId: string, at: number): Promise<ReadReceiptRecord | StoreFailure>;
  /** Receipts of current participants, in the order participants joined. */
  listReadReceipts(threadId: string, skip: number, limit: number): Promise<ReadReceiptRecord[]>;

  /** Forgets idempotency keys older than the given time. */
  purgeIdempotencyKeys(olderThan: number): Promise<number>;

  // Event streams. Every write above appends its events to the global change feed in the same
  // transaction, once per event. A user's stream is the feed filtered by the user's memberships
  // (fan-out on read): the changes of each thread from the one that made them a member to the one
  // that removed them. Seqs are feed positions, so they increase along a stream but with gaps.

  /** The user's events with seq > afterSeq, oldest first. */
  readEvents(userId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
  /**
   * The newest seq in the feed, and the highest seq already pruned (events above it are all still
   * kept); the same for every user, so a cursor at or above `pruned` can be served.
   */
  eventBounds(userId: string): Promise<{ latest: number; pruned: number }>;
  /** Drops events (the change feed and ended memberships) older than the given time; returns how many. */
  pruneEvents(olderThan: number): Promise<number>;
  /**
   * The global change feed, for server-side consumers such as webhooks: every durable event once,
   * in commit order, with its recipients. Changes with seq > afterSeq, oldest first.
   */
  readChanges(afterSeq: number, limit: number): Promise<ChangeRecord[]>;
  /** The seq of the newest change ever appended (0 before the first), pruned or not. */
  changesHead(): Promise<number>;
  /**
   * Calls the listener after each commit that appended events (once it is durable), with the users
   * whose logs grew and the events themselves, so live consumers need not read back what was just
   * written. Returns an unsubscribe function.
   */
  onEventsCommitted(listener: (commit: EventsCommitted) => void): () => void;
}
