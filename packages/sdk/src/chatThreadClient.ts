/** ChatThreadClient: one thread's properties, messages, participants, receipts and typing. */
import type * as wire from "@parley/protocol";
import type { CommunicationTokenCredential } from "./credential.js";
import { HttpClient, type Authenticate } from "./http.js";
import { serializeIdentifier, type CommunicationIdentifier } from "./identifiers.js";
import * as map from "./mappers.js";
import { checkToken, pagedIterator } from "./paging.js";
import type {
  AddChatParticipantsResult,
  AddParticipantsOptions,
  AddParticipantsRequest,
  ChatMessage,
  ChatMessageReadReceipt,
  ChatParticipant,
  ChatThreadClientOptions,
  ChatThreadProperties,
  DeleteMessageOptions,
  GetMessageOptions,
  GetPropertiesOptions,
  ListMessagesOptions,
  ListParticipantsOptions,
  ListReadReceiptsOptions,
  PagedAsyncIterableIterator,
  RemoveParticipantOptions,
  SendChatMessageResult,
  SendMessageOptions,
  SendMessageRequest,
  SendReadReceiptOptions,
  SendReadReceiptRequest,
  SendTypingNotificationOptions,
  UpdateChatThreadPropertiesOptions,
  UpdateMessageOptions,
  UpdateTopicOptions,
} from "./models.js";

/** The api-version `@azure/communication-chat` 1.6 sends. */
export const CHAT_API_VERSION = "2025-03-15";
/** The official SDK's client-side typing throttle. */
export const MINIMUM_TYPING_INTERVAL_MS = 8000;
const MERGE_PATCH = "application/merge-patch+json";

/** @internal Bearer authentication from a CommunicationTokenCredential. */
export function bearer(credential: CommunicationTokenCredential): Authenticate {
  return async ({ headers }, abortSignal) => {
    const { token } = await credential.getToken(abortSignal ? { abortSignal } : {});
    headers.set("authorization", `Bearer ${token}`);
  };
}

/** @internal */
export function chatHttp(endpoint: string, credential: CommunicationTokenCredential, options: ChatThreadClientOptions): HttpClient {
  return new HttpClient(endpoint, bearer(credential), { ...options, apiVersion: options.apiVersion ?? CHAT_API_VERSION });
}

export class ChatThreadClient {
  /** The thread this client works on. */
  readonly threadId: string;
  private readonly http: HttpClient;
  private readonly base: string;
  private timeOfLastTypingRequest: number | undefined;

  constructor(endpoint: string, threadId: string, credential: CommunicationTokenCredential, options: ChatThreadClientOptions = {}) {
    if (!threadId) throw new Error("threadId cannot be null or empty");
    this.threadId = threadId;
    this.http = chatHttp(endpoint, credential, options);
    this.base = `chat/threads/${encodeURIComponent(threadId)}`;
  }

  /** The thread's topic, creator, metadata and retention policy. */
  async getProperties(options: GetPropertiesOptions = {}): Promise<ChatThreadProperties> {
    const { body } = await this.http.send<wire.ChatThreadProperties>({ method: "GET", path: this.base, options });
    return map.threadProperties(body);
  }

  /** Sets the topic (adds a topicUpdated system message). */
  async updateTopic(topic: string, options: UpdateTopicOptions = {}): Promise<void> {
    await this.http.send({ method: "PATCH", path: this.base, body: { topic }, contentType: MERGE_PATCH, options });
  }

  /** Updates any of topic, metadata and retention policy. */
  async updateProperties(options: UpdateChatThreadPropertiesOptions = {}): Promise<void> {
    const { topic, metadata, retentionPolicy, ...operation } = options;
    await this.http.send({
      method: "PATCH",
      path: this.base,
      body: { ...(topic !== undefined && { topic }), ...(metadata !== undefined && { metadata }), ...(retentionPolicy !== undefined && { retentionPolicy }) },
      contentType: MERGE_PATCH,
      options: operation,
    });
  }

  /**
   * Sends a message and returns its id. Not retried on 5xx or network errors (the message may
   * already be stored); retried on 429, which the service answers before storing anything.
   */
  async sendMessage(request: SendMessageRequest, options: SendMessageOptions = {}): Promise<SendChatMessageResult> {
    this.timeOfLastTypingRequest = undefined;
    const { senderDisplayName, type, metadata, ...operation } = options;
    const { body } = await this.http.send<wire.SendChatMessageResult>({
      method: "POST",
      path: `${this.base}/messages`,
      body: {
        content: request.content,
        ...(senderDisplayName !== undefined && { senderDisplayName }),
        ...(type !== undefined && { type }),
        ...(metadata !== undefined && { metadata }),
      },
      options: operation,
    });
    return { id: body.id };
  }

  async getMessage(messageId: string, options: GetMessageOptions = {}): Promise<ChatMessage> {
    const { body } = await this.http.send<wire.ChatMessage>({ method: "GET", path: `${this.base}/messages/${encodeURIComponent(messageId)}`, options });
    return map.message(body);
  }

  /** Messages newest first (system messages included); `startTime` keeps those created at or after it. */
  listMessages(options: ListMessagesOptions = {}): PagedAsyncIterableIterator<ChatMessage> {
    const { maxPageSize, startTime, ...operation } = options;
    return pagedIterator(async (token, size) => {
      const { body } = await this.http.send<wire.Page<wire.ChatMessage>>({
        method: "GET",
        path: checkToken(token, `${this.base}/messages`) ?? `${this.base}/messages`,
        ...(token === undefined && { query: { maxPageSize: size, startTime: startTime && map.toIso(startTime) } }),
        options: operation,
      });
      return { items: body.value.map(map.message), ...(body.nextLink && { nextLink: body.nextLink }) };
    }, maxPageSize);
  }

  async updateMessage(messageId: string, options: UpdateMessageOptions = {}): Promise<void> {
    const { content, metadata, ...operation } = options;
    await this.http.send({
      method: "PATCH",
      path: `${this.base}/messages/${encodeURIComponent(messageId)}`,
      body: { ...(content !== undefined && { content }), ...(metadata !== undefined && { metadata }) },
      contentType: MERGE_PATCH,
      options: operation,
    });
  }

  async deleteMessage(messageId: string, options: DeleteMessageOptions = {}): Promise<void> {
    await this.http.send({ method: "DELETE", path: `${this.base}/messages/${encodeURIComponent(messageId)}`, options });
  }

  /** Adds participants; ones that cannot join are returned in `invalidParticipants`. */
  async addParticipants(request: AddParticipantsRequest, options: AddParticipantsOptions = {}): Promise<AddChatParticipantsResult> {
    const { body } = await this.http.send<wire.AddChatParticipantsResult | undefined>({
      method: "POST",
      path: `${this.base}/participants/:add`,
      body: { participants: request.participants.map(map.participantToWire) },
      options,
    });
    return map.invalidParticipants(body?.invalidParticipants);
  }

  /** Participants in join order; `skip` starts further in. */
  listParticipants(options: ListParticipantsOptions = {}): PagedAsyncIterableIterator<ChatParticipant> {
    const { maxPageSize, skip, ...operation } = options;
    return pagedIterator(async (token, size) => {
      const { body } = await this.http.send<wire.Page<wire.ChatParticipant>>({
        method: "GET",
        path: checkToken(token, `${this.base}/participants`) ?? `${this.base}/participants`,
        ...(token === undefined && { query: { maxPageSize: size, skip } }),
        options: operation,
      });
      return { items: body.value.map(map.participant), ...(body.nextLink && { nextLink: body.nextLink }) };
    }, maxPageSize);
  }

  /** Removes a participant (removing someone who is not in the thread is a no-op, so retries are safe). */
  async removeParticipant(participant: CommunicationIdentifier, options: RemoveParticipantOptions = {}): Promise<void> {
    await this.http.send({ method: "POST", path: `${this.base}/participants/:remove`, body: serializeIdentifier(participant), idempotent: true, options });
  }

  /**
   * Tells the others you are typing. Throttled like the official SDK: returns false without sending
   * when the last notification from this client went out less than 8 s ago (sendMessage resets it).
   */
  async sendTypingNotification(options: SendTypingNotificationOptions = {}): Promise<boolean> {
    const now = Date.now();
    if (this.timeOfLastTypingRequest !== undefined && now - this.timeOfLastTypingRequest < MINIMUM_TYPING_INTERVAL_MS) return false;
    this.timeOfLastTypingRequest = now;
    const { senderDisplayName, ...operation } = options;
    await this.http.send({
      method: "POST",
      path: `${this.base}/typing`,
      body: { ...(senderDisplayName !== undefined && { senderDisplayName }) },
      // A repeated typing signal means the same thing.
      idempotent: true,
      options: operation,
    });
    return true;
  }

  /** Marks messages up to this one as read (a read horizon only moves forward, so retries are safe). */
  async sendReadReceipt(request: SendReadReceiptRequest, options: SendReadReceiptOptions = {}): Promise<void> {
    await this.http.send({ method: "POST", path: `${this.base}/readReceipts`, body: { chatMessageId: request.chatMessageId }, idempotent: true, options });
  }

  /** Each participant's latest read receipt. */
  listReadReceipts(options: ListReadReceiptsOptions = {}): PagedAsyncIterableIterator<ChatMessageReadReceipt> {
    const { maxPageSize, skip, ...operation } = options;
    return pagedIterator(async (token, size) => {
      const { body } = await this.http.send<wire.Page<wire.ChatMessageReadReceipt>>({
        method: "GET",
        path: checkToken(token, `${this.base}/readReceipts`) ?? `${this.base}/readReceipts`,
        ...(token === undefined && { query: { maxPageSize: size, skip } }),
        options: operation,
      });
      return { items: body.value.map(map.readReceipt), ...(body.nextLink && { nextLink: body.nextLink }) };
    }, maxPageSize);
  }
}
