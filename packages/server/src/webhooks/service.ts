/**
 * WebhookService: what the admin API and the config file do to subscriptions — create (with the
 * validation handshake), list, get, delete, validate again, and the dead letters. Returns records or
 * DomainErrors; the HTTP layer renders them.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import { DomainError, notFound } from "../domain/errors.js";
import type { ResolvedWebhookOptions, WebhookDispatcher } from "./dispatcher.js";
import { handshake } from "./handshake.js";
import type { SubscriptionInput } from "./subscriptions.js";
import type { DeadLetterRecord, SubscriptionRecord, WebhookStore } from "./webhookStore.js";

export interface WebhookServiceDeps {
  store: WebhookStore;
  dispatcher: WebhookDispatcher;
  options: ResolvedWebhookOptions;
  clock: () => number;
  uuid: () => string;
  log: FastifyBaseLogger;
}

export interface Created {
  subscription: SubscriptionRecord;
  /** Shown once, in the create answer. */
  secret: string;
  /** When the endpoint chose the manual handshake: GET it within validationUrlLifetimeMs. */
  validationUrl?: string;
}

export interface SubscriptionStats {
  pendingDeliveries: number;
  deadLetters: number;
}

const generateSecret = () => randomBytes(32).toString("base64url");

export class WebhookService {
  private revalidation: NodeJS.Timeout | undefined;
  private revalidating: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly deps: WebhookServiceDeps) {}

  async create(input: SubscriptionInput, context: { origin?: string } = {}): Promise<Created | DomainError> {
    const { store, clock } = this.deps;
    const id = input.id ?? this.deps.uuid();
    if (await store.getSubscription(id)) return new DomainError("Conflict", `A webhook subscription named ${id} already exists.`, "id");
    const secret = input.secret ?? generateSecret();
    const now = clock();
    const record = this.record(input, { id, secret, source: "api", createdAt: now });
    await store.putSubscription(record);
    if (record.status === "active") {
      await this.deps.dispatcher.reload();
      return { subscription: record, secret };
    }

    const validationUrl = record.schema === "EventGridSchema" && context.origin ? this.validationUrl(context.origin, record) : undefined;
    const outcome = await this.shake(record, validationUrl);
    if (outcome.outcome === "failed") {
      // Validated through the URL while the POST was failing? Then it stands.
      if ((await store.getSubscription(id))?.status !== "active") {
        await store.deleteSubscription(id);
        return new DomainError("BadRequest", `Webhook validation handshake failed for ${input.url}: ${outcome.reason}.`, "url");
      }
    }
    const current = outcome.outcome === "validated" ? await this.activate(id, "handshake") : await store.getSubscription(id);
    return { subscription: current ?? record, secret, ...(current?.status !== "active" && validationUrl && { validationUrl }) };
  }

  async list(): Promise<SubscriptionRecord[]> {
    return this.deps.store.listSubscriptions();
  }

  async get(id: string): Promise<SubscriptionRecord | DomainError> {
    return (await this.deps.store.getSubscription(id)) ?? unknown(id);
  }

  async stats(id: string): Promise<SubscriptionStats> {
    const [pendingDeliveries, deadLetters] = await Promise.all([this.deps.store.countPending(id), this.deps.store.countDeadLetters(id)]);
    return { pendingDeliveries, deadLetters };
  }

  /** Idempotent: deleting an unknown subscription is not an error. */
  async delete(id: string): Promise<void> {
    await this.deps.store.deleteSubscription(id);
    await this.deps.dispatcher.reload();
  }

  /** Runs the handshake again for a subscription awaiting validation (active ones are left as they are). */
  async validate(id: string, context: { origin?: string } = {}): Promise<{ subscription: SubscriptionRecord; validationUrl?: string } | DomainError> {
    const found = await this.deps.store.getSubscription(id);
    if (!found) return unknown(id);
    if (found.status === "active") return { subscription: found };
    const record = { ...found, validationCode: this.deps.uuid(), validationExpiresAt: this.deps.clock() + this.deps.options.validationUrlLifetimeMs };
    await this.deps.store.putSubscription(record);
    const validationUrl = record.schema === "EventGridSchema" && context.origin ? this.validationUrl(context.origin, record) : undefined;
    const outcome = await this.shake(record, validationUrl);
    if (outcome.outcome === "failed") return new DomainError("BadRequest", `Webhook validation handshake failed for ${record.url}: ${outcome.reason}.`, "url");
    const current = outcome.outcome === "validated" ? await this.activate(id, "handshake") : await this.deps.store.getSubscription(id);
    return { subscription: current ?? record, ...(current?.status !== "active" && validationUrl && { validationUrl }) };
  }

  /** The manual handshake: the subscriber GETs the validation URL it was sent. */
  async confirm(id: string, code: string | undefined): Promise<SubscriptionRecord | DomainError> {
    const found = await this.deps.store.getSubscription(id);
    if (!found) return unknown(id);
    if (found.status === "active") return found;
    const expected = found.validationCode ?? "";
    const given = code ?? "";
    const valid = given.length === expected.length && expected.length > 0 && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!valid) return new DomainError("BadRequest", "The validation code is not valid for this subscription.", "code");
    if ((found.validationExpiresAt ?? 0) < this.deps.clock()) {
      return new DomainError("BadRequest", "The validation URL has expired; validate the subscription again.", "code");
    }
    return (await this.activate(id, "validationUrl")) ?? found;
  }

  async deadLetters(id: string, options: { beforeId?: number; limit: number }): Promise<{ subscription: SubscriptionRecord; deadLetters: DeadLetterRecord[] } | DomainError> {
    const subscription = await this.deps.store.getSubscription(id);
    if (!subscription) return unknown(id);
    return { subscription, deadLetters: await this.deps.store.listDeadLetters(id, options) };
  }

  /** Puts dead letters back in the outbox (all of them, or those with the given event ids). */
  async redeliver(id: string, eventIds?: string[]): Promise<number | DomainError> {
    if (!(await this.deps.store.getSubscription(id))) return unknown(id);
    const moved = await this.deps.store.redeliver(id, this.deps.clock(), eventIds);
    if (eventIds && moved === 0) return notFound(`No dead letter with event id ${eventIds.join(", ")} for subscription ${id}.`, "eventId");
    this.deps.dispatcher.wake();
    return moved;
  }

  /**
   * Makes the stored config-file subscriptions match the file: adds new ones, updates changed ones
   * (a new URL, schema or secret needs validating again), deletes those no longer listed. Those
   * awaiting validation retry the handshake in the background every `revalidateEveryMs`.
   */
  async applyConfig(inputs: Array<SubscriptionInput & { id: string; secret: string }>): Promise<void> {
    const { store, clock } = this.deps;
    const existing = new Map((await store.listSubscriptions()).map((s) => [s.id, s]));
    const wanted = new Set(inputs.map((i) => i.id));
    for (const s of existing.values()) if (s.source === "config" && !wanted.has(s.id)) await store.deleteSubscription(s.id);
    for (const input of inputs) {
      const previous = existing.get(input.id);
      const next = this.record(input, { id: input.id, secret: input.secret, source: "config", createdAt: previous?.createdAt ?? clock() });
      const sameEndpoint = previous && previous.url === next.url && previous.schema === next.schema && previous.secret === next.secret;
      if (!input.skipValidation && sameEndpoint && previous.status === "active" && previous.validatedBy !== "skipped") {
        next.status = "active";
        next.validatedBy = previous.validatedBy ?? "handshake";
      }
      await store.putSubscription(next);
    }
    await this.deps.dispatcher.reload();
    // In the background: a receiver that is not up yet must not hold up Parley's start.
    this.revalidateConfig();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.revalidation) clearTimeout(this.revalidation);
    await this.revalidating;
  }

  private revalidateConfig(): void {
    if (this.revalidation) clearTimeout(this.revalidation);
    this.revalidation = undefined;
    if (this.closed || this.revalidating) return;
    this.revalidating = this.revalidatePending()
      .catch((err) => this.deps.log.error({ err }, "webhooks: revalidation failed"))
      .finally(() => (this.revalidating = undefined));
  }

  private async revalidatePending(): Promise<void> {
    const pending = (await this.deps.store.listSubscriptions()).filter((s) => s.source === "config" && s.status === "awaitingValidation");
    const results = await Promise.all(
      pending.map(async (s) => {
        const outcome = await this.shake(s, undefined);
        if (outcome.outcome === "validated") {
          await this.activate(s.id, "handshake");
          this.deps.log.info({ subscription: s.id }, "webhooks: subscription validated");
          return true;
        }
        this.deps.log.warn({ subscription: s.id, reason: outcome.outcome === "failed" ? outcome.reason : "no validationResponse" }, "webhooks: validation handshake failed; will retry");
        return false;
      }),
    );
    if (results.some((ok) => !ok) && !this.closed) {
      this.revalidation = setTimeout(() => this.revalidateConfig(), this.deps.options.revalidateEveryMs);
      this.revalidation.unref();
    }
  }

  private record(input: SubscriptionInput, fixed: { id: string; secret: string; source: SubscriptionRecord["source"]; createdAt: number }): SubscriptionRecord {
    const now = this.deps.clock();
    return {
      id: fixed.id,
      url: input.url,
      schema: input.schema,
      ...(input.includedEventTypes && { includedEventTypes: input.includedEventTypes }),
      ...(input.subjectBeginsWith && { subjectBeginsWith: input.subjectBeginsWith }),
      ...(input.subjectEndsWith && { subjectEndsWith: input.subjectEndsWith }),
      secret: fixed.secret,
      // Event Grid schema bodies are arrays anyway, so batching is free for its receivers; CloudEvents
      // receivers get one structured event per request unless they ask for batches (Event Grid's default).
      maxEventsPerBatch: input.maxEventsPerBatch ?? (input.schema === "EventGridSchema" ? 10 : 1),
      maxConcurrentDeliveries: input.maxConcurrentDeliveries ?? 4,
      status: input.skipValidation ? "active" : "awaitingValidation",
      ...(input.skipValidation ? { validatedBy: "skipped" as const } : { validationCode: this.deps.uuid(), validationExpiresAt: now + this.deps.options.validationUrlLifetimeMs }),
      source: fixed.source,
      createdAt: fixed.createdAt,
      updatedAt: now,
    };
  }

  private validationUrl(origin: string, record: SubscriptionRecord): string {
    return `${origin}/webhooks/subscriptions/${record.id}/validate?code=${encodeURIComponent(record.validationCode ?? "")}`;
  }

  private shake(record: SubscriptionRecord, validationUrl: string | undefined) {
    const { options, clock } = this.deps;
    return handshake(record, record.validationCode ?? this.deps.uuid(), {
      topic: options.topic,
      requestOrigin: options.requestOrigin,
      timeoutMs: options.requestTimeoutMs,
      now: clock(),
      ...(validationUrl && { validationUrl }),
    });
  }

  private async activate(id: string, by: NonNullable<SubscriptionRecord["validatedBy"]>): Promise<SubscriptionRecord | undefined> {
    const found = await this.deps.store.getSubscription(id);
    if (!found) return undefined;
    if (found.status === "active") return found;
    const { validationCode: _code, validationExpiresAt: _expires, ...rest } = found;
    const active: SubscriptionRecord = { ...rest, status: "active", validatedBy: by, updatedAt: this.deps.clock() };
    await this.deps.store.putSubscription(active);
    await this.deps.dispatcher.reload();
    return active;
  }
}

const unknown = (id: string) => notFound(`No webhook subscription named ${id}.`, "subscriptionId");
