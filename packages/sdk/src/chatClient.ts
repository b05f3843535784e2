/**
 * ChatClient: threads, and real-time events over Parley's event stream — in browsers, workers and
 * Node alike (the official SDK's real-time works only in browsers, over Trouter).
 */
import type * as wire from "@parley/protocol";
import { loadWebSocket } from "#platform";
import { ChatThreadClient, chatHttp } from "./chatThreadClient.js";
import type { CommunicationTokenCredential } from "./credential.js";
import { randomUuid } from "./encoding.js";
import { Emitter } from "./emitter.js";
import { toSdkEvent, type ChatEventMap, type RealtimeDisconnectedEvent, type RealtimeResyncEvent } from "./events.js";
import type { HttpClient } from "./http.js";
import * as map from "./mappers.js";
import type {
  ChatClientOptions,
  ChatThreadItem,
  CreateChatThreadOptions,
  CreateChatThreadRequest,
  CreateChatThreadResult,
  DeleteChatThreadOptions,
  ListChatThreadsOptions,
  PagedAsyncIterableIterator,
} from "./models.js";
import { checkToken, pagedIterator } from "./paging.js";
import { EVENT_STREAM_PATH, RealtimeConnection } from "./realtime.js";

/** Listener signatures of `ChatClient.on` / `off`. */
export type ChatEventListeners = { [K in keyof ChatEventMap]: (event: ChatEventMap[K]) => void } & {
  /** The event stream is connected (again): events flow. */
  realTimeNotificationConnected: () => void;
  /** The event stream dropped (`willReconnect: true`) or stopped for good (`false`). */
  realTimeNotificationDisconnected: (event: RealtimeDisconnectedEvent) => void;
  /** Parley: events since your cursor are no longer available; re-read state over REST. */
  realTimeNotificationResync: (event: RealtimeResyncEvent) => void;
};

export class ChatClient {
  private readonly http: HttpClient;
  private readonly emitter = new Emitter<ChatEventListeners>();
  private readonly realtime: RealtimeConnection;

  /**
   * @param endpoint - Parley's URL (`https://…` or, locally, `http://…`).
   * @param credential - An AzureCommunicationTokenCredential (this package's or the official one).
   */
  constructor(
    private readonly endpoint: string,
    private readonly credential: CommunicationTokenCredential,
    private readonly options: ChatClientOptions = {},
  ) {
    this.http = chatHttp(endpoint, credential, options);
    const url = new URL(EVENT_STREAM_PATH, this.http.endpoint);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const WebSocketOption = options.WebSocket;
    const ca = options.tlsOptions?.ca;
    this.realtime = new RealtimeConnection(
      url.href,
      credential,
      () => (WebSocketOption ? Promise.resolve(WebSocketOption) : loadWebSocket(ca)),
      options.realtime ?? {},
      {
        event: (name, data) => {
          const event = toSdkEvent(name, data);
          if (event) this.emitter.emit(name as keyof ChatEventMap, event as never);
        },
        connected: () => this.emitter.emit("realTimeNotificationConnected"),
        disconnected: (info) => this.emitter.emit("realTimeNotificationDisconnected", info),
        resync: (info) => this.emitter.emit("realTimeNotificationResync", info),
      },
    );
  }

  /** A client for one thread, sharing this client's credential and options. */
  getChatThreadClient(threadId: string): ChatThreadClient {
    return new ChatThreadClient(this.endpoint, threadId, this.credential, this.options);
  }

  /**
   * Creates a thread (the caller joins it). Always sends a `repeatability-request-id` (your
   * `idempotencyToken`, or a fresh UUID), so a retried create never makes a second thread.
   */
  async createChatThread(request: CreateChatThreadRequest, options: CreateChatThreadOptions = {}): Promise<CreateChatThreadResult> {
    const { participants, idempotencyToken, metadata, retentionPolicy, ...operation } = options;
    const { body } = await this.http.send<wire.CreateChatThreadResult>({
      method: "POST",
      path: "chat/threads",
      headers: { "repeatability-request-id": idempotencyToken ?? randomUuid() },
      body: {
        topic: request.topic,
        ...(participants && { participants: participants.map(map.participantToWire) }),
        ...(metadata !== undefined && { metadata }),
        ...(retentionPolicy !== undefined && { retentionPolicy }),
      },
      idempotent: true,
      options: operation,
    });
    return map.createThreadResult(body);
  }

  /** The threads the user is in, newest created first. */
  listChatThreads(options: ListChatThreadsOptions = {}): PagedAsyncIterableIterator<ChatThreadItem> {
    const { maxPageSize, startTime, ...operation } = options;
    return pagedIterator(async (token, size) => {
      const { body } = await this.http.send<wire.Page<wire.ChatThreadItem>>({
        method: "GET",
        path: checkToken(token, "chat/threads") ?? "chat/threads",
        ...(token === undefined && { query: { maxPageSize: size, startTime: startTime && map.toIso(startTime) } }),
        options: operation,
      });
      return { items: body.value.map(map.threadItem), ...(body.nextLink && { nextLink: body.nextLink }) };
    }, maxPageSize);
  }

  async deleteChatThread(threadId: string, options: DeleteChatThreadOptions = {}): Promise<void> {
    if (!threadId) throw new Error("threadId cannot be null or empty");
    await this.http.send({ method: "DELETE", path: `chat/threads/${encodeURIComponent(threadId)}`, options });
  }

  /**
   * Opens the event stream; resolves once it is connected. From then on it reconnects by itself
   * (resuming after the last event, so none is lost) until stopRealtimeNotifications(), or until the
   * server refuses the user for good (revoked token, deleted user: `realTimeNotificationDisconnected`
   * with `willReconnect: false`). Rejects if the first connection is refused that way.
   *
   * @param options - `cursor`: resume after this event-stream position (from `realtimeCursor`).
   */
  startRealtimeNotifications(options: { cursor?: number } = {}): Promise<void> {
    return this.realtime.start(options.cursor);
  }

  /** Closes the event stream. Listeners stay registered for a later start. */
  async stopRealtimeNotifications(): Promise<void> {
    this.realtime.stop();
  }

  /** Parley: the position of the last durable event delivered; persist it to resume later. */
  get realtimeCursor(): number | undefined {
    return this.realtime.cursor;
  }

  /** Parley: true while the event stream is connected. */
  get realtimeConnected(): boolean {
    return this.realtime.connected;
  }

  /** Subscribes to a chat event (official names and payloads) or a connection event. */
  on<K extends keyof ChatEventListeners>(event: K, listener: ChatEventListeners[K]): void {
    this.emitter.on(event, listener);
  }

  off<K extends keyof ChatEventListeners>(event: K, listener: ChatEventListeners[K]): void {
    this.emitter.off(event, listener);
  }
}
