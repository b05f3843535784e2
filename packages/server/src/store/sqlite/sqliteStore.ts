/**
 * The default Store: embedded SQLite through better-sqlite3 (database.ts: WAL, commits flushed to
 * disk off the event loop before they are acknowledged), writes batched by GroupCommit. Reads run
 * directly on prepared statements; all lists are keyset or
 * index-range queries, so a page from deep history costs what a page from a new thread costs.
 */
import type { Database as Db, Statement } from "better-sqlite3";
import type { Metadata } from "@parley/protocol";
import type {
  CreateThreadInput,
  CreateThreadOutcome,
  MessagePatch,
  MessageQuery,
  NewUserMessage,
  Store,
  StoreFailure,
  ThreadPatch,
  ThreadQuery,
} from "../store.js";
import type { DurableEventName } from "@parley/protocol";
import type { ChangeRecord, CommittedChange, EventData, EventRecord, EventsCommitted, MessageContentRecord, MessageRecord, ParticipantRecord, ReadReceiptRecord, ThreadRecord, UserRecord } from "../records.js";
import { CommitListeners, withActor } from "../events.js";
import { retentionDeadline } from "../retention.js";
import { nextMessageId, nextMessageTime } from "../ids.js";
import { participantsAdded, participantsRemoved, topicUpdated, type SystemMessageDraft } from "../systemMessages.js";
import { GroupCommit } from "./groupCommit.js";
import { MIGRATIONS } from "./migrations.js";
import { openDatabase } from "./database.js";
import type { BackgroundCheckpoints } from "./checkpoints.js";
import { NO_DURABILITY, type Durability } from "./walSync.js";
import { setBounded } from "../../boundedMap.js";

interface ThreadRow {
  ord: number;
  id: string;
  topic: string;
  created_at: number;
  created_by: string;
  metadata: string | null;
  retention_policy: string | null;
  deleted_at: number | null;
  last_message_at: number;
  last_sequence_id: number;
  last_message_id: string | null;
}

interface ParticipantRow {
  user_id: string;
  display_name: string | null;
  share_history_time: number;
  metadata: string | null;
}

/** Feed seqs one stream read covers per query, at first and at most (see readEvents). */
const READ_WINDOW_MIN = 4096;
const READ_WINDOW_MAX = 65536;
/** Windows this narrow always scan the feed (cheaper than counting the user's memberships). */
const FEED_SCAN_ALWAYS = 64;
/**
 * A feed row costs about a quarter of a membership's probe (measured, 1,000 threads and 100k
 * changes: scanning 4,096 rows 0.5-1 ms; walking 500 / 1,000 memberships 0.46 / 0.9 ms), so the
 * feed is scanned while the window has at most this many rows per membership.
 */
const FEED_ROWS_PER_MEMBERSHIP = 4;

/** Threads whose member ids emit keeps in memory (each announcement lists its recipients). */
const MEMBER_LISTS_CACHED = 10_000;

/** A message row's columns as every message query selects them (page tuples keep this order). */
const messageCols = "sequence_id, id, version, type, content, sender_id, sender_display_name, metadata, created_at, edited_at, deleted_at";

interface MessageRow {
  sequence_id: number;
  id: string;
  version: string;
  type: MessageRecord["type"];
  content: string;
  sender_id: string | null;
  sender_display_name: string | null;
  metadata: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export interface SqliteStoreOptions {
  /** Database file path, or ":memory:". */
  path: string;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { db, durability, checkpoints } = openDatabase({ path: options.path, migrations: MIGRATIONS, what: "database", backgroundCheckpoints: true });
  return new SqliteStore(db, durability, checkpoints);
}

export class SqliteStore implements Store {
  readonly driver = "sqlite";
  private readonly writes: GroupCommit;
  private readonly sql: ReturnType<typeof prepare>;
  private readonly commits = new CommitListeners();
  /** Events appended by the batch being written; announced once it is durable. */
  private appended: CommittedChange[] = [];
  /**
   * Member ids by thread ord, as of the last committed membership change: a send to a 50-member
   * thread otherwise reads 50 rows to announce itself. Writes that change membership drop their
   * thread's entry; a write or batch that is rolled back drops them all (it may have cached what it
   * then undid).
   */
  private readonly memberIds = new Map<number, readonly string[]>();

  constructor(
    private readonly db: Db,
    private readonly durability: Durability = NO_DURABILITY,
    private readonly checkpoints?: BackgroundCheckpoints,
  ) {
    this.writes = new GroupCommit(
      db,
      {
        committed: () => {
          this.checkpoints?.committed();
          const changes = this.appended;
          this.appended = [];
          // Listeners (real-time delivery, webhooks) hear of events only once they are on disk.
          return () => this.commits.notify(changes);
        },
        // The batch's writes are undone (and maybe run again): so are the events they appended.
        rolledBack: () => {
          this.appended = [];
          this.memberIds.clear();
        },
      },
      durability,
    );
    this.sql = prepare(db);
  }

  async close(): Promise<void> {
    await this.writes.drained();
    this.durability.close();
    await this.checkpoints?.close();
    if (this.db.open) this.db.close();
  }

  // Identity ---------------------------------------------------------------------------------

  createUser(user: UserRecord): Promise<void> {
    return this.write(() => {
      this.sql.insertUser.run(user.id, user.createdAt, user.tokenEpoch);
    });
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.sql.getUser.get(id) as { id: string; created_at: number; deleted_at: number | null; token_epoch: number } | undefined;
    return row && { id: row.id, createdAt: row.created_at, tokenEpoch: row.token_epoch, ...opt("deletedAt", row.deleted_at) };
  }

  revokeTokens(id: string): Promise<UserRecord | undefined> {
    return this.write(() => {
      if (this.sql.revokeTokens.run(id).changes === 0) return undefined;
      const row = this.sql.getUser.get(id) as { id: string; created_at: number; token_epoch: number };
      return { id: row.id, createdAt: row.created_at, tokenEpoch: row.token_epoch };
    });
  }

  deleteUser(id: string, at: number): Promise<boolean> {
    return this.write(() => this.sql.deleteUser.run(at, id).changes > 0);
  }

  // Threads ----------------------------------------------------------------------------------

  createThread(input: CreateThreadInput): Promise<CreateThreadOutcome> {
    return this.write(() => {
      const key = input.idempotency;
      if (key) {
        const seen = this.sql.getIdempotency.get(key.scope, key.key) as { response: string } | undefined;
        if (seen) return { replayed: seen.response };
      }
      const t = { ...input.thread, participants: firstOfEach(input.thread.participants) };
      const ord = Number(
        this.sql.insertThread.run(t.id, t.topic, t.createdAt, t.createdBy, json(t.metadata), json(t.retentionPolicy), t.createdAt).lastInsertRowid,
      );
      const from = this.nextChangeSeq();
      for (const p of t.participants) this.join(ord, p, from);
      const row = this.sql.getThreadByOrd.get(ord) as ThreadRow;
      this.appendSystem(row, participantsAdded(t.participants, t.createdBy), t.createdAt);
      this.appendSystem(row, topicUpdated(t.topic, t.createdBy), t.createdAt);
      if (key) this.sql.insertIdempotency.run(key.scope, key.key, key.response, t.createdAt);
      const created = toThread(row); // as appended to, so as stored
      this.emit(ord, t.id, "chatThreadCreated", withActor({ thread: created, participants: t.participants }, t.participants, t.createdBy), t.createdAt);
      return { created };
    });
  }

  async getThread(id: string): Promise<ThreadRecord | undefined> {
    const row = this.sql.getThread.get(id) as ThreadRow | undefined;
    return row && toThread(row);
  }

  async listThreads(userId: string, query: ThreadQuery): Promise<ThreadRecord[]> {
    const rows = this.sql.listThreads.all(
      userId,
      query.beforeOrder ?? Number.MAX_SAFE_INTEGER,
      query.lastMessageNotBefore ?? Number.MIN_SAFE_INTEGER,
      query.limit,
    ) as ThreadRow[];
    return rows.map(toThread);
  }

  updateThread(threadId: string, actorId: string, patch: ThreadPatch, at: number): Promise<ThreadRecord | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(threadId, actorId);
      if ("failure" in thread) return thread;
      if (patch.metadata !== undefined) this.sql.setThreadMetadata.run(json(patch.metadata), thread.ord);
      if (patch.retentionPolicy !== undefined) this.sql.setThreadRetention.run(json(patch.retentionPolicy ?? undefined), thread.ord);
      if (patch.topic !== undefined && patch.topic !== thread.topic) {
        this.sql.setThreadTopic.run(patch.topic, thread.ord);
        this.appendSystem(thread, topicUpdated(patch.topic, actorId), at);
      }
      const updated = toThread(this.sql.getThreadByOrd.get(thread.ord) as ThreadRow);
      this.emit(thread.ord, threadId, "chatThreadPropertiesUpdated", withActor({ thread: updated }, this.participantsOf(thread.ord), actorId), at);
      return updated;
    });
  }

  deleteThread(threadId: string, actorId: string, at: number): Promise<true | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(threadId, actorId);
      if ("failure" in thread) return thread;
      this.sql.deleteThread.run(at, thread.ord);
      const deleted = toThread(this.sql.getThreadByOrd.get(thread.ord) as ThreadRow);
      this.emitDeletion(thread.ord, threadId, withActor({ thread: deleted }, this.participantsOf(thread.ord), actorId), at);
      return true as const;
    });
  }

  expireThreads(now: number): Promise<string[]> {
    return this.write(() => {
      const expired: string[] = [];
      for (const row of this.sql.threadsWithRetention.all() as ThreadRow[]) {
        const thread = toThread(row);
        const deadline = retentionDeadline(thread);
        if (deadline === undefined || deadline > now) continue;
        this.sql.deleteThread.run(now, row.ord);
        this.emitDeletion(row.ord, row.id, { thread: { ...thread, deletedAt: now } }, now);
        expired.push(row.id);
      }
      return expired;
    });
  }

  // Participants -----------------------------------------------------------------------------

  async getParticipant(threadId: string, userId: string): Promise<ParticipantRecord | undefined> {
    const row = this.sql.getParticipant.get(threadId, userId) as ParticipantRow | undefined;
    return row && toParticipant(row);
  }

  async countParticipants(threadId: string): Promise<number> {
    return (this.sql.countParticipants.get(threadId) as { n: number }).n;
  }

  async listParticipants(threadId: string, skip: number, limit: number): Promise<ParticipantRecord[]> {
    return (this.sql.listParticipants.all(threadId, limit, skip) as ParticipantRow[]).map(toParticipant);
  }

  addParticipants(
    threadId: string,
    actorId: string,
    participants: ParticipantRecord[],
    options: { at: number; limit: number },
  ): Promise<{ added: ParticipantRecord[] } | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(threadId, actorId);
      if ("failure" in thread) return thread;
      const unique = new Map<string, ParticipantRecord>();
      for (const p of participants) if (!unique.has(p.userId)) unique.set(p.userId, p); // first one wins, as in memory
      const fresh = [...unique.values()].filter((p) => !this.sql.isParticipant.get(thread.ord, p.userId));
      const current = (this.sql.countParticipantsByOrd.get(thread.ord) as { n: number }).n;
      if (current + fresh.length > options.limit) {
        return { failure: "participantLimit" as const, limit: options.limit, current, adding: fresh.length };
      }
      if (fresh.length === 0) return { added: [] };
      const from = this.nextChangeSeq();
      for (const p of fresh) this.join(thread.ord, p, from);
      this.appendSystem(thread, participantsAdded(fresh, actorId), options.at);
      this.emit(thread.ord, threadId, "participantsAdded", withActor({ participants: fresh }, this.participantsOf(thread.ord), actorId), options.at);
      return { added: fresh };
    });
  }

  removeParticipant(threadId: string, actorId: string, userId: string, at: number): Promise<{ removed: boolean } | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(threadId, actorId);
      if ("failure" in thread) return thread;
      const row = this.sql.getParticipantByOrd.get(thread.ord, userId) as ParticipantRow | undefined;
      if (!row) return { removed: false };
      const data = withActor({ participants: [toParticipant(row)] }, this.participantsOf(thread.ord), actorId);
      this.sql.removeParticipant.run(thread.ord, userId);
      this.memberIds.delete(thread.ord);
      this.sql.removeReceipt.run(thread.ord, userId);
      this.appendSystem(thread, participantsRemoved([toParticipant(row)], actorId), at);
      // Their removal is the last change they receive from this thread.
      const removal = this.emit(thread.ord, threadId, "participantsRemoved", data, at, [userId]);
      this.sql.endMembership.run(removal, userId, thread.ord);
      return { removed: true };
    });
  }

  // Messages ---------------------------------------------------------------------------------

  sendMessage(message: NewUserMessage): Promise<MessageRecord | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(message.threadId, message.senderId);
      if ("failure" in thread) return thread;
      const sent = this.append(thread, {
        type: message.type,
        content: { message: message.content },
        senderId: message.senderId,
        senderDisplayName: message.senderDisplayName,
        metadata: message.metadata,
      }, message.at);
      this.emit(thread.ord, message.threadId, "chatMessageReceived", { message: sent }, message.at);
      return sent;
    });
  }

  async getMessage(threadId: string, messageId: string): Promise<MessageRecord | undefined> {
    const row = this.sql.getMessage.get(threadId, messageId) as MessageRow | undefined;
    return row && toMessage(threadId, row);
  }

  async listMessages(threadId: string, query: MessageQuery): Promise<MessageRecord[]> {
    const thread = this.sql.threadSequence.get(threadId) as { ord: number; last: number } | undefined;
    if (thread === undefined) return [];
    const { ord } = thread;
    // Creation time never decreases along the sequence, so "created at or after T" is a sequence
    // range: find where it starts, then read one range of the primary key.
    let lowest = 0;
    if (query.notBefore > 0) {
      const first = this.sql.firstSequenceAt.get({ ord, last: thread.last, time: query.notBefore }) as number | undefined;
      if (first === undefined) return [];
      lowest = first;
    }
    const page = this.sql.listMessagesPage.get(ord, query.beforeSequenceId ?? Number.MAX_SAFE_INTEGER, lowest, query.limit) as string;
    return messagesFromPage(page).map((row) => toMessage(threadId, row));
  }

  updateMessage(threadId: string, messageId: string, actorId: string, patch: MessagePatch, at: number): Promise<MessageRecord | StoreFailure> {
    return this.write(() => {
      const found = this.ownMessage(threadId, messageId, actorId);
      if ("failure" in found) return found;
      const { ord, row } = found;
      if (row.deleted_at !== null) return { failure: "messageDeleted" as const };
      const content: MessageContentRecord = JSON.parse(row.content);
      if (patch.content !== undefined) content.message = patch.content;
      const version = nextMessageId(row.version, at);
      const metadata = patch.metadata !== undefined ? json(patch.metadata) : row.metadata;
      this.sql.editMessage.run(JSON.stringify(content), metadata, at, version, ord, row.sequence_id);
      const edited = toMessage(threadId, this.sql.getMessageBySeq.get(ord, row.sequence_id) as MessageRow);
      this.emit(ord, threadId, "chatMessageEdited", { message: edited }, at);
      return edited;
    });
  }

  deleteMessage(threadId: string, messageId: string, actorId: string, at: number): Promise<MessageRecord | StoreFailure> {
    return this.write(() => {
      const found = this.ownMessage(threadId, messageId, actorId);
      if ("failure" in found) return found;
      const { ord, row } = found;
      const deleting = row.deleted_at === null;
      if (deleting) this.sql.markMessageDeleted.run(at, nextMessageId(row.version, at), ord, row.sequence_id);
      const deleted = toMessage(threadId, this.sql.getMessageBySeq.get(ord, row.sequence_id) as MessageRow);
      if (deleting) this.emit(ord, threadId, "chatMessageDeleted", { message: deleted }, at);
      return deleted;
    });
  }

  // Read receipts ----------------------------------------------------------------------------

  sendReadReceipt(threadId: string, userId: string, messageId: string, at: number): Promise<ReadReceiptRecord | StoreFailure> {
    return this.write(() => {
      const thread = this.memberThread(threadId, userId);
      if ("failure" in thread) return thread;
      const message = this.sql.getMessageSeq.get(thread.ord, messageId) as { sequence_id: number } | undefined;
      if (!message) return { failure: "messageNotFound" as const };
      this.sql.upsertReceipt.run(thread.ord, userId, messageId, message.sequence_id, at);
      const row = this.sql.getReceipt.get(thread.ord, userId) as { message_id: string; read_at: number };
      return { userId, messageId: row.message_id, readAt: row.read_at };
    });
  }

  async listReadReceipts(threadId: string, skip: number, limit: number): Promise<ReadReceiptRecord[]> {
    const rows = this.sql.listReceipts.all(threadId, limit, skip) as Array<{ user_id: string; message_id: string; read_at: number }>;
    return rows.map((r) => ({ userId: r.user_id, messageId: r.message_id, readAt: r.read_at }));
  }

  purgeIdempotencyKeys(olderThan: number): Promise<number> {
    return this.write(() => this.sql.purgeIdempotency.run(olderThan).changes);
  }

  // Event logs -------------------------------------------------------------------------------

  /**
   * Reads the feed in windows of seqs, each one of two ways, whichever touches fewer rows:
   * - a short window (the common case: a live reader a few changes behind) scans the feed's rows in
   *   it and keeps those of threads the user belonged to then (one membership probe per row);
   * - a long one walks the user's memberships and each one's thread on changes_by_thread, then
   *   merges by seq (one probe per membership), so a far-behind reader in a few threads does not
   *   scan everyone's changes.
   * Windows bound the merge (SQLite sorts every match in the range before the LIMIT): a user in many
   * busy threads, back after a long absence, would otherwise sort all of it for every batch. A
   * window that finds little grows, up to READ_WINDOW_MAX.
   */
  async readEvents(userId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    const head = this.head();
    const events: EventRecord[] = [];
    let memberships: number | undefined;
    let from = afterSeq;
    let span = READ_WINDOW_MIN;
    while (events.length < limit && from < head) {
      const to = Math.min(head, from + span);
      const wanted = limit - events.length;
      const width = to - from;
      const scanFeed = width <= FEED_SCAN_ALWAYS || width <= FEED_ROWS_PER_MEMBERSHIP * (memberships ??= this.sql.countMemberships.get(userId, afterSeq) as number);
      const query = scanFeed ? this.sql.readEventsFromFeed : this.sql.readEventsByMembership;
      const rows = query.all({ user: userId, after: from, upto: to, limit: wanted }) as Array<[number, DurableEventName, string, string, number]>;
      for (const [seq, name, threadId, data, at] of rows) events.push({ userId, seq, name, threadId, data: JSON.parse(data) as EventData, at });
      if (rows.length === wanted) break; // full: the window may hold more, the caller continues from the last
      from = to;
      if (rows.length < wanted / 2) span = Math.min(span * 2, READ_WINDOW_MAX);
    }
    return events;
  }

  async eventBounds(_userId: string): Promise<{ latest: number; pruned: number }> {
    return { latest: this.head(), pruned: this.sql.prunedSeq.get() as number };
  }

  pruneEvents(olderThan: number): Promise<number> {
    return this.write(() => {
      const cutoff = this.lastChangeBefore(olderThan);
      if (cutoff === undefined) return 0;
      this.sql.setPrunedSeq.run(cutoff);
      const memberships = this.sql.pruneMemberships.run(cutoff).changes;
      return this.sql.pruneChanges.run(cutoff).changes + memberships;
    });
  }

  async readChanges(afterSeq: number, limit: number): Promise<ChangeRecord[]> {
    const rows = this.sql.readChanges.all(afterSeq, limit) as Array<{ seq: number; name: DurableEventName; thread_id: string; thread_ord: number | null; data: string; recipients: string; at: number }>;
    return rows.map((r) => ({
      seq: r.seq,
      name: r.name,
      threadId: r.thread_id,
      data: JSON.parse(r.data) as EventData,
      // Changes from before migration 5 stored their recipients; later ones have members instead.
      recipients: r.thread_ord === null ? (JSON.parse(r.recipients) as string[]) : (this.sql.membersAt.all(r.thread_ord, r.seq, r.seq) as string[]),
      at: r.at,
    }));
  }

  async changesHead(): Promise<number> {
    return this.head();
  }

  onEventsCommitted(listener: (commit: EventsCommitted) => void): () => void {
    return this.commits.add(listener);
  }

  // Helpers that run inside a write ----------------------------------------------------------

  /**
   * Appends one event to the change feed, in this transaction: one row, whatever the thread's size.
   * Its recipients are the thread's members (and `extra` users), who read it through their
   * memberships; they are listed only in the commit announcement. Returns the change's seq.
   */
  private emit(ord: number, threadId: string, name: DurableEventName, data: EventData, at: number, extra: string[] = []): number {
    const members = this.membersOf(ord);
    const recipients = extra.length === 0 ? members : [...new Set([...members, ...extra])];
    const seq = Number(this.sql.insertChange.run(name, threadId, ord, JSON.stringify(data), at).lastInsertRowid);
    this.appended.push({ seq, name, threadId, data, at, recipients });
    return seq;
  }

  /** A thread's deletion is the last change its members receive from it: their memberships end there. */
  private emitDeletion(ord: number, threadId: string, data: EventData, at: number): void {
    const deletion = this.emit(ord, threadId, "chatThreadDeleted", data, at);
    this.sql.endThreadMemberships.run(deletion, ord);
  }

  /** The seq the next change will get (AUTOINCREMENT: one past the highest ever given). */
  private nextChangeSeq(): number {
    return this.head() + 1;
  }

  private head(): number {
    return (this.sql.changesHead.get() as number | undefined) ?? 0;
  }

  /**
   * The highest seq of a change older than `time`, found by bisecting the primary key: 'at' follows
   * seq (a later change never carries an earlier time, barring clock steps, which only shift the
   * cutoff by those few changes). Undefined when no change is that old.
   */
  private lastChangeBefore(time: number): number | undefined {
    const atOrAfter = (seq: number) => this.sql.changeAtOrAfter.get(seq) as [number, number] | undefined;
    const first = atOrAfter(0);
    if (!first || first[1] >= time) return undefined;
    let lo = first[0]; // at < time
    let hi = this.head() + 1; // treated as at >= time
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const row = atOrAfter(mid);
      if (!row || row[0] >= hi) hi = mid;
      else if (row[1] < time) lo = row[0];
      else hi = row[0];
    }
    return lo;
  }

  /**
   * Every write goes through here: a write that throws is rolled back alone (its savepoint), so the
   * events it appended must not be announced with the rest of its batch.
   */
  private write<T>(run: () => T): Promise<T> {
    return this.writes.write(() => {
      const mark = this.appended.length;
      try {
        return run();
      } catch (error) {
        this.appended.length = mark;
        this.memberIds.clear();
        throw error;
      }
    });
  }

  private participantsOf(ord: number): ParticipantRecord[] {
    return (this.sql.listParticipantsByOrd.all(ord) as ParticipantRow[]).map(toParticipant);
  }

  /**
   * The thread, if it exists and the user is in it: one statement, as every write starts here. The
   * row keeps its `member` column (nothing reads it past here; copying the row without it cost
   * every write an object rest).
   */
  private memberThread(threadId: string, userId: string): ThreadRow | StoreFailure {
    const found = this.sql.getThreadForMember.get(userId, threadId) as (ThreadRow & { member: 0 | 1 }) | undefined;
    if (!found || found.deleted_at !== null) return { failure: "threadNotFound" };
    if (!found.member) return { failure: "notMember" };
    return found;
  }

  private ownMessage(threadId: string, messageId: string, actorId: string): { ord: number; row: MessageRow } | StoreFailure {
    const thread = this.memberThread(threadId, actorId);
    if ("failure" in thread) return thread;
    const row = this.sql.getMessageByOrd.get(thread.ord, messageId) as MessageRow | undefined;
    if (!row) return { failure: "messageNotFound" };
    if (row.sender_id === null) return { failure: "systemMessage" };
    if (row.sender_id !== actorId) return { failure: "notSender" };
    return { ord: thread.ord, row };
  }

  /** The thread's member ids, from memberIds or read (and kept) there. */
  private membersOf(ord: number): readonly string[] {
    let members = this.memberIds.get(ord);
    if (members === undefined) {
      members = this.sql.participantIds.all(ord) as string[];
      setBounded(this.memberIds, ord, members, MEMBER_LISTS_CACHED);
    }
    return members;
  }

  /** `from`: the seq of the first change the new member receives (the one announcing them). */
  private join(ord: number, p: ParticipantRecord, from: number): void {
    this.memberIds.delete(ord);
    this.sql.insertParticipant.run(ord, p.userId, p.displayName ?? null, p.shareHistoryTime, json(p.metadata));
    this.sql.insertMembership.run(p.userId, ord, from);
  }

  private appendSystem(thread: ThreadRow, draft: SystemMessageDraft, at: number): MessageRecord {
    return this.append(thread, { type: draft.type, content: draft.content }, at);
  }

  /**
   * Appends a message to `thread`, a row read in this write, and advances the row too (so a write
   * that appends twice, like a thread's creation, reads its thread once).
   */
  private append(
    thread: ThreadRow,
    fields: Pick<MessageRecord, "type" | "content" | "senderId" | "senderDisplayName" | "metadata">,
    now: number,
  ): MessageRecord {
    const ord = thread.ord;
    const sequenceId = thread.last_sequence_id + 1;
    const id = nextMessageId(thread.last_message_id ?? undefined, now);
    const createdAt = nextMessageTime(thread.last_sequence_id > 0 ? thread.last_message_at : undefined, now);
    this.sql.insertMessage.run(
      ord,
      sequenceId,
      id,
      id,
      fields.type,
      JSON.stringify(fields.content),
      fields.senderId ?? null,
      fields.senderDisplayName ?? null,
      json(fields.metadata),
      createdAt,
    );
    this.sql.advanceThread.run(sequenceId, id, createdAt, ord);
    thread.last_sequence_id = sequenceId;
    thread.last_message_id = id;
    thread.last_message_at = createdAt;
    return toMessage(thread.id, {
      sequence_id: sequenceId,
      id,
      version: id,
      type: fields.type,
      content: JSON.stringify(fields.content),
      sender_id: fields.senderId ?? null,
      sender_display_name: fields.senderDisplayName ?? null,
      metadata: json(fields.metadata),
      created_at: createdAt,
      edited_at: null,
      deleted_at: null,
    });
  }
}

function prepare(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  const threadCols = "ord, id, topic, created_at, created_by, metadata, retention_policy, deleted_at, last_message_at, last_sequence_id, last_message_id";
  // f((lo + hi) / 2) for firstSequenceAt: one seek; each bisection step evaluates it twice (once per CASE).
  const probe = "(SELECT created_at FROM messages WHERE thread_ord = :ord AND sequence_id >= (lo + hi) / 2 ORDER BY sequence_id LIMIT 1)";
  const participantCols = "user_id, display_name, share_history_time, metadata";
  return {
    insertUser: s("INSERT INTO users (id, created_at, token_epoch) VALUES (?, ?, ?)"),
    getUser: s("SELECT id, created_at, deleted_at, token_epoch FROM users WHERE id = ?"),
    revokeTokens: s("UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ? AND deleted_at IS NULL"),
    deleteUser: s("UPDATE users SET deleted_at = ?, token_epoch = token_epoch + 1 WHERE id = ? AND deleted_at IS NULL"),

    insertThread: s(
      "INSERT INTO threads (id, topic, created_at, created_by, metadata, retention_policy, last_message_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    getThread: s(`SELECT ${threadCols} FROM threads WHERE id = ?`),
    getThreadByOrd: s(`SELECT ${threadCols} FROM threads WHERE ord = ?`),
    getThreadForMember: s(
      `SELECT ${threadCols}, EXISTS (SELECT 1 FROM participants p WHERE p.thread_ord = threads.ord AND p.user_id = ?) AS member FROM threads WHERE id = ?`,
    ),
    threadSequence: s("SELECT ord, last_sequence_id AS last FROM threads WHERE id = ?"),
    listThreads: s(
      `SELECT ${threadCols.split(", ").map((c) => "t." + c).join(", ")} FROM participants p JOIN threads t ON t.ord = p.thread_ord
       WHERE p.user_id = ? AND p.thread_ord < ? AND t.last_message_at >= ? ORDER BY p.thread_ord DESC LIMIT ?`,
    ),
    setThreadTopic: s("UPDATE threads SET topic = ? WHERE ord = ?"),
    setThreadMetadata: s("UPDATE threads SET metadata = ? WHERE ord = ?"),
    setThreadRetention: s("UPDATE threads SET retention_policy = ? WHERE ord = ?"),
    deleteThread: s("UPDATE threads SET deleted_at = ? WHERE ord = ?"),
    threadsWithRetention: s(`SELECT ${threadCols} FROM threads WHERE deleted_at IS NULL AND retention_policy LIKE '%threadCreationDate%'`),
    advanceThread: s("UPDATE threads SET last_sequence_id = ?, last_message_id = ?, last_message_at = ? WHERE ord = ?"),

    insertParticipant: s(
      "INSERT INTO participants (thread_ord, user_id, display_name, share_history_time, metadata) VALUES (?, ?, ?, ?, ?)",
    ),
    isParticipant: s("SELECT 1 FROM participants WHERE thread_ord = ? AND user_id = ?").pluck(),
    getParticipant: s(
      `SELECT ${participantCols} FROM participants WHERE thread_ord = (SELECT ord FROM threads WHERE id = ?) AND user_id = ?`,
    ),
    getParticipantByOrd: s(`SELECT ${participantCols} FROM participants WHERE thread_ord = ? AND user_id = ?`),
    countParticipants: s("SELECT count(*) AS n FROM participants WHERE thread_ord = (SELECT ord FROM threads WHERE id = ?)"),
    countParticipantsByOrd: s("SELECT count(*) AS n FROM participants WHERE thread_ord = ?"),
    listParticipants: s(
      `SELECT ${participantCols} FROM participants WHERE thread_ord = (SELECT ord FROM threads WHERE id = ?) ORDER BY joined LIMIT ? OFFSET ?`,
    ),
    removeParticipant: s("DELETE FROM participants WHERE thread_ord = ? AND user_id = ?"),
    participantIds: s("SELECT user_id FROM participants WHERE thread_ord = ?").pluck(),
    listParticipantsByOrd: s(`SELECT ${participantCols} FROM participants WHERE thread_ord = ? ORDER BY joined`),

    insertMessage: s(
      `INSERT INTO messages (thread_ord, sequence_id, id, version, type, content, sender_id, sender_display_name, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getMessage: s(`SELECT ${messageCols} FROM messages WHERE thread_ord = (SELECT ord FROM threads WHERE id = ?) AND id = ?`),
    getMessageByOrd: s(`SELECT ${messageCols} FROM messages WHERE thread_ord = ? AND id = ?`),
    getMessageBySeq: s(`SELECT ${messageCols} FROM messages WHERE thread_ord = ? AND sequence_id = ?`),
    getMessageSeq: s("SELECT sequence_id FROM messages WHERE thread_ord = ? AND id = ?"),
    // The first message of thread :ord (sequences up to :last) created at or after :time. created_at
    // never decreases along the sequence, so this bisects the primary key on it, ~log2(:last) seeks
    // in one statement. f(s), the created_at of the first message at or after sequence s, is below
    // :time at lo (or lo is 0) and not below it at hi. An index on (thread_ord, created_at) answered
    // this in one seek but cost every message a page write; see migration 6.
    firstSequenceAt: s(
      `WITH RECURSIVE bisect(lo, hi) AS (
         VALUES (0, :last)
         UNION ALL
         SELECT CASE WHEN ${probe} < :time THEN (lo + hi) / 2 ELSE lo END, CASE WHEN ${probe} < :time THEN hi ELSE (lo + hi) / 2 END
         FROM bisect WHERE hi - lo > 1
       )
       SELECT sequence_id FROM messages
       WHERE thread_ord = :ord AND sequence_id >= (SELECT min(hi) FROM bisect) AND created_at >= :time
       ORDER BY sequence_id LIMIT 1`,
    ).pluck(),
    // One JSON text for the whole page (see messagesFromPage): better-sqlite3 builds a row object
    // with one V8 API call per column, ~230 µs for a page of 51 messages, ~90 µs this way.
    listMessagesPage: s(
      `SELECT json_group_array(json_array(${messageCols}) ORDER BY sequence_id DESC)
       FROM (SELECT ${messageCols} FROM messages WHERE thread_ord = ? AND sequence_id < ? AND sequence_id >= ? ORDER BY sequence_id DESC LIMIT ?)`,
    ).pluck(),
    editMessage: s("UPDATE messages SET content = ?, metadata = ?, edited_at = ?, version = ? WHERE thread_ord = ? AND sequence_id = ?"),
    markMessageDeleted: s("UPDATE messages SET deleted_at = ?, version = ? WHERE thread_ord = ? AND sequence_id = ?"),

    upsertReceipt: s(
      `INSERT INTO read_receipts (thread_ord, user_id, message_id, sequence_id, read_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (thread_ord, user_id) DO UPDATE SET message_id = excluded.message_id, sequence_id = excluded.sequence_id,
         read_at = excluded.read_at WHERE excluded.sequence_id > read_receipts.sequence_id`,
    ),
    getReceipt: s("SELECT message_id, read_at FROM read_receipts WHERE thread_ord = ? AND user_id = ?"),
    removeReceipt: s("DELETE FROM read_receipts WHERE thread_ord = ? AND user_id = ?"),
    listReceipts: s(
      `SELECT r.user_id, r.message_id, r.read_at FROM participants p
       JOIN read_receipts r ON r.thread_ord = p.thread_ord AND r.user_id = p.user_id
       WHERE p.thread_ord = (SELECT ord FROM threads WHERE id = ?) ORDER BY p.joined LIMIT ? OFFSET ?`,
    ),

    insertMembership: s("INSERT INTO memberships (user_id, thread_ord, from_seq) VALUES (?, ?, ?)"),
    endMembership: s("UPDATE memberships SET to_seq = ? WHERE user_id = ? AND thread_ord = ? AND to_seq IS NULL"),
    // A deleted thread's deletion is the last change its members receive from it; ended memberships
    // drop out of stream reads once passed, and out of the table with pruning.
    endThreadMemberships: s("UPDATE memberships SET to_seq = ? WHERE thread_ord = ? AND to_seq IS NULL"),
    countMemberships: s("SELECT count(*) FROM memberships WHERE user_id = ? AND (to_seq IS NULL OR to_seq > ?)").pluck(),
    // A user's stream, one window of seqs (after, upto], from the feed: its rows in the window, kept
    // when the user was a member of the row's thread then (a probe of the memberships' primary key).
    readEventsFromFeed: s(
      `SELECT c.seq, c.name, c.thread_id, c.data, c.at FROM changes c
       WHERE c.seq > @after AND c.seq <= @upto AND EXISTS (
         SELECT 1 FROM memberships m WHERE m.user_id = @user AND m.thread_ord = c.thread_ord
           AND m.from_seq <= c.seq AND (m.to_seq IS NULL OR m.to_seq >= c.seq))
       ORDER BY c.seq LIMIT @limit`,
    ).raw(),
    // The same window by membership: for each one overlapping it, its thread's changes inside both,
    // on changes_by_thread; then merged by seq. Memberships drive the join (CROSS JOIN keeps that
    // order), so the cost follows the user's threads, not the whole feed.
    readEventsByMembership: s(
      `SELECT c.seq, c.name, c.thread_id, c.data, c.at
       FROM memberships m CROSS JOIN changes c
       WHERE m.user_id = @user AND (m.to_seq IS NULL OR m.to_seq > @after) AND m.from_seq <= @upto
         AND c.thread_ord = m.thread_ord AND c.seq > @after AND c.seq <= @upto AND c.seq >= m.from_seq AND (m.to_seq IS NULL OR c.seq <= m.to_seq)
       ORDER BY c.seq LIMIT @limit`,
    ).raw(),
    // Who was a member when change ?2 happened (webhooks, which send one event per recipient).
    membersAt: s("SELECT user_id FROM memberships WHERE thread_ord = ? AND from_seq <= ? AND (to_seq IS NULL OR to_seq >= ?)").pluck(),
    prunedSeq: s("SELECT pruned FROM stream_state WHERE id = 1").pluck(),
    setPrunedSeq: s("UPDATE stream_state SET pruned = max(pruned, ?) WHERE id = 1"),
    changeAtOrAfter: s("SELECT seq, at FROM changes WHERE seq >= ? ORDER BY seq LIMIT 1").raw(),
    pruneChanges: s("DELETE FROM changes WHERE seq <= ?"),
    pruneMemberships: s("DELETE FROM memberships WHERE to_seq <= ?"),
    insertChange: s("INSERT INTO changes (name, thread_id, thread_ord, data, recipients, at) VALUES (?, ?, ?, ?, '', ?)"),
    readChanges: s("SELECT seq, name, thread_id, thread_ord, data, recipients, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"),
    changesHead: s("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").pluck(),

    getIdempotency: s("SELECT response FROM idempotency WHERE scope = ? AND key = ?"),
    insertIdempotency: s("INSERT INTO idempotency (scope, key, response, created_at) VALUES (?, ?, ?, ?)"),
    purgeIdempotency: s("DELETE FROM idempotency WHERE created_at < ?"),
  };
}

function firstOfEach(participants: ParticipantRecord[]): ParticipantRecord[] {
  const unique = new Map<string, ParticipantRecord>();
  for (const p of participants) if (!unique.has(p.userId)) unique.set(p.userId, p);
  return [...unique.values()];
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function opt<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

function toThread(row: ThreadRow): ThreadRecord {
  const thread: ThreadRecord = {
    id: row.id,
    topic: row.topic,
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastMessageAt: row.last_message_at,
    order: row.ord,
  };
  if (row.metadata !== null) thread.metadata = JSON.parse(row.metadata) as Metadata;
  if (row.retention_policy !== null) thread.retentionPolicy = JSON.parse(row.retention_policy) as ThreadRecord["retentionPolicy"];
  if (row.deleted_at !== null) thread.deletedAt = row.deleted_at;
  return thread;
}

function toParticipant(row: ParticipantRow): ParticipantRecord {
  const participant: ParticipantRecord = { userId: row.user_id, shareHistoryTime: row.share_history_time };
  if (row.display_name !== null) participant.displayName = row.display_name;
  if (row.metadata !== null) participant.metadata = JSON.parse(row.metadata) as Metadata;
  return participant;
}

/** The rows of a `listMessagesPage` result: one JSON array per message, columns in `messageCols` order. */
function messagesFromPage(page: string): MessageRow[] {
  type Tuple = [number, string, string, MessageRecord["type"], string, string | null, string | null, string | null, number, number | null, number | null];
  return (JSON.parse(page) as Tuple[]).map(([sequence_id, id, version, type, content, sender_id, sender_display_name, metadata, created_at, edited_at, deleted_at]) => ({
    sequence_id,
    id,
    version,
    type,
    content,
    sender_id,
    sender_display_name,
    metadata,
    created_at,
    edited_at,
    deleted_at,
  }));
}

/**
 * Optional fields are assigned, not spread: a page builds 51 of these, and with five conditional
 * spreads each that took 54-69 µs against 20 (microbenchmark, docs/benchmarks.md round 5).
 */
function toMessage(threadId: string, row: MessageRow): MessageRecord {
  const message: MessageRecord = {
    threadId,
    sequenceId: row.sequence_id,
    id: row.id,
    version: row.version,
    type: row.type,
    content: JSON.parse(row.content) as MessageContentRecord,
    createdAt: row.created_at,
  };
  if (row.sender_id !== null) message.senderId = row.sender_id;
  if (row.sender_display_name !== null) message.senderDisplayName = row.sender_display_name;
  if (row.metadata !== null) message.metadata = JSON.parse(row.metadata) as Metadata;
  if (row.edited_at !== null) message.editedAt = row.edited_at;
  if (row.deleted_at !== null) message.deletedAt = row.deleted_at;
  return message;
}
