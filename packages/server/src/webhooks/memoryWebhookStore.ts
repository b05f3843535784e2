/** The WebhookStore on maps: pairs with the memory chat Store (`--store memory`) and fast tests. */
import { randomUUID } from "node:crypto";
import type {
  AttemptResult,
  DeadLetterReason,
  DeadLetterRecord,
  DeliveryRecord,
  NewDelivery,
  SubscriptionRecord,
  WebhookStore,
} from "./webhookStore.js";

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryWebhookStore implements WebhookStore {
  readonly driver = "memory";
  readonly instanceId = randomUUID();
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private readonly outbox = new Map<number, DeliveryRecord>();
  private readonly deadLetters = new Map<number, DeadLetterRecord>();
  /** `subscription \n eventId` of everything in the outbox or the dead letters: enqueue is idempotent. */
  private readonly known = new Set<string>();
  private cursor: number | undefined;
  private nextOutboxId = 1;
  private nextDeadLetterId = 1;

  async close(): Promise<void> {}

  async putSubscription(subscription: SubscriptionRecord): Promise<void> {
    this.subscriptions.set(subscription.id, clone(subscription));
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    const found = this.subscriptions.get(id);
    return found && clone(found);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    // Insertion order (a replaced one keeps its place), as the SQLite driver's.
    return [...this.subscriptions.values()].map(clone);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    for (const map of [this.outbox, this.deadLetters]) {
      for (const [key, d] of map) {
        if (d.subscriptionId !== id) continue;
        map.delete(key);
        this.known.delete(keyOf(d.subscriptionId, d.event.id));
      }
    }
    return this.subscriptions.delete(id);
  }

  async getCursor(): Promise<number | undefined> {
    return this.cursor;
  }

  async advance(from: number | undefined, to: number, deliveries: NewDelivery[]): Promise<boolean> {
    if (this.cursor !== from) return false;
    this.cursor = to;
    for (const d of deliveries) {
      if (!this.subscriptions.has(d.subscriptionId)) continue;
      const key = keyOf(d.subscriptionId, d.event.id);
      if (this.known.has(key)) continue;
      this.known.add(key);
      const id = this.nextOutboxId++;
      this.outbox.set(id, { ...clone(d), id, attempts: 0 });
    }
    return true;
  }

  async dueDeliveries(subscriptionId: string, now: number, limit: number): Promise<DeliveryRecord[]> {
    const due: DeliveryRecord[] = [];
    for (const d of this.outbox.values()) {
      if (d.subscriptionId !== subscriptionId || d.nextAttemptAt > now) continue;
      due.push(clone(d));
      if (due.length === limit) break;
    }
    return due;
  }

  async nextAttemptAfter(now: number): Promise<number | undefined> {
    let next: number | undefined;
    for (const d of this.outbox.values()) if (d.nextAttemptAt > now && (next === undefined || d.nextAttemptAt < next)) next = d.nextAttemptAt;
    return next;
  }

  async countPending(subscriptionId: string): Promise<number> {
    return [...this.outbox.values()].filter((d) => d.subscriptionId === subscriptionId).length;
  }

  async markDelivered(ids: number[]): Promise<void> {
    for (const id of ids) {
      const d = this.outbox.get(id);
      if (!d) continue;
      this.outbox.delete(id);
      this.known.delete(keyOf(d.subscriptionId, d.event.id));
    }
  }

  async scheduleRetry(results: Array<AttemptResult & { nextAttemptAt: number }>): Promise<void> {
    for (const r of results) {
      const d = this.outbox.get(r.id);
      if (!d) continue;
      Object.assign(d, { attempts: r.attempts, nextAttemptAt: r.nextAttemptAt, lastAttemptAt: r.at, lastError: r.error });
      if (r.status !== undefined) d.lastStatus = r.status;
      else delete d.lastStatus;
    }
  }

  async deadLetter(results: Array<AttemptResult & { reason: DeadLetterReason }>): Promise<void> {
    for (const r of results) {
      const d = this.outbox.get(r.id);
      if (!d) continue;
      this.outbox.delete(r.id);
      const id = this.nextDeadLetterId++;
      this.deadLetters.set(id, {
        id,
        subscriptionId: d.subscriptionId,
        event: d.event,
        publishedAt: d.publishedAt,
        attempts: r.attempts,
        reason: r.reason,
        deadLetteredAt: r.at,
        lastAttemptAt: r.at,
        lastError: r.error,
        ...(r.status !== undefined && { lastStatus: r.status }),
      });
    }
  }

  async listDeadLetters(subscriptionId: string, options: { beforeId?: number; limit: number }): Promise<DeadLetterRecord[]> {
    return [...this.deadLetters.values()]
      .filter((d) => d.subscriptionId === subscriptionId && d.id < (options.beforeId ?? Number.MAX_SAFE_INTEGER))
      .sort((a, b) => b.id - a.id)
      .slice(0, options.limit)
      .map(clone);
  }

  async countDeadLetters(subscriptionId: string): Promise<number> {
    return [...this.deadLetters.values()].filter((d) => d.subscriptionId === subscriptionId).length;
  }

  async redeliver(subscriptionId: string, at: number, eventIds?: string[]): Promise<number> {
    const wanted = eventIds && new Set(eventIds);
    let moved = 0;
    for (const [key, d] of [...this.deadLetters].sort(([a], [b]) => a - b)) {
      if (d.subscriptionId !== subscriptionId || (wanted && !wanted.has(d.event.id))) continue;
      this.deadLetters.delete(key);
      const id = this.nextOutboxId++;
      this.outbox.set(id, { id, subscriptionId, event: d.event, publishedAt: d.publishedAt, nextAttemptAt: at, attempts: 0 });
      moved++;
    }
    return moved;
  }
}

const keyOf = (subscriptionId: string, eventId: string) => `${subscriptionId}\n${eventId}`;
