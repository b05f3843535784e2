/**
 * Parley's event-log records and live signals → the JSON bodies the official browser SDK parses
 * (`@azure/communication-signaling` TrouterUtils.ts; docs/realtime.md "Official SDK"). The SDK is
 * strict in places a plain JSON client is not:
 *
 *  - identifiers travel as MRIs (`8:acs:…`) and the SDK derives their kind from the prefix;
 *  - dates are ISO strings (`new Date(value)`), read receipts carry the read time as epoch ms
 *    inside `consumptionhorizon`;
 *  - metadata, retention policy and participant lists are JSON *strings*, and those of the thread
 *    events are additionally read through `unescape()`, so they are sent `escape()`d: that way a
 *    topic or a name containing `%41` or `%u2713` survives unchanged;
 *  - a missing MRI or malformed nested JSON makes the SDK drop the event (and answer 404).
 */
import type { ChatMessageType, ChatRetentionPolicy, Metadata } from "@parley/protocol";
import type { EventRecord, MessageRecord, ParticipantRecord, ThreadRecord } from "../store/index.js";
import type { EphemeralSignal } from "../realtime/bus.js";
import { isoTime } from "../isoTime.js";

/** Trouter event ids the SDK dispatches on (a JSON number in the body). */
export const EVENT_IDS = {
  chatMessageReceived: 200,
  typingIndicatorReceived: 245,
  readReceiptReceived: 246,
  chatMessageEdited: 247,
  chatMessageDeleted: 248,
  chatThreadCreated: 257,
  chatThreadPropertiesUpdated: 258,
  chatThreadDeleted: 259,
  participantsAdded: 260,
  participantsRemoved: 261,
} as const;

export type TrouterPayload = { eventId: number } & Record<string, string | number>;

/** JS `escape()`: the SDK applies `unescape()` to the nested strings of thread events. */
const jsEscape: (s: string) => string = (globalThis as unknown as { escape: (s: string) => string }).escape;

/** Absent or empty maps as "" (the SDK reads "", "{}" and "[]" as nothing). */
function jsonString(value: Metadata | undefined): string {
  return value && Object.keys(value).length > 0 ? JSON.stringify(value) : "";
}

/** ACS sends message types capitalised in events ("Text", "RichText/Html"), unlike REST. */
export function eventMessageType(type: ChatMessageType): string {
  if (type === "text") return "Text";
  if (type === "html") return "RichText/Html";
  return type;
}

function participantPayload(p: ParticipantRecord): Record<string, string> {
  return {
    participantId: p.userId,
    ...(p.displayName !== undefined && { displayName: p.displayName }),
    ...(p.shareHistoryTime > 0 && { shareHistoryTime: isoTime(p.shareHistoryTime) }),
    memberMetaData: jsonString(p.metadata),
  };
}

const escapedJson = (value: unknown) => jsEscape(JSON.stringify(value));

function retentionPolicyString(policy: ChatRetentionPolicy | undefined): string | undefined {
  if (!policy || policy.kind !== "threadCreationDate") return undefined;
  return JSON.stringify({ retentionPolicyType: "DeleteAfterCreationTime", executeAfter: `${policy.deleteThreadAfterDays}.00:00:00` });
}

function propertiesPayload(thread: ThreadRecord): string {
  const retentionPolicy = retentionPolicyString(thread.retentionPolicy);
  return escapedJson({ topic: thread.topic, acsChatThreadMetadata: jsonString(thread.metadata), ...(retentionPolicy && { retentionPolicy }) });
}

/** Fields the real service sends that the SDK ignores; harmless, and useful to other clients. */
function recipientFields(recipientId: string) {
  return { recipientMri: recipientId, recipientId: recipientId.replace(/^8:/, "") };
}

function messageFields(m: MessageRecord, recipientId: string) {
  return {
    groupId: m.threadId,
    threadId: m.threadId,
    threadType: "chat",
    senderId: m.senderId ?? "",
    senderDisplayName: m.senderDisplayName ?? "",
    ...recipientFields(recipientId),
    messageId: m.id,
    clientMessageId: "",
    originalArrivalTime: isoTime(m.createdAt),
    composetime: isoTime(m.createdAt),
    version: m.version,
    messageType: eventMessageType(m.type),
    sequenceId: String(m.sequenceId),
    priority: "normal",
  };
}

function withContent(m: MessageRecord) {
  return { messageBody: m.content.message ?? "", acsChatMessageMetadata: jsonString(m.metadata) };
}

/** The actor as a participant (a bare id when they are not, or no longer, in the thread). */
function actorPayload(record: EventRecord): string {
  return escapedJson(participantPayload(record.data.actor ?? { userId: "", shareHistoryTime: 0 }));
}

/**
 * What every thread event (257-261) opens with, in the order the real service sends it: its id, the
 * thread, the log position as its version, and the recipient.
 */
function threadEventHead(record: EventRecord) {
  return { eventId: EVENT_IDS[record.name], threadId: record.threadId, version: String(record.at), ...recipientFields(record.userId) };
}

/** The Trouter body for one entry of a user's log, as that user (`record.userId`) receives it. */
export function renderLogPayload(record: EventRecord): TrouterPayload {
  const { thread, message, participants = [] } = record.data;
  const eventId = EVENT_IDS[record.name];
  switch (record.name) {
    case "chatMessageReceived":
      return { eventId, ...messageFields(message!, record.userId), ...withContent(message!) };
    case "chatMessageEdited":
      return { eventId, ...messageFields(message!, record.userId), ...withContent(message!), edittime: isoTime(message!.editedAt ?? record.at) };
    case "chatMessageDeleted":
      return { eventId, ...messageFields(message!, record.userId), deletetime: isoTime(message!.deletedAt ?? record.at) };
    case "chatThreadCreated":
      return {
        ...threadEventHead(record),
        createTime: isoTime(thread!.createdAt),
        createdBy: actorPayload(record),
        members: escapedJson(participants.map(participantPayload)),
        properties: propertiesPayload(thread!),
      };
    case "chatThreadPropertiesUpdated":
      return {
        ...threadEventHead(record),
        editTime: isoTime(record.at),
        editedBy: actorPayload(record),
        properties: propertiesPayload(thread!),
      };
    case "chatThreadDeleted":
      return {
        ...threadEventHead(record),
        deleteTime: isoTime(record.at),
        // No actor: the retention policy deleted it, and the SDK then reports deletedBy: null.
        ...(record.data.actor ? { deletedBy: actorPayload(record), reason: "deletedByUser" } : { reason: "deletedByPolicy" }),
      };
    case "participantsAdded":
    case "participantsRemoved":
      // One body for both: they differ only in two field names, the list (named like the event) and its actor.
      return {
        ...threadEventHead(record),
        time: isoTime(record.at),
        [record.name === "participantsAdded" ? "addedBy" : "removedBy"]: actorPayload(record),
        [record.name]: escapedJson(participants.map(participantPayload)),
      };
  }
}

/** The Trouter body for a live-only signal, as `recipientId` receives it. */
export function renderSignalPayload(signal: EphemeralSignal, recipientId: string): TrouterPayload {
  const base = { groupId: signal.threadId, threadId: signal.threadId, senderId: signal.senderId, ...recipientFields(recipientId) };
  if (signal.name === "typingIndicatorReceived") {
    return {
      eventId: EVENT_IDS.typingIndicatorReceived,
      ...base,
      senderDisplayName: signal.senderDisplayName ?? "",
      version: String(signal.at),
      originalArrivalTime: isoTime(signal.at),
      messageType: "Control/Typing",
    };
  }
  const messageId = signal.chatMessageId ?? "";
  return {
    eventId: EVENT_IDS.readReceiptReceived,
    ...base,
    messageId,
    clientMessageId: "",
    messageType: "ThreadActivity/MemberConsumptionHorizonUpdate",
    // The SDK takes readOn from the second field of consumptionhorizon (epoch ms).
    messageBody: JSON.stringify({ user: signal.senderId, consumptionhorizon: `${messageId};${signal.at};0`, messageVisibilityTime: signal.at, version: String(signal.at) }),
  };
}
