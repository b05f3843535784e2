/**
 * Chat: the rules of threads, messages, participants and receipts, over the Store. No HTTP here;
 * every outcome is a value (records or a DomainError).
 */
import { LIMITS, makeThreadId, type ChatRetentionPolicy, type CommunicationError, type Metadata } from "@parley/protocol";
import { isStoreFailure, type MessageRecord, type ParticipantRecord, type ReadReceiptRecord, type Store, type ThreadRecord } from "../store/index.js";
import { DomainError, badRequest, forbidden, fromStoreFailure, notFound } from "../domain/errors.js";
import { allows, type ChatCaller } from "../domain/caller.js";
import type { Bus, EphemeralSignal } from "../realtime/bus.js";
import { checkDisplayName, checkMessageContent, checkMetadata, checkRetentionPolicy, checkTopic, firstError } from "./validation.js";

/** A participant as a request names it: `userId` is undefined when the identifier is no ACS user. */
export interface ParticipantInput {
  userId: string | undefined;
  /** The identifier's raw id as sent, used as the `target` of a per-participant error. */
  target: string;
  displayName?: string;
  shareHistoryTime?: number;
  metadata?: Metadata;
}

export interface CreateThreadRequest {
  topic: string;
  participants: ParticipantInput[];
  metadata?: Metadata;
  retentionPolicy?: ChatRetentionPolicy;
  idempotencyKey?: string;
}

export interface CreateThreadResult {
  thread: ThreadRecord;
  invalidParticipants: CommunicationError[];
}

export interface SendMessageRequest {
  content: string;
  type: "text" | "html";
  senderDisplayName?: string;
  metadata?: Metadata;
}

export interface ChatServiceDeps {
  store: Store;
  clock: () => number;
  uuid: () => string;
  /** Carries live-only signals (typing, read receipts) to connected participants. */
  bus?: Bus;
}

/** A participant without shareHistoryTime sees the whole history, as in ACS. */
const EPOCH = 0;

export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  // Threads ----------------------------------------------------------------------------------

  async createThread(caller: ChatCaller, request: CreateThreadRequest): Promise<CreateThreadResult | DomainError> {
    if (!allows(caller, "manageThreads")) return forbidden("The token's scopes do not allow creating chat threads.");
    const invalid = firstError(
      checkTopic(request.topic),
      checkMetadata(request.metadata, "metadata"),
      checkRetentionPolicy(request.retentionPolicy),
      this.checkBatch(request.participants),
    );
    if (invalid) return invalid;

    const { valid, rejected } = await this.resolveParticipants(request.participants);
    if (!valid.some((p) => p.userId === caller.userId)) valid.unshift({ userId: caller.userId, shareHistoryTime: EPOCH });
    if (valid.length > LIMITS.participantsPerThread) {
      return new DomainError("ParticipantLimitExceeded", `A chat thread can have at most ${LIMITS.participantsPerThread} participants.`, "participants");
    }

    const now = this.deps.clock();
    const thread: ThreadRecord = {
      id: makeThreadId(this.deps.uuid().replaceAll("-", "")),
      topic: request.topic,
      createdAt: now,
      createdBy: caller.userId,
      lastMessageAt: now,
      order: 0,
      ...(request.metadata && { metadata: request.metadata }),
      ...(request.retentionPolicy && { retentionPolicy: request.retentionPolicy }),
    };
    const result: CreateThreadResult = { thread, invalidParticipants: rejected };
    const outcome = await this.deps.store.createThread({
      thread: { ...thread, participants: valid },
      ...(request.idempotencyKey !== undefined && {
        idempotency: { scope: caller.userId, key: request.idempotencyKey, response: JSON.stringify(result) },
      }),
    });
    if ("replayed" in outcome) return JSON.parse(outcome.replayed) as CreateThreadResult;
    return { thread: outcome.created, invalidParticipants: rejected };
  }

  async getThread(caller: ChatCaller, threadId: string): Promise<ThreadRecord | DomainError> {
    const access = await this.access(caller, threadId);
    return isError(access) ? access : access.thread;
  }

  async listThreads(caller: ChatCaller, query: { beforeOrder?: number; startTime?: number; limit: number }): Promise<ThreadRecord[] | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    return this.deps.store.listThreads(caller.userId, {
      limit: query.limit,
      ...(query.beforeOrder !== undefined && { beforeOrder: query.beforeOrder }),
      ...(query.startTime !== undefined && { lastMessageNotBefore: query.startTime }),
    });
  }

  async updateThread(
    caller: ChatCaller,
    threadId: string,
    patch: { topic?: string; metadata?: Metadata; retentionPolicy?: ChatRetentionPolicy | null },
  ): Promise<ThreadRecord | DomainError> {
    if (!allows(caller, "manageThreads")) return forbidden("The token's scopes do not allow updating chat threads.");
    const invalid = firstError(
      patch.topic === undefined ? undefined : checkTopic(patch.topic),
      checkMetadata(patch.metadata, "metadata"),
      checkRetentionPolicy(patch.retentionPolicy),
    );
    if (invalid) return invalid;
    const updated = await this.deps.store.updateThread(threadId, caller.userId, patch, this.deps.clock());
    return isStoreFailure(updated) ? fromStoreFailure(updated, { threadId }) : updated;
  }

  async deleteThread(caller: ChatCaller, threadId: string): Promise<true | DomainError> {
    if (!allows(caller, "manageThreads")) return forbidden("The token's scopes do not allow deleting chat threads.");
    const thread = await this.deps.store.getThread(threadId);
    if (thread?.deletedAt !== undefined && (await this.deps.store.getParticipant(threadId, caller.userId))) return true;
    const deleted = await this.deps.store.deleteThread(threadId, caller.userId, this.deps.clock());
    return isStoreFailure(deleted) ? fromStoreFailure(deleted, { threadId }) : true;
  }

  // Messages ---------------------------------------------------------------------------------

  async sendMessage(caller: ChatCaller, threadId: string, request: SendMessageRequest): Promise<MessageRecord | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    const invalid = firstError(
      checkMessageContent(request.content),
      checkDisplayName(request.senderDisplayName, "senderDisplayName"),
      checkMetadata(request.metadata, "metadata"),
    );
    if (invalid) return invalid;
    const sent = await this.deps.store.sendMessage({
      threadId,
      senderId: caller.userId,
      type: request.type,
      content: request.content,
      at: this.deps.clock(),
      ...(request.senderDisplayName !== undefined && { senderDisplayName: request.senderDisplayName }),
      ...(request.metadata !== undefined && { metadata: request.metadata }),
    });
    return isStoreFailure(sent) ? fromStoreFailure(sent, { threadId }) : sent;
  }

  async getMessage(caller: ChatCaller, threadId: string, messageId: string): Promise<MessageRecord | DomainError> {
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    const message = await this.deps.store.getMessage(threadId, messageId);
    if (!message || message.createdAt < access.participant.shareHistoryTime) {
      return notFound(`Chat message ${messageId} was not found.`, "chatMessageId");
    }
    return message;
  }

  async listMessages(
    caller: ChatCaller,
    threadId: string,
    query: { beforeSequenceId?: number; startTime?: number; limit: number },
  ): Promise<MessageRecord[] | DomainError> {
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    return this.deps.store.listMessages(threadId, {
      limit: query.limit,
      notBefore: Math.max(query.startTime ?? EPOCH, access.participant.shareHistoryTime),
      ...(query.beforeSequenceId !== undefined && { beforeSequenceId: query.beforeSequenceId }),
    });
  }

  async updateMessage(
    caller: ChatCaller,
    threadId: string,
    messageId: string,
    patch: { content?: string; metadata?: Metadata },
  ): Promise<MessageRecord | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    if (patch.content === undefined && patch.metadata === undefined) return badRequest("Give content or metadata to update.");
    const invalid = firstError(
      patch.content === undefined ? undefined : checkMessageContent(patch.content),
      checkMetadata(patch.metadata, "metadata"),
    );
    if (invalid) return invalid;
    const updated = await this.deps.store.updateMessage(threadId, messageId, caller.userId, patch, this.deps.clock());
    return isStoreFailure(updated) ? fromStoreFailure(updated, { threadId, messageId }) : updated;
  }

  async deleteMessage(caller: ChatCaller, threadId: string, messageId: string): Promise<MessageRecord | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    const deleted = await this.deps.store.deleteMessage(threadId, messageId, caller.userId, this.deps.clock());
    return isStoreFailure(deleted) ? fromStoreFailure(deleted, { threadId, messageId }) : deleted;
  }

  // Participants -----------------------------------------------------------------------------

  async addParticipants(caller: ChatCaller, threadId: string, participants: ParticipantInput[]): Promise<CommunicationError[] | DomainError> {
    if (!allows(caller, "manageParticipants")) return forbidden("The token's scopes do not allow adding participants.");
    const invalid = this.checkBatch(participants);
    if (invalid) return invalid;
    if (participants.length === 0) return badRequest("participants must list at least one participant.", "participants");
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    const { valid, rejected } = await this.resolveParticipants(participants);
    if (valid.length > 0) {
      const added = await this.deps.store.addParticipants(threadId, caller.userId, valid, {
        at: this.deps.clock(),
        limit: LIMITS.participantsPerThread,
      });
      if (isStoreFailure(added)) return fromStoreFailure(added, { threadId });
    }
    return rejected;
  }

  async listParticipants(caller: ChatCaller, threadId: string, skip: number, limit: number): Promise<ParticipantRecord[] | DomainError> {
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    return this.deps.store.listParticipants(threadId, skip, limit);
  }

  async removeParticipant(caller: ChatCaller, threadId: string, userId: string): Promise<true | DomainError> {
    const self = userId === caller.userId;
    if (!self && !allows(caller, "manageParticipants")) return forbidden("The token's scopes do not allow removing participants.");
    if (!allows(caller, "use")) return noChatScope();
    const removed = await this.deps.store.removeParticipant(threadId, caller.userId, userId, this.deps.clock());
    return isStoreFailure(removed) ? fromStoreFailure(removed, { threadId }) : true;
  }

  // Ephemeral signals and receipts -----------------------------------------------------------

  async sendTyping(caller: ChatCaller, threadId: string, senderDisplayName?: string): Promise<true | DomainError> {
    const invalid = checkDisplayName(senderDisplayName, "senderDisplayName");
    if (invalid) return invalid;
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    await this.signal(threadId, {
      name: "typingIndicatorReceived",
      threadId,
      senderId: caller.userId,
      at: this.deps.clock(),
      ...(senderDisplayName !== undefined && { senderDisplayName }),
    });
    return true;
  }

  async sendReadReceipt(caller: ChatCaller, threadId: string, messageId: string): Promise<ReadReceiptRecord | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    const receipt = await this.deps.store.sendReadReceipt(threadId, caller.userId, messageId, this.deps.clock());
    if (isStoreFailure(receipt)) return fromStoreFailure(receipt, { threadId, messageId });
    const sender = await this.deps.store.getParticipant(threadId, caller.userId);
    await this.signal(threadId, {
      name: "readReceiptReceived",
      threadId,
      senderId: caller.userId,
      at: receipt.readAt,
      chatMessageId: receipt.messageId,
      ...(sender?.displayName !== undefined && { senderDisplayName: sender.displayName }),
    });
    return receipt;
  }

  async listReadReceipts(caller: ChatCaller, threadId: string, skip: number, limit: number): Promise<ReadReceiptRecord[] | DomainError> {
    const access = await this.access(caller, threadId);
    if (isError(access)) return access;
    return this.deps.store.listReadReceipts(threadId, skip, limit);
  }

  // Helpers ----------------------------------------------------------------------------------

  /** Sends a live-only signal to every participant's connections (the sender's other tabs too). */
  private async signal(threadId: string, signal: EphemeralSignal): Promise<void> {
    if (!this.deps.bus) return;
    const members = await this.deps.store.listParticipants(threadId, 0, LIMITS.participantsPerThread);
    await this.deps.bus.publish({ type: "ephemeral", userIds: members.map((m) => m.userId), signal });
  }

  /** The thread, if it exists and is not deleted, and the caller's place in it. */
  private async access(caller: ChatCaller, threadId: string): Promise<{ thread: ThreadRecord; participant: ParticipantRecord } | DomainError> {
    if (!allows(caller, "use")) return noChatScope();
    const thread = await this.deps.store.getThread(threadId);
    if (!thread || thread.deletedAt !== undefined) return notFound(`Chat thread ${threadId} was not found.`, "chatThreadId");
    const participant = await this.deps.store.getParticipant(threadId, caller.userId);
    if (!participant) return forbidden("The caller is not a participant of this chat thread.", "chatThreadId");
    return { thread, participant };
  }

  private checkBatch(participants: ParticipantInput[]): DomainError | undefined {
    if (participants.length > LIMITS.participantsPerBatch) {
      return new DomainError(
        "ParticipantLimitExceeded",
        `At most ${LIMITS.participantsPerBatch} participants can be added in one request; got ${participants.length}.`,
        "participants",
      );
    }
    return firstError(
      ...participants.flatMap((p) => [checkDisplayName(p.displayName, "displayName"), checkMetadata(p.metadata, "participant metadata")]),
    );
  }

  /**
   * Splits participants into the ones that can join and per-participant errors (ACS reports these
   * in `invalidParticipants` instead of failing the request). Duplicates collapse to the first.
   */
  private async resolveParticipants(inputs: ParticipantInput[]): Promise<{ valid: ParticipantRecord[]; rejected: CommunicationError[] }> {
    const valid = new Map<string, ParticipantRecord>();
    const rejected: CommunicationError[] = [];
    for (const input of inputs) {
      if (input.userId === undefined) {
        rejected.push({ code: "403", message: "Permissions check failed: only Azure Communication Services users can join.", target: input.target });
        continue;
      }
      if (valid.has(input.userId)) continue;
      const user = await this.deps.store.getUser(input.userId);
      if (!user || user.deletedAt !== undefined) {
        rejected.push({ code: "404", message: "Not found: no such identity.", target: input.target });
        continue;
      }
      valid.set(input.userId, {
        userId: input.userId,
        shareHistoryTime: input.shareHistoryTime ?? EPOCH,
        ...(input.displayName !== undefined && { displayName: input.displayName }),
        ...(input.metadata !== undefined && { metadata: input.metadata }),
      });
    }
    return { valid: [...valid.values()], rejected };
  }
}

function isError<T>(value: T | DomainError): value is DomainError {
  return value instanceof DomainError;
}

function noChatScope(): DomainError {
  return forbidden("The access token has no chat scope.");
}
