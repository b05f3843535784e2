/** Events → the request body of one delivery, in the subscription's schema. */
import {
  SUBSCRIPTION_VALIDATION_EVENT_TYPE,
  type CloudEvent,
  type EventGridEvent,
  type SubscriptionValidationEventData,
} from "@parley/protocol";
import { isoTime } from "../isoTime.js";
import type { WebhookEvent } from "./events.js";
import type { EventSchema } from "./webhookStore.js";

export const CONTENT_TYPES = {
  eventGrid: "application/json; charset=utf-8",
  cloudEvent: "application/cloudevents+json; charset=utf-8",
  cloudEventBatch: "application/cloudevents-batch+json; charset=utf-8",
} as const;

export function toEventGrid(event: WebhookEvent, topic: string): EventGridEvent {
  return {
    id: event.id,
    topic,
    subject: event.subject,
    data: event.data,
    eventType: event.type,
    dataVersion: "1.0",
    metadataVersion: "1",
    eventTime: event.time,
  };
}

export function toCloudEvent(event: WebhookEvent, source: string): CloudEvent {
  return { specversion: "1.0", id: event.id, source, subject: event.subject, type: event.type, time: event.time, data: event.data };
}

/**
 * Event Grid schema: always a JSON array. CloudEvents: one structured-mode event when the
 * subscription takes one event per request (Event Grid's default), else the batch format.
 */
export function renderBody(
  schema: EventSchema,
  events: WebhookEvent[],
  options: { topic: string; single: boolean },
): { body: Buffer; contentType: string } {
  if (schema === "EventGridSchema") {
    return { body: Buffer.from(JSON.stringify(events.map((e) => toEventGrid(e, options.topic)))), contentType: CONTENT_TYPES.eventGrid };
  }
  if (options.single && events.length === 1) {
    return { body: Buffer.from(JSON.stringify(toCloudEvent(events[0]!, options.topic))), contentType: CONTENT_TYPES.cloudEvent };
  }
  return { body: Buffer.from(JSON.stringify(events.map((e) => toCloudEvent(e, options.topic)))), contentType: CONTENT_TYPES.cloudEventBatch };
}

/** The Event Grid subscription validation event (data version 2, like Event Grid's). */
export function validationEvent(options: { id: string; topic: string; code: string; validationUrl?: string; at: number }): EventGridEvent<SubscriptionValidationEventData>[] {
  return [
    {
      id: options.id,
      topic: options.topic,
      subject: "",
      data: { validationCode: options.code, ...(options.validationUrl && { validationUrl: options.validationUrl }) },
      eventType: SUBSCRIPTION_VALIDATION_EVENT_TYPE,
      dataVersion: "2",
      metadataVersion: "1",
      eventTime: isoTime(options.at),
    },
  ];
}
