/**
 * WebhookStore: the durable state of webhooks — subscriptions, the change-feed cursor, the outbox of
 * pending deliveries and the dead letters. Kept apart from the chat Store: it is the webhook
 * dispatcher's own bookkeeping, and the chat Store's interface is not extended for it.
 *
 * The one invariant that matters: `advance` moves the cursor and inserts the deliveries of the
 * changes it moved over in ONE atomic write, so every change is turned into deliveries exactly once,
 * across crashes and restarts. A resolved write promise means the write is durable.
 */
import type { WebhookEvent } from "./events.js";

export type EventSchema = "EventGridSchema" | "CloudEventSchema";

export interface SubscriptionRecord {
  /** 3–64 of [A-Za-z0-9_-]; given by the creator or generated. */
  id: string;
  url: string;
  schema: EventSchema;
  /** Only these event types (undefined: every chat event type). */
  includedEventTypes?: string[];
  /** Case-insensitive subject filters, as Event Grid's. */
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  /** HMAC-SHA256 key for the Parley-Signature header (its UTF-8 bytes). */
  secret: string;
  maxEventsPerBatch: number;
  /** Batches in flight at once to this subscription. */
  maxConcurrentDeliveries: number;
  /** Only active subscriptions get events. */
  status: "active" | "awaitingValidation";
  /** How it became active: synchronous handshake, the validation URL, or deliberately skipped. */
  validatedBy?: "handshake" | "validationUrl" | "skipped";
  /** The code a subscriber GETting the validation URL must present, and until when. */
  validationCode?: string;
  validationExpiresAt?: number;
  /** "config": declared in the --webhooks-config file, which stays its source of truth. */
  source: "api" | "config";
  createdAt: number;
  updatedAt: number;
}

/** A delivery to be made: one event for one subscription. */
export interface NewDelivery {
  subscriptionId: string;
  event: WebhookEvent;
  /** When the change happened (the age bound counts from here). */
  publishedAt: number;
  nextAttemptAt: number;
}

export interface DeliveryRecord extends NewDelivery {
  /** Outbox order: oldest first. */
  id: number;
  attempts: number;
  lastAttemptAt?: number;
  lastStatus?: number;
  lastError?: string;
}

export interface AttemptResult {
  id: number;
  attempts: number;
  at: number;
  status?: number;
  error: string;
}

export type DeadLetterReason = "MaxDeliveryAttemptsExceeded" | "TimeToLiveExceeded" | "NonRetriableStatus";

export interface DeadLetterRecord {
  /** Dead-letter order: the keyset for listing, newest first. */
  id: number;
  subscriptionId: string;
  event: WebhookEvent;
  publishedAt: number;
  attempts: number;
  reason: DeadLetterReason;
  deadLetteredAt: number;
  lastAttemptAt?: number;
  lastStatus?: number;
  lastError?: string;
}

export interface WebhookStore {
  readonly driver: string;
  /** Random, fixed when the store was created; salts event ids so they never repeat across installs. */
  readonly instanceId: string;
  close(): Promise<void>;

  // Subscriptions
  /** Inserts or replaces by id. */
  putSubscription(subscription: SubscriptionRecord): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** In creation order. */
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  /** Deletes it with its pending deliveries and dead letters; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;

  // Change-feed cursor and outbox
  /** The seq of the last change turned into deliveries; undefined before the first advance. */
  getCursor(): Promise<number | undefined>;
  /**
   * If the cursor still equals `from`, sets it to `to` and adds the deliveries, atomically. A
   * delivery of an event already queued (or dead-lettered) for that subscription is ignored, and so
   * is one for a subscription that no longer exists (deleted while the changes were being rendered).
   * Returns false, changing nothing, when the cursor had moved.
   */
  advance(from: number | undefined, to: number, deliveries: NewDelivery[]): Promise<boolean>;
  /** Pending deliveries of a subscription due at `now`, oldest first. */
  dueDeliveries(subscriptionId: string, now: number, limit: number): Promise<DeliveryRecord[]>;
  /** The earliest next attempt time after `now` among all pending deliveries. */
  nextAttemptAfter(now: number): Promise<number | undefined>;
  countPending(subscriptionId: string): Promise<number>;
  /** Removes delivered ones from the outbox. */
  markDelivered(ids: number[]): Promise<void>;
  /** Records failed attempts and when to try again. */
  scheduleRetry(results: Array<AttemptResult & { nextAttemptAt: number }>): Promise<void>;
  /** Moves deliveries from the outbox to the dead letters. */
  deadLetter(results: Array<AttemptResult & { reason: DeadLetterReason }>): Promise<void>;

  // Dead letters
  /** Newest first; `beforeId` continues a listing. */
  listDeadLetters(subscriptionId: string, options: { beforeId?: number; limit: number }): Promise<DeadLetterRecord[]>;
  countDeadLetters(subscriptionId: string): Promise<number>;
  /**
   * Moves dead letters back to the outbox with a fresh attempt budget, due at `at` (all of the
   * subscription's when `eventIds` is omitted). Returns how many moved.
   */
  redeliver(subscriptionId: string, at: number, eventIds?: string[]): Promise<number>;
}
