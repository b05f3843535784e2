export { eventsForChange, eventId, type WebhookEvent } from "./events.js";
export { renderBody, toCloudEvent, toEventGrid, CONTENT_TYPES } from "./envelope.js";
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody, verifyWebhookSignature, type VerifyInput } from "./signature.js";
export { WebhookDispatcher, DEFAULT_WEBHOOK_OPTIONS, resolveWebhookOptions, type WebhookOptions } from "./dispatcher.js";
export { WebhookService } from "./service.js";
export { loadWebhooksConfig, readSubscriptionInput, type SubscriptionInput } from "./subscriptions.js";
export { MemoryWebhookStore } from "./memoryWebhookStore.js";
export { openSqliteWebhookStore, SqliteWebhookStore } from "./sqliteWebhookStore.js";
export type * from "./webhookStore.js";
