/**
 * The webhook dispatcher: a durable outbox between the change feed and subscribers.
 *
 *  1. Follow: read the chat Store's change feed after the stored cursor, render each change's Event
 *     Grid events, and — in ONE WebhookStore write — queue a delivery per (matching subscription,
 *     event) and move the cursor past those changes. A crash either before or after that write is
 *     harmless: the changes are turned into deliveries exactly once.
 *  2. Deliver: per subscription, up to `maxConcurrentDeliveries` batches in flight, each up to
 *     `maxEventsPerBatch` due events, signed, POSTed with a deadline. 2xx removes them from the outbox;
 *     anything else schedules a retry (exponential back-off with jitter, or the receiver's
 *     Retry-After) until an attempt or age bound moves them to the dead letters.
 *
 * Subscribers are independent: each has its own concurrency budget and back-off, so a slow or
 * failing receiver only delays its own events. Everything pending is in the WebhookStore, so a
 * restart resumes where the last run stopped. Delivery is at-least-once (an answer lost in transit
 * is retried); event ids are stable, so receivers deduplicate on `id`.
 */
import type { FastifyBaseLogger } from "fastify";
import type { ChangeRecord, Store } from "../store/index.js";
import { eventsForChange, type WebhookEvent } from "./events.js";
import { renderBody } from "./envelope.js";
import { backoffMs, isNonRetriable, parseRetryAfter, type RetryPolicy } from "./retry.js";
import { signatureHeaders } from "./signature.js";
import { httpAttempt } from "./transport.js";
import type { DeadLetterReason, DeliveryRecord, NewDelivery, SubscriptionRecord, WebhookStore } from "./webhookStore.js";

export interface WebhookOptions extends RetryPolicy {
  /** Event Grid `topic` / CloudEvents `source`: the resource path events come from. */
  topic?: string;
  /** Deadline of one delivery or handshake request. */
  requestTimeoutMs: number;
  /** Sent as WebHook-Request-Origin in the CloudEvents handshake. */
  requestOrigin: string;
  /** Changes read from the feed per step. */
  feedPageSize: number;
  /** A batch stops growing past this many body bytes (Event Grid: 1 MB). */
  maxBatchBytes: number;
  /** At shutdown, how long in-flight deliveries may finish before they are cut (and retried later). */
  shutdownGraceMs: number;
  /** With no active subscription, how often the feed cursor is moved to the head (see idle()). */
  idleCursorEveryMs: number;
  /** How often config-file subscriptions still awaiting validation retry the handshake. */
  revalidateEveryMs: number;
  /** How long a validation URL stays usable. */
  validationUrlLifetimeMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  retryBaseMs: 1000,
  retryMaxMs: 5 * 60_000,
  maxAttempts: 30,
  eventTtlMs: 24 * 3600_000,
  maxRetryAfterMs: 3600_000,
  requestTimeoutMs: 30_000,
  requestOrigin: "eventgrid.azure.net",
  feedPageSize: 200,
  maxBatchBytes: 1024 * 1024,
  shutdownGraceMs: 5000,
  idleCursorEveryMs: 5000,
  revalidateEveryMs: 60_000,
  validationUrlLifetimeMs: 10 * 60_000,
};

export type ResolvedWebhookOptions = WebhookOptions & { topic: string };

export function resolveWebhookOptions(options: Partial<WebhookOptions> | undefined, resourceId: string): ResolvedWebhookOptions {
  return {
    ...DEFAULT_WEBHOOK_OPTIONS,
    ...options,
    topic: options?.topic ?? `/subscriptions/${resourceId}/resourceGroups/parley/providers/Microsoft.Communication/communicationServices/parley`,
  };
}

export interface DispatcherDeps {
  store: Store;
  webhooks: WebhookStore;
  options: ResolvedWebhookOptions;
  clock: () => number;
  random: () => number;
  log: FastifyBaseLogger;
}

/** Per-subscription delivery state; lives only in memory (the outbox is the durable part). */
interface Lane {
  inFlight: Set<number>;
  active: number;
  /** The receiver's Retry-After: nothing is sent to it before this. */
  notBefore: number;
}

export class WebhookDispatcher {
  private subscriptions = new Map<string, SubscriptionRecord>();
  private readonly lanes = new Map<string, Lane>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopped = false;
  private following: Promise<void> | undefined;
  private followAgain = false;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private unsubscribe: (() => void) | undefined;
  /** Changes went by unread because nobody was subscribed; the stored cursor is behind the feed. */
  private skipped = false;
  private catchUpDue = false;
  private catchUpTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Resumes from the stored cursor; a first start skips history (subscriptions get what comes next). */
  async start(): Promise<void> {
    if ((await this.deps.webhooks.getCursor()) === undefined) await this.catchUp();
    await this.reload();
    this.unsubscribe = this.deps.store.onEventsCommitted(() => this.follow());
    this.follow();
  }

  /** Re-reads subscriptions (after any change to them) and delivers what is due. */
  async reload(): Promise<void> {
    const all = await this.deps.webhooks.listSubscriptions();
    const active = new Map(all.filter((s) => s.status === "active").map((s) => [s.id, s]));
    // The first subscription after a quiet spell gets what comes next, not what nobody was
    // subscribed to while the feed went unread.
    const waking = this.subscriptions.size === 0 && active.size > 0 && this.skipped;
    if (waking) await this.catchUp();
    this.subscriptions = active;
    for (const [id, lane] of this.lanes) if (!this.subscriptions.has(id) && lane.active === 0) this.lanes.delete(id);
    if (waking) this.follow();
    this.pump();
  }

  /** Stops following and delivering; in-flight deliveries get `shutdownGraceMs` to finish. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    await this.following;
    if (this.skipped && this.subscriptions.size === 0) await this.catchUp();
    await this.pumping;
    const cut = setTimeout(() => this.abort.abort(), this.deps.options.shutdownGraceMs);
    await Promise.allSettled([...this.running]);
    clearTimeout(cut);
  }

  /** Wakes delivery now (e.g. after dead letters were put back). */
  wake(): void {
    this.pump();
  }

  // Following the change feed ----------------------------------------------------------------

  private follow(): void {
    if (this.stopped) return;
    if (this.following) {
      this.followAgain = true;
      return;
    }
    this.following = this.followLoop()
      .catch((err) => {
        this.deps.log.error({ err }, "webhooks: reading the change feed failed; retrying in 1 s");
        setTimeout(() => this.follow(), 1000).unref();
      })
      .finally(() => {
        this.following = undefined;
        if (this.followAgain) this.follow();
      });
  }

  private async followLoop(): Promise<void> {
    do {
      this.followAgain = false;
      if (this.subscriptions.size === 0) {
        await this.idle();
        continue;
      }
      while (!this.stopped) {
        const cursor = await this.deps.webhooks.getCursor();
        const changes = await this.deps.store.readChanges(cursor ?? 0, this.deps.options.feedPageSize);
        if (changes.length === 0) break;
        const deliveries = await this.deliveriesFor(changes);
        if (!(await this.deps.webhooks.advance(cursor, changes.at(-1)!.seq, deliveries))) continue;
        if (deliveries.length > 0) this.pump();
      }
    } while (this.followAgain && !this.stopped);
  }

  /**
   * With no active subscription nobody gets these changes: reading and rendering them, and writing
   * (and fsyncing) the cursor in webhooks.db after every chat commit, would be pure cost on the send
   * path. Instead the cursor catches up with the feed's head every `idleCursorEveryMs`, at stop, and
   * before a new subscription starts. After a crash it is at most that far behind, and only matters
   * if a subscription exists at the next start.
   */
  private async idle(): Promise<void> {
    if (this.catchUpDue) {
      this.catchUpDue = false;
      this.skipped = false;
      await this.catchUp();
      return;
    }
    this.skipped = true;
    if (this.catchUpTimer || this.stopped) return;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = undefined;
      this.catchUpDue = true;
      this.follow();
    }, this.deps.options.idleCursorEveryMs);
    this.catchUpTimer.unref();
  }

  /** Moves the stored cursor to the newest change, turning nothing into deliveries. */
  private async catchUp(): Promise<void> {
    const cursor = await this.deps.webhooks.getCursor();
    const head = await this.deps.store.changesHead();
    // A cursor that moved meanwhile was moved by the follower, past changes it handled: keep it.
    if (cursor === undefined || head > cursor) await this.deps.webhooks.advance(cursor, head, []);
  }

  private async deliveriesFor(changes: ChangeRecord[]): Promise<NewDelivery[]> {
    const subscriptions = [...this.subscriptions.values()];
    if (subscriptions.length === 0) return [];
    const now = this.deps.clock();
    const out: NewDelivery[] = [];
    for (const change of changes) {
      // Participant changes do not carry the thread; its creation time is fixed, so read it now.
      const threadCreatedAt =
        change.name === "participantsAdded" || change.name === "participantsRemoved" ? (await this.deps.store.getThread(change.threadId))?.createdAt : undefined;
      const events = eventsForChange(change, { instanceId: this.deps.webhooks.instanceId, threadCreatedAt });
      for (const subscription of subscriptions) {
        for (const event of events) {
          if (matches(subscription, event)) out.push({ subscriptionId: subscription.id, event, publishedAt: change.at, nextAttemptAt: now });
        }
      }
    }
    return out;
  }

  // Delivering -------------------------------------------------------------------------------

  private pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pumpLoop()
      .catch((err) => {
        this.deps.log.error({ err }, "webhooks: scheduling deliveries failed; retrying in 1 s");
        this.wakeAt(this.deps.clock() + 1000);
      })
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) this.pump();
      });
  }

  private async pumpLoop(): Promise<void> {
    do {
      this.pumpAgain = false;
      const now = this.deps.clock();
      let wake = Infinity;
      for (const subscription of this.subscriptions.values()) {
        const lane = this.lane(subscription.id);
        if (lane.notBefore > now) {
          wake = Math.min(wake, lane.notBefore);
          continue;
        }
        while (!this.stopped && lane.active < subscription.maxConcurrentDeliveries) {
          const due = await this.deps.webhooks.dueDeliveries(subscription.id, now, subscription.maxEventsPerBatch + lane.inFlight.size);
          const batch = this.batchOf(due.filter((d) => !lane.inFlight.has(d.id)), subscription.maxEventsPerBatch);
          if (batch.length === 0) break;
          this.launch(subscription, lane, batch);
        }
      }
      wake = Math.min(wake, (await this.deps.webhooks.nextAttemptAfter(now)) ?? Infinity);
      this.wakeAt(wake);
    } while (this.pumpAgain && !this.stopped);
  }

  /** Oldest first, up to the count and (after the first event) the byte budget. */
  private batchOf(due: DeliveryRecord[], max: number): DeliveryRecord[] {
    const batch: DeliveryRecord[] = [];
    let bytes = 0;
    for (const d of due) {
      const size = JSON.stringify(d.event).length;
      if (batch.length >= max || (batch.length > 0 && bytes + size > this.deps.options.maxBatchBytes)) break;
      batch.push(d);
      bytes += size;
    }
    return batch;
  }

  private launch(subscription: SubscriptionRecord, lane: Lane, batch: DeliveryRecord[]): void {
    for (const d of batch) lane.inFlight.add(d.id);
    lane.active++;
    const delivery: Promise<void> = this.deliver(subscription, lane, batch)
      .catch((err) => this.deps.log.error({ err, subscription: subscription.id }, "webhooks: recording a delivery failed"))
      .finally(() => {
        for (const d of batch) lane.inFlight.delete(d.id);
        lane.active--;
        this.running.delete(delivery);
        this.pump();
      });
    this.running.add(delivery);
  }

  private async deliver(subscription: SubscriptionRecord, lane: Lane, batch: DeliveryRecord[]): Promise<void> {
    const { options, clock, webhooks } = this.deps;
    const { body, contentType } = renderBody(
      subscription.schema,
      batch.map((d) => d.event),
      { topic: options.topic, single: subscription.maxEventsPerBatch === 1 },
    );
    const result = await httpAttempt({
      method: "POST",
      url: subscription.url,
      body,
      timeoutMs: options.requestTimeoutMs,
      signal: this.abort.signal,
      headers: {
        "content-type": contentType,
        "aeg-event-type": "Notification",
        "aeg-subscription-name": subscription.id.toUpperCase(),
        // Event Grid's header: attempts already made for (the first event of) this batch.
        "aeg-delivery-count": String(batch[0]!.attempts),
        "aeg-metadata-version": "1",
        "aeg-data-version": "1.0",
        ...signatureHeaders(subscription.secret, clock(), body),
      },
    });
    // Cut at shutdown without an answer: not an attempt; the events stay due for the next run.
    if (result.status === undefined && this.abort.signal.aborted) return;

    const now = clock();
    const ids = batch.map((d) => d.id);
    if (result.status !== undefined && result.status >= 200 && result.status <= 299) {
      await webhooks.markDelivered(ids);
      return;
    }

    const error = result.status !== undefined ? `HTTP ${result.status}` : (result.error ?? "no answer");
    const retryAfter = parseRetryAfter(result.headers?.get("retry-after"), now);
    const pause = retryAfter === undefined ? undefined : Math.min(retryAfter, options.maxRetryAfterMs);
    if (pause !== undefined) lane.notBefore = Math.max(lane.notBefore, now + pause);

    const retries = [];
    const dead: Array<{ id: number; attempts: number; at: number; status?: number; error: string; reason: DeadLetterReason }> = [];
    for (const d of batch) {
      const attempt = { id: d.id, attempts: d.attempts + 1, at: now, error, ...(result.status !== undefined && { status: result.status }) };
      if (isNonRetriable(result.status)) dead.push({ ...attempt, reason: "NonRetriableStatus" });
      else if (attempt.attempts >= options.maxAttempts) dead.push({ ...attempt, reason: "MaxDeliveryAttemptsExceeded" });
      else if (now - d.publishedAt >= options.eventTtlMs) dead.push({ ...attempt, reason: "TimeToLiveExceeded" });
      else retries.push({ ...attempt, nextAttemptAt: now + (pause ?? backoffMs(options, attempt.attempts, this.deps.random)) });
    }
    if (retries.length > 0) await webhooks.scheduleRetry(retries);
    if (dead.length > 0) {
      await webhooks.deadLetter(dead);
      this.deps.log.warn({ subscription: subscription.id, events: dead.length, reason: dead[0]!.reason, lastError: error }, "webhooks: events dead-lettered");
    }
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) this.lanes.set(id, (lane = { inFlight: new Set(), active: 0, notBefore: 0 }));
    return lane;
  }

  /** Keeps one timer, for the earliest moment something becomes due. */
  private wakeAt(at: number): void {
    if (this.stopped || !Number.isFinite(at) || (this.timer && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.deps.clock()));
    this.timer.unref();
  }
}

/** Event Grid filtering: event types, then case-insensitive subject prefix/suffix. */
export function matches(subscription: SubscriptionRecord, event: WebhookEvent): boolean {
  if (subscription.includedEventTypes && !subscription.includedEventTypes.includes(event.type)) return false;
  const subject = event.subject.toLowerCase();
  if (subscription.subjectBeginsWith && !subject.startsWith(subscription.subjectBeginsWith.toLowerCase())) return false;
  if (subscription.subjectEndsWith && !subject.endsWith(subscription.subjectEndsWith.toLowerCase())) return false;
  return true;
}
