/**
 * In-memory Store for fast tests. Every operation runs to completion synchronously, so each one is
 * atomic without locks. Records handed out are copies: callers can never mutate stored state.
 */
import type { Store, CreateThreadInput, CreateThreadOutcome, MessagePatch, MessageQuery, NewUserMessage, StoreFailure, ThreadPatch, ThreadQuery } from "../store.js";
import type { DurableEventName } from "@parley/protocol";
import type { ChangeRecord, CommittedChange, EventData, EventRecord, EventsCommitted, MessageRecord, ParticipantRecord, ReadReceiptRecord, ThreadRecord, UserRecord } from "../records.js";
import { CommitListeners, withActor } from "../events.js";
import { retentionDeadline } from "../retention.js";
import { nextMessageId, nextMessageTime } from "../ids.js";
import { participantsAdded, participantsRemoved, topicUpdated, type SystemMessageDraft } from "../systemMessages.js";

interface ThreadState {
  record: ThreadRecord;
  /** Insertion order is join order. */
  participants: Map<string, ParticipantRecord>;
  messages: MessageRecord[];
  messagesById: Map<string, MessageRecord>;
  receipts: Map<string, ReadReceiptRecord & { sequenceId: number }>;
  lastMessageId?: string;
}

/** Records go in and out as deep copies: no caller ever holds a reference to stored state. */
const clone = <T>(value: T): T => structuredClone(value);

export class MemoryStore implements Store {
  readonly driver = "memory";
  private readonly users = new Map<string, UserRecord>();
  private readonly threads = new Map<string, ThreadState>();
  private readonly threadsByUser = new Map<string, Set<string>>();
  private readonly idempotency = new Map<string, { response: string; at: number }>();
  /** Each user's stream, as the feed filtered by membership would give it (seqs are feed seqs). */
  private readonly streams = new Map<string, EventRecord[]>();
  private readonly commits = new CommitListeners();
  private changes: ChangeRecord[] = [];
  private changeSeq = 0;
  private prunedSeq = 0;
  private order = 0;

  async close(): Promise<void> {}

  async createUser(user: UserRecord): Promise<void> {
    if (this.users.has(user.id)) throw new Error(`user ${user.id} already exists`);
    this.users.set(user.id, clone(user));
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    return user && clone(user);
  }

  async revokeTokens(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    if (!user || user.deletedAt !== undefined) return undefined;
    user.tokenEpoch += 1;
    return clone(user);
  }

  async deleteUser(id: string, at: number): Promise<boolean> {
    const user = this.users.get(id);
    if (!user || user.deletedAt !== undefined) return false;
    user.deletedAt = at;
    user.tokenEpoch += 1;
    return true;
  }

  async createThread(original: CreateThreadInput): Promise<CreateThreadOutcome> {
    const input = clone(original);
    const key = input.idempotency && `${input.idempotency.scope}\n${input.idempotency.key}`;
    if (key) {
      const seen = this.idempotency.get(key);
      if (seen) return { replayed: seen.response };
    }
    const { thread } = input;
    if (this.threads.has(thread.id)) throw new Error(`thread ${thread.id} already exists`);
    thread.participants = dedupe(thread.participants);
    const record: ThreadRecord = {
      id: thread.id,
      topic: thread.topic,
      createdAt: thread.createdAt,
      createdBy: thread.createdBy,
      metadata: thread.metadata,
      retentionPolicy: thread.retentionPolicy,
      lastMessageAt: thread.createdAt,
      order: ++this.order,
    };
    const state: ThreadState = { record, participants: new Map(), messages: [], messagesById: new Map(), receipts: new Map() };
    this.threads.set(thread.id, state);
    for (const p of thread.participants) this.join(state, p);
    this.appendSystem(state, participantsAdded(thread.participants, thread.createdBy), thread.createdAt);
    this.appendSystem(state, topicUpdated(thread.topic, thread.createdBy), thread.createdAt);
    this.emit(state, "chatThreadCreated", withActor({ thread: record, participants: thread.participants }, thread.participants, thread.createdBy), thread.createdAt);
    if (key && input.idempotency) this.idempotency.set(key, { response: input.idempotency.response, at: thread.createdAt });
    return { created: clone(record) };
  }

  async getThread(id: string): Promise<ThreadRecord | undefined> {
    const state = this.threads.get(id);
    return state && clone(state.record);
  }

  async listThreads(userId: string, query: ThreadQuery): Promise<ThreadRecord[]> {
    const ids = this.threadsByUser.get(userId) ?? new Set<string>();
    return [...ids]
      .map((id) => this.threads.get(id)!.record)
      .filter((t) => query.beforeOrder === undefined || t.order < query.beforeOrder)
      .filter((t) => query.lastMessageNotBefore === undefined || t.lastMessageAt >= query.lastMessageNotBefore)
      .sort((a, b) => b.order - a.order)
      .slice(0, query.limit)
      .map(clone);
  }

  async updateThread(threadId: string, actorId: string, original: ThreadPatch, at: number): Promise<ThreadRecord | StoreFailure> {
    const patch = clone(original);
    const state = this.memberThread(threadId, actorId);
    if ("failure" in state) return state;
    const record = state.record;
    if (patch.metadata !== undefined) record.metadata = patch.metadata;
    if (patch.retentionPolicy !== undefined) record.retentionPolicy = patch.retentionPolicy ?? undefined;
    if (patch.topic !== undefined && patch.topic !== record.topic) {
      record.topic = patch.topic;
      this.appendSystem(state, topicUpdated(patch.topic, actorId), at);
    }
    this.emit(state, "chatThreadPropertiesUpdated", withActor({ thread: record }, state.participants.values(), actorId), at);
    return clone(record);
  }

  async deleteThread(threadId: string, actorId: string, at: number): Promise<true | StoreFailure> {
    const state = this.memberThread(threadId, actorId);
    if ("failure" in state) return state;
    state.record.deletedAt = at;
    this.emit(state, "chatThreadDeleted", withActor({ thread: state.record }, state.participants.values(), actorId), at);
    return true;
  }

  async expireThreads(now: number): Promise<string[]> {
    const expired: string[] = [];
    for (const state of this.threads.values()) {
      const deadline = retentionDeadline(state.record);
      if (state.record.deletedAt !== undefined || deadline === undefined || deadline > now) continue;
      state.record.deletedAt = now;
      this.emit(state, "chatThreadDeleted", { thread: state.record }, now);
      expired.push(state.record.id);
    }
    return expired;
  }

  async getParticipant(threadId: string, userId: string): Promise<ParticipantRecord | undefined> {
    const p = this.threads.get(threadId)?.participants.get(userId);
    return p && clone(p);
  }

  async countParticipants(threadId: string): Promise<number> {
    return this.threads.get(threadId)?.participants.size ?? 0;
  }

  async listParticipants(threadId: string, skip: number, limit: number): Promise<ParticipantRecord[]> {
    const state = this.threads.get(threadId);
    return state ? [...state.participants.values()].slice(skip, skip + limit).map(clone) : [];
  }

  async addParticipants(
    threadId: string,
    actorId: string,
    participants: ParticipantRecord[],
    options: { at: number; limit: number },
  ): Promise<{ added: ParticipantRecord[] } | StoreFailure> {
    const state = this.memberThread(threadId, actorId);
    if ("failure" in state) return state;
    const fresh = dedupe(clone(participants)).filter((p) => !state.participants.has(p.userId));
    const current = state.participants.size;
    if (current + fresh.length > options.limit) {
      return { failure: "participantLimit", limit: options.limit, current, adding: fresh.length };
    }
    if (fresh.length === 0) return { added: [] };
    for (const p of fresh) this.join(state, p);
    this.appendSystem(state, participantsAdded(fresh, actorId), options.at);
    this.emit(state, "participantsAdded", withActor({ participants: fresh }, state.participants.values(), actorId), options.at);
    return { added: clone(fresh) };
  }

  async removeParticipant(threadId: string, actorId: string, userId: string, at: number): Promise<{ removed: boolean } | StoreFailure> {
    const state = this.memberThread(threadId, actorId);
    if ("failure" in state) return state;
    const participant = state.participants.get(userId);
    if (!participant) return { removed: false };
    const data = withActor({ participants: [participant] }, state.participants.values(), actorId);
    state.participants.delete(userId);
    state.receipts.delete(userId);
    this.threadsByUser.get(userId)?.delete(threadId);
    this.appendSystem(state, participantsRemoved([participant], actorId), at);
    this.emit(state, "participantsRemoved", data, at, [userId]);
    return { removed: true };
  }

  async sendMessage(original: NewUserMessage): Promise<MessageRecord | StoreFailure> {
    const message = clone(original);
    const state = this.memberThread(message.threadId, message.senderId);
    if ("failure" in state) return state;
    const sent = this.append(state, {
      type: message.type,
      content: { message: message.content },
      senderId: message.senderId,
      senderDisplayName: message.senderDisplayName,
      metadata: message.metadata,
    }, message.at);
    this.emit(state, "chatMessageReceived", { message: sent }, message.at);
    return clone(sent);
  }

  async getMessage(threadId: string, messageId: string): Promise<MessageRecord | undefined> {
    const m = this.threads.get(threadId)?.messagesById.get(messageId);
    return m && clone(m);
  }

  async listMessages(threadId: string, query: MessageQuery): Promise<MessageRecord[]> {
    const state = this.threads.get(threadId);
    if (!state) return [];
    const out: MessageRecord[] = [];
    // messages[i] has sequenceId i + 1: walk down from just below the cursor.
    const start = Math.min(state.messages.length, (query.beforeSequenceId ?? Infinity) - 1) - 1;
    for (let i = start; i >= 0 && out.length < query.limit; i--) {
      const m = state.messages[i]!;
      if (m.createdAt < query.notBefore) break;
      out.push(clone(m));
    }
    return out;
  }

  async updateMessage(threadId: string, messageId: string, actorId: string, original: MessagePatch, at: number): Promise<MessageRecord | StoreFailure> {
    const patch = clone(original);
    const found = this.ownMessage(threadId, messageId, actorId);
    if ("failure" in found) return found;
    if (found.deletedAt !== undefined) return { failure: "messageDeleted" };
    if (patch.content !== undefined) found.content = { ...found.content, message: patch.content };
    if (patch.metadata !== undefined) found.metadata = patch.metadata;
    found.editedAt = at;
    found.version = nextMessageId(found.version, at);
    this.emit(this.threads.get(threadId)!, "chatMessageEdited", { message: found }, at);
    return clone(found);
  }

  async deleteMessage(threadId: string, messageId: string, actorId: string, at: number): Promise<MessageRecord | StoreFailure> {
    const found = this.ownMessage(threadId, messageId, actorId);
    if ("failure" in found) return found;
    if (found.deletedAt === undefined) {
      found.deletedAt = at;
      found.version = nextMessageId(found.version, at);
      this.emit(this.threads.get(threadId)!, "chatMessageDeleted", { message: found }, at);
    }
    return clone(found);
  }

  async sendReadReceipt(threadId: string, userId: string, messageId: string, at: number): Promise<ReadReceiptRecord | StoreFailure> {
    const state = this.memberThread(threadId, userId);
    if ("failure" in state) return state;
    const message = state.messagesById.get(messageId);
    if (!message) return { failure: "messageNotFound" };
    const previous = state.receipts.get(userId);
    if (previous && previous.sequenceId >= message.sequenceId) return stripSeq(previous);
    const receipt = { userId, messageId, readAt: at, sequenceId: message.sequenceId };
    state.receipts.set(userId, receipt);
    return stripSeq(receipt);
  }

  async listReadReceipts(threadId: string, skip: number, limit: number): Promise<ReadReceiptRecord[]> {
    const state = this.threads.get(threadId);
    if (!state) return [];
    const inJoinOrder = [...state.participants.keys()].flatMap((id) => {
      const r = state.receipts.get(id);
      return r ? [stripSeq(r)] : [];
    });
    return inJoinOrder.slice(skip, skip + limit);
  }

  async purgeIdempotencyKeys(olderThan: number): Promise<number> {
    let purged = 0;
    for (const [key, entry] of this.idempotency) {
      if (entry.at < olderThan) {
        this.idempotency.delete(key);
        purged++;
      }
    }
    return purged;
  }

  async readEvents(userId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    const stream = this.streams.get(userId) ?? [];
    return stream.filter((e) => e.seq > afterSeq).slice(0, limit).map(clone);
  }

  async eventBounds(_userId: string): Promise<{ latest: number; pruned: number }> {
    return { latest: this.changeSeq, pruned: this.prunedSeq };
  }

  async readChanges(afterSeq: number, limit: number): Promise<ChangeRecord[]> {
    return this.changes.filter((c) => c.seq > afterSeq).slice(0, limit).map(clone);
  }

  async changesHead(): Promise<number> {
    return this.changeSeq;
  }

  async pruneEvents(olderThan: number): Promise<number> {
    const dropped = this.changes.filter((c) => c.at < olderThan);
    if (dropped.length === 0) return 0;
    this.prunedSeq = dropped.reduce((highest, c) => Math.max(highest, c.seq), this.prunedSeq);
    const before = this.changes.length;
    this.changes = this.changes.filter((c) => c.seq > this.prunedSeq);
    for (const [userId, stream] of this.streams) {
      const kept = stream.filter((e) => e.seq > this.prunedSeq);
      if (kept.length === 0) this.streams.delete(userId);
      else this.streams.set(userId, kept);
    }
    // Everything up to the highest pruned seq goes (as in SQLite), even a change stamped later.
    return before - this.changes.length;
  }

  onEventsCommitted(listener: (commit: EventsCommitted) => void): () => void {
    return this.commits.add(listener);
  }

  /** Appends one event to the feed, for every participant (and `extra` users). */
  private emit(state: ThreadState, name: DurableEventName, data: EventData, at: number, extra: string[] = []): void {
    const recipients = [...new Set([...state.participants.keys(), ...extra])];
    const snapshot = clone(data);
    const seq = ++this.changeSeq;
    for (const userId of recipients) {
      let stream = this.streams.get(userId);
      if (!stream) this.streams.set(userId, (stream = []));
      stream.push({ userId, seq, name, threadId: state.record.id, data: snapshot, at });
    }
    this.changes.push({ seq, name, threadId: state.record.id, data: snapshot, recipients, at });
    // Like a driver's post-commit hook: listeners hear after the operation has completed.
    const committed: CommittedChange = { seq, name, threadId: state.record.id, data: clone(snapshot), at, recipients: [...recipients] };
    queueMicrotask(() => this.commits.notify([committed]));
  }

  private memberThread(threadId: string, userId: string): ThreadState | StoreFailure {
    const state = this.threads.get(threadId);
    if (!state || state.record.deletedAt !== undefined) return { failure: "threadNotFound" };
    if (!state.participants.has(userId)) return { failure: "notMember" };
    return state;
  }

  private ownMessage(threadId: string, messageId: string, actorId: string): MessageRecord | StoreFailure {
    const state = this.memberThread(threadId, actorId);
    if ("failure" in state) return state;
    const message = state.messagesById.get(messageId);
    if (!message) return { failure: "messageNotFound" };
    if (message.senderId === undefined) return { failure: "systemMessage" };
    if (message.senderId !== actorId) return { failure: "notSender" };
    return message;
  }

  private join(state: ThreadState, participant: ParticipantRecord): void {
    state.participants.set(participant.userId, dropUndefined(clone(participant)));
    let mine = this.threadsByUser.get(participant.userId);
    if (!mine) this.threadsByUser.set(participant.userId, (mine = new Set()));
    mine.add(state.record.id);
  }

  private appendSystem(state: ThreadState, draft: SystemMessageDraft, at: number): MessageRecord {
    return this.append(state, { type: draft.type, content: draft.content }, at);
  }

  private append(state: ThreadState, fields: Pick<MessageRecord, "type" | "content" | "senderId" | "senderDisplayName" | "metadata">, now: number): MessageRecord {
    const previous = state.messages.at(-1);
    const id = nextMessageId(state.lastMessageId, now);
    const message: MessageRecord = {
      threadId: state.record.id,
      sequenceId: state.messages.length + 1,
      id,
      version: id,
      createdAt: nextMessageTime(previous?.createdAt, now),
      ...dropUndefined(fields),
    };
    state.messages.push(message);
    state.messagesById.set(id, message);
    state.lastMessageId = id;
    state.record.lastMessageAt = message.createdAt;
    return message;
  }
}

function stripSeq({ userId, messageId, readAt }: ReadReceiptRecord): ReadReceiptRecord {
  return { userId, messageId, readAt };
}

function dedupe(participants: ParticipantRecord[]): ParticipantRecord[] {
  const seen = new Map<string, ParticipantRecord>();
  for (const p of participants) if (!seen.has(p.userId)) seen.set(p.userId, p);
  return [...seen.values()];
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
