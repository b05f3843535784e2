/**
 * Public models and options, named and shaped as in `@azure/communication-chat` 1.6 and
 * `@azure/communication-identity` 1.3 (dates are `Date` objects, identifiers carry their `kind`).
 */
import type { ChatError } from "./errors.js";
import type { CommunicationIdentifier, CommunicationIdentifierKind, CommunicationUserIdentifier } from "./identifiers.js";

export type { ChatError };

// ---------------------------------------------------------------------------------------------
// Common options

/** An AbortSignal (the platform's, or anything shaped like it), as `@azure/abort-controller` has it. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: any;
  addEventListener(type: "abort", listener: (this: AbortSignalLike, ev: any) => any, options?: any): void;
  removeEventListener(type: "abort", listener: (this: AbortSignalLike, ev: any) => any, options?: any): void;
}

/** Per-call options every operation accepts (a subset of `@azure/core-client`'s OperationOptions). */
export interface OperationOptions {
  /** Cancels the call (and its retries). */
  abortSignal?: AbortSignalLike;
  requestOptions?: {
    /** Milliseconds before one attempt is abandoned (0 or absent: no limit). */
    timeout?: number;
    /** Extra request headers. */
    customHeaders?: Record<string, string>;
  };
}

/** Retries of failed requests: exponential back-off with jitter, honouring `Retry-After`. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 3; 0 disables retries. */
  maxRetries?: number;
  /** First back-off delay. Default 800 ms, doubled per retry. */
  retryDelayInMs?: number;
  /** Upper bound of one delay, also of a server's `Retry-After`. Default 64 000 ms. */
  maxRetryDelayInMs?: number;
}

/** `fetch` as the SDK calls it (the platform's, or a compatible one such as a test double). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** PEM certificate(s): strings or bytes (e.g. `fs.readFileSync(".parley/tls/ca.crt")`). */
export type CertificateAuthority = string | Uint8Array | Array<string | Uint8Array>;

/** Options of every client in this package. */
export interface CommonClientOptions {
  retryOptions?: RetryOptions;
  /** Replaces `globalThis.fetch` (e.g. to add a proxy, logging, or a custom TLS agent). */
  fetch?: FetchLike;
  /**
   * Node only: extra trusted CA certificates (PEM) for `https:`/`wss:` — typically Parley's
   * `<data-dir>/tls/ca.crt`. Same option name as the official SDKs. Alternatives: start Node with
   * `NODE_EXTRA_CA_CERTS=<data-dir>/tls/ca.crt`, or use Parley's plain `http://` endpoint locally.
   */
  tlsOptions?: { ca?: CertificateAuthority };
  /** Prepended to the `x-ms-useragent` header. */
  userAgentOptions?: { userAgentPrefix?: string };
  /** Overrides the api-version sent (defaults to the official SDK's). */
  apiVersion?: string;
}

// ---------------------------------------------------------------------------------------------
// Paging

/** Settings for `byPage`: where to resume and how many items a page holds. */
export interface PageSettings {
  /** A page's `continuationToken`, to resume listing after that page. */
  continuationToken?: string;
  /** Items per page (1–200). Only used for the first request; later pages keep the same size. */
  maxPageSize?: number;
}

/** One page: the items (an array, as in the official SDK) plus the token of the page after it. */
export type Page<T> = T[] & {
  /** Pass to `byPage({ continuationToken })` to continue after this page; absent on the last page. */
  continuationToken?: string;
};

/** An async iterator over all items, with `byPage()` for page-wise access (as `@azure/core-paging`). */
export interface PagedAsyncIterableIterator<T, PageT = Page<T>, TPageSettings = PageSettings> {
  next(): Promise<IteratorResult<T>>;
  [Symbol.asyncIterator](): PagedAsyncIterableIterator<T, PageT, TPageSettings>;
  byPage(settings?: TPageSettings): AsyncIterableIterator<PageT>;
}

// ---------------------------------------------------------------------------------------------
// Identity

export type TokenScope = "chat" | "voip" | "chat.join" | "chat.join.limited" | "voip.join";

export interface CommunicationAccessToken {
  token: string;
  expiresOn: Date;
}

export interface CommunicationUserToken extends CommunicationAccessToken {
  user: CommunicationUserIdentifier;
}

export interface CreateUserAndTokenOptions extends OperationOptions {
  /** 60–1440 minutes; the server's default is 1440. */
  tokenExpiresInMinutes?: number;
}

export interface GetTokenOptions extends OperationOptions {
  tokenExpiresInMinutes?: number;
}

export interface CommunicationIdentityClientOptions extends CommonClientOptions {}

// ---------------------------------------------------------------------------------------------
// Chat models

export type ChatMessageType = "text" | "html" | "topicUpdated" | "participantAdded" | "participantRemoved";

export interface ThreadCreationDateRetentionPolicy {
  kind: "threadCreationDate";
  deleteThreadAfterDays: number;
}
export interface NoneRetentionPolicy {
  kind: "none";
}
export type ChatRetentionPolicy = ThreadCreationDateRetentionPolicy | NoneRetentionPolicy;

export interface ChatThreadProperties {
  id: string;
  topic: string;
  createdOn: Date;
  readonly createdBy?: CommunicationIdentifierKind;
  deletedOn?: Date;
  metadata?: Record<string, string>;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface ChatThreadItem {
  id: string;
  topic: string;
  deletedOn?: Date;
  readonly lastMessageReceivedOn?: Date;
}

export type ChatAttachmentType = "image" | "file" | "unknown";

export interface ChatAttachment {
  id: string;
  attachmentType: ChatAttachmentType;
  name?: string;
  url?: string;
  previewUrl?: string;
}

export interface ChatParticipant {
  /** In results this is always a CommunicationIdentifierKind. */
  id: CommunicationIdentifier;
  displayName?: string;
  shareHistoryTime?: Date;
  metadata?: Record<string, string>;
}

export interface ChatMessageContent {
  message?: string;
  topic?: string;
  participants?: ChatParticipant[];
  initiator?: CommunicationIdentifierKind;
  attachments?: ChatAttachment[];
}

export interface ChatMessage {
  id: string;
  type: ChatMessageType;
  sequenceId: string;
  version: string;
  content?: ChatMessageContent;
  senderDisplayName?: string;
  createdOn: Date;
  sender?: CommunicationIdentifierKind;
  deletedOn?: Date;
  editedOn?: Date;
  metadata?: Record<string, string>;
}

export interface ChatMessageReadReceipt {
  sender: CommunicationIdentifierKind;
  chatMessageId: string;
  readOn: Date;
}

export interface CreateChatThreadResult {
  chatThread?: ChatThreadProperties;
  readonly invalidParticipants?: ChatError[];
}

export interface AddChatParticipantsResult {
  readonly invalidParticipants?: ChatError[];
}

export interface SendChatMessageResult {
  id: string;
}

// ---------------------------------------------------------------------------------------------
// Chat requests and options

export interface CreateChatThreadRequest {
  topic: string;
}

export interface SendMessageRequest {
  content: string;
}

export interface SendReadReceiptRequest {
  chatMessageId: string;
}

export interface AddParticipantsRequest {
  participants: ChatParticipant[];
}

/** Real-time (event stream) settings of a ChatClient. */
export interface RealtimeOptions {
  /** First reconnect delay; doubles per failed attempt, with jitter. Default 500 ms. */
  reconnectDelayInMs?: number;
  /** Upper bound of the reconnect delay. Default 30 000 ms. */
  maxReconnectDelayInMs?: number;
  /**
   * Resume from this event-stream cursor (a `seq` you persisted from `realtimeCursor`); events after
   * it are replayed first. Default: start from now.
   */
  cursor?: number;
}

/** The constructor of a WHATWG WebSocket (the platform's, `ws`'s, or a compatible one). */
export interface WebSocketConstructorLike {
  new (url: string): WebSocketLike;
}

/** The part of a WHATWG WebSocket the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}

export interface ChatClientOptions extends CommonClientOptions {
  /** The WebSocket implementation; default: the global one, else `ws` (Node 20). */
  WebSocket?: WebSocketConstructorLike;
  realtime?: RealtimeOptions;
}

export interface ChatThreadClientOptions extends ChatClientOptions {}

export interface CreateChatThreadOptions extends OperationOptions {
  participants?: ChatParticipant[];
  /** Makes the create repeatable: the same token returns the same thread. Generated when absent. */
  idempotencyToken?: string;
  metadata?: Record<string, string>;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface ListChatThreadsOptions extends OperationOptions {
  maxPageSize?: number;
  /** Only threads whose last message arrived at or after this time. */
  startTime?: Date;
}

export type DeleteChatThreadOptions = OperationOptions;
export type GetPropertiesOptions = OperationOptions;
export interface UpdateTopicOptions extends OperationOptions {}

export interface UpdateChatThreadPropertiesOptions extends OperationOptions {
  topic?: string;
  metadata?: Record<string, string>;
  retentionPolicy?: ChatRetentionPolicy;
}

export interface SendMessageOptions extends OperationOptions {
  senderDisplayName?: string;
  type?: ChatMessageType;
  metadata?: Record<string, string>;
}

export type GetMessageOptions = OperationOptions;

export interface ListMessagesOptions extends OperationOptions {
  maxPageSize?: number;
  /** Only messages created at or after this time. */
  startTime?: Date;
}

export interface UpdateMessageOptions extends OperationOptions {
  content?: string;
  metadata?: Record<string, string>;
}

export type DeleteMessageOptions = OperationOptions;
export type AddParticipantsOptions = OperationOptions;

export interface ListParticipantsOptions extends OperationOptions {
  maxPageSize?: number;
  skip?: number;
}

export type RemoveParticipantOptions = OperationOptions;

export interface SendTypingNotificationOptions extends OperationOptions {
  senderDisplayName?: string;
}

export type SendReadReceiptOptions = OperationOptions;

export interface ListReadReceiptsOptions extends OperationOptions {
  maxPageSize?: number;
  skip?: number;
}
