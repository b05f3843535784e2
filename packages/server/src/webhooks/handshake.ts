/**
 * Proving the subscriber wants the events, as Event Grid does before it delivers anything:
 *
 *  - EventGridSchema: POST a `Microsoft.EventGrid.SubscriptionValidationEvent` (header
 *    `aeg-event-type: SubscriptionValidation`); the endpoint answers 200 with
 *    `{"validationResponse": "<validationCode>"}`. An endpoint that answers 2xx without it may instead
 *    GET the `validationUrl` from the event within 10 minutes (Event Grid's manual handshake).
 *  - CloudEventSchema: the CloudEvents webhook abuse-protection handshake — an OPTIONS request with
 *    `WebHook-Request-Origin`; the endpoint answers 2xx with `WebHook-Allowed-Origin` set to that
 *    origin or `*`.
 */
import { randomUUID } from "node:crypto";
import { validationEvent } from "./envelope.js";
import { signatureHeaders } from "./signature.js";
import { httpAttempt } from "./transport.js";
import type { SubscriptionRecord } from "./webhookStore.js";

export type HandshakeOutcome = { outcome: "validated" } | { outcome: "manual" } | { outcome: "failed"; reason: string };

export interface HandshakeOptions {
  topic: string;
  /** Sent as WebHook-Request-Origin (CloudEvents). */
  requestOrigin: string;
  timeoutMs: number;
  now: number;
  /** Offered in the Event Grid validation event when the subscriber may validate later. */
  validationUrl?: string;
}

export async function handshake(subscription: SubscriptionRecord, code: string, options: HandshakeOptions): Promise<HandshakeOutcome> {
  return subscription.schema === "CloudEventSchema" ? cloudEventsHandshake(subscription, options) : eventGridHandshake(subscription, code, options);
}

async function eventGridHandshake(subscription: SubscriptionRecord, code: string, options: HandshakeOptions): Promise<HandshakeOutcome> {
  const body = Buffer.from(
    JSON.stringify(
      validationEvent({
        id: randomUUID(),
        topic: options.topic,
        code,
        at: options.now,
        ...(options.validationUrl && { validationUrl: options.validationUrl }),
      }),
    ),
  );
  const result = await httpAttempt({
    method: "POST",
    url: subscription.url,
    body,
    timeoutMs: options.timeoutMs,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "aeg-event-type": "SubscriptionValidation",
      "aeg-subscription-name": subscription.id.toUpperCase(),
      "aeg-metadata-version": "1",
      "aeg-data-version": "2",
      ...signatureHeaders(subscription.secret, options.now, body),
    },
  });
  if (result.status === undefined) return { outcome: "failed", reason: result.error ?? "no answer" };
  if (result.status < 200 || result.status > 299) return { outcome: "failed", reason: `the endpoint answered ${result.status}` };
  let answer: unknown;
  try {
    answer = result.text ? JSON.parse(result.text) : undefined;
  } catch {
    answer = undefined;
  }
  const echoed = typeof answer === "object" && answer !== null ? (answer as Record<string, unknown>).validationResponse : undefined;
  if (echoed === code) return { outcome: "validated" };
  if (echoed !== undefined) return { outcome: "failed", reason: "validationResponse does not match the validationCode" };
  return options.validationUrl ? { outcome: "manual" } : { outcome: "failed", reason: "the endpoint did not answer with validationResponse" };
}

async function cloudEventsHandshake(subscription: SubscriptionRecord, options: HandshakeOptions): Promise<HandshakeOutcome> {
  const result = await httpAttempt({
    method: "OPTIONS",
    url: subscription.url,
    timeoutMs: options.timeoutMs,
    headers: { "webhook-request-origin": options.requestOrigin, "webhook-request-rate": "120" },
  });
  if (result.status === undefined) return { outcome: "failed", reason: result.error ?? "no answer" };
  if (result.status < 200 || result.status > 299) return { outcome: "failed", reason: `the endpoint answered ${result.status} to OPTIONS` };
  const allowed = result.headers?.get("webhook-allowed-origin")?.split(",").map((o) => o.trim());
  if (allowed?.includes("*") || allowed?.includes(options.requestOrigin)) return { outcome: "validated" };
  return { outcome: "failed", reason: `WebHook-Allowed-Origin does not allow ${options.requestOrigin}` };
}
