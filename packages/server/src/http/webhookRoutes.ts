/**
 * Webhook subscriptions (docs/webhooks.md): an admin API authenticated with the access key, like the
 * Identity API, plus the one open route a subscriber uses for the manual validation handshake.
 */
import { ACS_CHAT_EVENT_TYPES } from "@parley/protocol";
import { DomainError, invalidParameter } from "../domain/errors.js";
import { toCloudEvent, toEventGrid } from "../webhooks/envelope.js";
import type { WebhookService, SubscriptionStats } from "../webhooks/service.js";
import { readSubscriptionInput, SUBSCRIPTION_ID } from "../webhooks/subscriptions.js";
import type { ResolvedWebhookOptions } from "../webhooks/dispatcher.js";
import type { DeadLetterRecord, SubscriptionRecord } from "../webhooks/webhookStore.js";
import { keysetPage, readPageState } from "./paging.js";
import type { Pipeline } from "./pipeline.js";
import { isoTime } from "../isoTime.js";

/** A subscription as the API shows it; the secret only ever appears in the create answer. */
function renderSubscription(s: SubscriptionRecord, stats?: SubscriptionStats) {
  return {
    id: s.id,
    url: s.url,
    schema: s.schema,
    includedEventTypes: s.includedEventTypes ?? [...ACS_CHAT_EVENT_TYPES],
    ...(s.subjectBeginsWith && { subjectBeginsWith: s.subjectBeginsWith }),
    ...(s.subjectEndsWith && { subjectEndsWith: s.subjectEndsWith }),
    maxEventsPerBatch: s.maxEventsPerBatch,
    maxConcurrentDeliveries: s.maxConcurrentDeliveries,
    // Event Grid's words: Succeeded once validated, AwaitingManualAction until then.
    provisioningState: s.status === "active" ? "Succeeded" : "AwaitingManualAction",
    ...(s.validatedBy && { validatedBy: s.validatedBy }),
    source: s.source,
    createdAt: isoTime(s.createdAt),
    updatedAt: isoTime(s.updatedAt),
    ...stats,
  };
}

function renderDeadLetter(d: DeadLetterRecord, subscription: SubscriptionRecord, topic: string) {
  return {
    eventId: d.event.id,
    eventType: d.event.type,
    subject: d.event.subject,
    deadLetterReason: d.reason,
    deliveryAttempts: d.attempts,
    lastDeliveryOutcome: d.lastError ?? "",
    ...(d.lastStatus !== undefined && { lastHttpStatusCode: d.lastStatus }),
    publishTime: isoTime(d.publishedAt),
    ...(d.lastAttemptAt !== undefined && { lastDeliveryAttemptTime: isoTime(d.lastAttemptAt) }),
    deadLetterTime: isoTime(d.deadLetteredAt),
    // The event exactly as it was being delivered, in the subscription's schema.
    event: subscription.schema === "CloudEventSchema" ? toCloudEvent(d.event, topic) : toEventGrid(d.event, topic),
  };
}

function subscriptionId(params: Record<string, string>): string | DomainError {
  const id = params.id ?? "";
  return SUBSCRIPTION_ID.test(id) ? id : invalidParameter("A subscription id is 3 to 64 letters, digits, '-' or '_'.", "subscriptionId");
}

/** `webhooks/subscriptions/{id}` routes. */
const subscriptionIds = (params: Record<string, string>) => {
  const id = subscriptionId(params);
  return typeof id === "string" ? { id } : id;
};

/** `…/deadLetters/{eventId}` routes: event ids are GUIDs. */
const deadLetterIds = (params: Record<string, string>) => {
  const id = subscriptionId(params);
  if (typeof id !== "string") return id;
  const eventId = params.eventId ?? "";
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(eventId) ? { id, eventId } : invalidParameter("An event id is a GUID.", "eventId");
};

export function webhookRoutes(pipeline: Pipeline, webhooks: WebhookService, options: Pick<ResolvedWebhookOptions, "topic">): void {
  pipeline.accessKey({
    method: "POST",
    url: "/webhooks/subscriptions",
    body: (json) => readSubscriptionInput(json),
    handle: async ({ body, origin }) => {
      const created = await webhooks.create(body, { origin });
      if (created instanceof DomainError) return created;
      return {
        status: 201,
        headers: { location: `/webhooks/subscriptions/${created.subscription.id}` },
        body: {
          ...renderSubscription(created.subscription),
          secret: created.secret,
          ...(created.validationUrl && { validationUrl: created.validationUrl }),
        },
      };
    },
  });

  pipeline.accessKey({
    method: "GET",
    url: "/webhooks/subscriptions",
    handle: async () => {
      const all = await webhooks.list();
      return { status: 200, body: { value: all.map((s) => renderSubscription(s)) } };
    },
  });

  pipeline.accessKey({
    method: "GET",
    url: "/webhooks/subscriptions/:id",
    ids: subscriptionIds,
    handle: async ({ ids: { id } }) => {
      const found = await webhooks.get(id);
      if (found instanceof DomainError) return found;
      return { status: 200, body: renderSubscription(found, await webhooks.stats(id)) };
    },
  });

  pipeline.accessKey({
    method: "DELETE",
    url: "/webhooks/subscriptions/:id",
    ids: subscriptionIds,
    handle: async ({ ids: { id } }) => {
      await webhooks.delete(id);
      return { status: 204 };
    },
  });

  pipeline.accessKey({
    method: "POST",
    url: "/webhooks/subscriptions/:id/::validate",
    ids: subscriptionIds,
    handle: async ({ ids: { id }, origin }) => {
      const outcome = await webhooks.validate(id, { origin });
      if (outcome instanceof DomainError) return outcome;
      return { status: 200, body: { ...renderSubscription(outcome.subscription), ...(outcome.validationUrl && { validationUrl: outcome.validationUrl }) } };
    },
  });

  pipeline.accessKey({
    method: "GET",
    url: "/webhooks/subscriptions/:id/deadLetters",
    ids: subscriptionIds,
    handle: async ({ ids: { id }, query, rawUrl, apiVersion }) => {
      const state = readPageState(query, {});
      if (state instanceof DomainError) return state;
      const listed = await webhooks.deadLetters(id, { ...(state.before !== undefined && { beforeId: state.before }), limit: state.size + 1 });
      if (listed instanceof DomainError) return listed;
      const page = keysetPage(listed.deadLetters, state, (d) => d.id, (d) => renderDeadLetter(d, listed.subscription, options.topic), { rawUrl, apiVersion });
      return { status: 200, body: page };
    },
  });

  pipeline.accessKey({
    method: "POST",
    url: "/webhooks/subscriptions/:id/deadLetters/::redeliver",
    ids: subscriptionIds,
    handle: async ({ ids: { id } }) => {
      const moved = await webhooks.redeliver(id);
      return moved instanceof DomainError ? moved : { status: 202, body: { redelivered: moved } };
    },
  });

  pipeline.accessKey({
    method: "POST",
    url: "/webhooks/subscriptions/:id/deadLetters/:eventId/::redeliver",
    ids: deadLetterIds,
    handle: async ({ ids: { id, eventId } }) => {
      const moved = await webhooks.redeliver(id, [eventId]);
      return moved instanceof DomainError ? moved : { status: 202, body: { redelivered: moved } };
    },
  });

  // The manual handshake: Event Grid-schema subscribers that cannot echo the code synchronously GET
  // the validationUrl they were sent. The code in it is the credential, as with Event Grid's.
  pipeline.open({
    method: "GET",
    url: "/webhooks/subscriptions/:id/validate",
    handle: async ({ params, query }) => {
      const id = subscriptionId(params);
      if (id instanceof DomainError) return id;
      const confirmed = await webhooks.confirm(id, query.code);
      if (confirmed instanceof DomainError) return confirmed;
      return { status: 200, body: { id: confirmed.id, provisioningState: "Succeeded", message: "Webhook successfully validated as a result of the validation URL request." } };
    },
  });
}
