/** Event-log records and ephemeral signals → the wire events of the event stream (protocol/events.ts). */
import {
  userKind,
  type ChatEventMap,
  type ChatEventName,
  type EventParticipant,
} from "@parley/protocol";
import type { EventRecord, MessageRecord, ParticipantRecord, ThreadRecord } from "../store/index.js";
import type { EphemeralSignal } from "./bus.js";
import { isoTime } from "../isoTime.js";

export function participant(p: ParticipantRecord): EventParticipant {
  return {
    id: userKind(p.userId),
    displayName: p.displayName ?? "",
    metadata: p.metadata ?? {},
    ...(p.shareHistoryTime > 0 && { shareHistoryTime: isoTime(p.shareHistoryTime) }),
  };
}

function actorOf(event: LoggedEvent): EventParticipant {
  return participant(event.data.actor ?? { userId: "", shareHistoryTime: 0 });
}

function messageBase(m: MessageRecord) {
  return {
    threadId: m.threadId,
    sender: userKind(m.senderId ?? ""),
    senderDisplayName: m.senderDisplayName ?? "",
    id: m.id,
    createdOn: isoTime(m.createdAt),
    version: m.version,
    type: m.type,
    sequenceId: String(m.sequenceId),
  };
}

function threadProperties(t: ThreadRecord) {
  return { topic: t.topic, metadata: t.metadata ?? {} };
}

/** A log entry's event as every recipient shares it: everything but `seq` and the recipient. */
export type LoggedEvent = Pick<EventRecord, "name" | "threadId" | "data" | "at">;
type WithoutRecipient<T> = T extends unknown ? Omit<T, "recipient"> : never;
type EventBody = WithoutRecipient<ChatEventMap[ChatEventName]>;

/** The wire event of a log entry, without its `recipient` (the one field that differs per user). */
function renderEventBody(event: LoggedEvent): { name: ChatEventName; body: EventBody } {
  const { thread, message, participants = [] } = event.data;
  const { threadId } = event;
  const version = String(event.at);
  switch (event.name) {
    case "chatMessageReceived":
      return { name: event.name, body: { ...messageBase(message!), message: message!.content.message ?? "", metadata: message!.metadata ?? {} } };
    case "chatMessageEdited":
      return {
        name: event.name,
        body: { ...messageBase(message!), message: message!.content.message ?? "", metadata: message!.metadata ?? {}, editedOn: isoTime(message!.editedAt ?? event.at) },
      };
    case "chatMessageDeleted":
      return { name: event.name, body: { ...messageBase(message!), deletedOn: isoTime(message!.deletedAt ?? event.at) } };
    case "chatThreadCreated":
      return {
        name: event.name,
        body: {
          threadId,
          version,
          createdOn: isoTime(thread!.createdAt),
          properties: threadProperties(thread!),
          participants: participants.map(participant),
          createdBy: actorOf(event),
          ...(thread!.retentionPolicy && { retentionPolicy: thread!.retentionPolicy }),
        },
      };
    case "chatThreadPropertiesUpdated":
      return {
        name: event.name,
        body: {
          threadId,
          version,
          properties: threadProperties(thread!),
          updatedOn: isoTime(event.at),
          updatedBy: actorOf(event),
          ...(thread!.retentionPolicy && { retentionPolicy: thread!.retentionPolicy }),
        },
      };
    case "chatThreadDeleted":
      return {
        name: event.name,
        body: { threadId, version, deletedOn: isoTime(event.at), deletedBy: actorOf(event), reason: event.data.actor ? "deletedByUser" : "deletedByPolicy" },
      };
    case "participantsAdded":
      return { name: event.name, body: { threadId, version, addedOn: isoTime(event.at), participantsAdded: participants.map(participant), addedBy: actorOf(event) } };
    case "participantsRemoved":
      return { name: event.name, body: { threadId, version, removedOn: isoTime(event.at), participantsRemoved: participants.map(participant), removedBy: actorOf(event) } };
  }
}

/** The wire event for one entry of a user's log. */
export function renderLogEvent(record: EventRecord): { name: ChatEventName; data: ChatEventMap[ChatEventName] } {
  const { name, body } = renderEventBody(record);
  return { name, data: { ...body, recipient: userKind(record.userId) } as ChatEventMap[ChatEventName] };
}

/** A recipient as spliced into event frames: the JSON of its identifier. */
export const recipientJson = (userId: string): string => JSON.stringify(userKind(userId));

/**
 * A log entry's `event` frame (protocol ServerFrame), rendered and serialized once for all its
 * recipients: a 1,000-member thread's message is one render and one JSON.stringify, and each
 * connection only splices in its `seq` and `recipient`.
 */
export class RenderedEvent {
  private readonly head: string;
  private readonly tail: string;

  constructor(event: LoggedEvent) {
    const { name, body } = renderEventBody(event);
    this.head = `,"event":${JSON.stringify(name)},"data":{"recipient":`;
    // The body is never empty (every event has a threadId): drop its "{" and continue after recipient.
    this.tail = `,${JSON.stringify(body).slice(1)}}`;
  }

  frame(seq: number, recipient: string): string {
    return `{"type":"event","seq":${seq}${this.head}${recipient}${this.tail}`;
  }
}

/** The wire event for a live-only signal, as one recipient sees it. */
export function renderSignal(signal: EphemeralSignal, recipientId: string): { name: ChatEventName; data: ChatEventMap[ChatEventName] } {
  const base = {
    threadId: signal.threadId,
    sender: userKind(signal.senderId),
    senderDisplayName: signal.senderDisplayName ?? "",
    recipient: userKind(recipientId),
  };
  if (signal.name === "typingIndicatorReceived") {
    return { name: signal.name, data: { ...base, version: String(signal.at), receivedOn: isoTime(signal.at) } };
  }
  return { name: signal.name, data: { ...base, chatMessageId: signal.chatMessageId ?? "", readOn: isoTime(signal.at) } };
}
