/** Event-log records and ephemeral signals → the wire events of the event stream (protocol/events.ts). */
import {
  userKind,
  type ChatEventMap,
  type ChatEventName,
  type EventParticipant,
} from "@parley/protocol";
import type { EventRecord, MessageRecord, ParticipantRecord, ThreadRecord } from "../store/index.js";
import type { EphemeralSignal } from "./bus.js";

const iso = (ms: number) => new Date(ms).toISOString();

export function participant(p: ParticipantRecord): EventParticipant {
  return {
    id: userKind(p.userId),
    displayName: p.displayName ?? "",
    metadata: p.metadata ?? {},
    ...(p.shareHistoryTime > 0 && { shareHistoryTime: iso(p.shareHistoryTime) }),
  };
}

function actorOf(record: EventRecord): EventParticipant {
  return participant(record.data.actor ?? { userId: "", shareHistoryTime: 0 });
}

function messageBase(m: MessageRecord, recipientId: string) {
  return {
    threadId: m.threadId,
    sender: userKind(m.senderId ?? ""),
    senderDisplayName: m.senderDisplayName ?? "",
    recipient: userKind(recipientId),
    id: m.id,
    createdOn: iso(m.createdAt),
    version: m.version,
    type: m.type,
    sequenceId: String(m.sequenceId),
  };
}

function threadProperties(t: ThreadRecord) {
  return { topic: t.topic, metadata: t.metadata ?? {} };
}

/** The wire event for one entry of a user's log. */
export function renderLogEvent(record: EventRecord): { name: ChatEventName; data: ChatEventMap[ChatEventName] } {
  const recipient = userKind(record.userId);
  const { thread, message, participants = [] } = record.data;
  const version = String(record.at);
  switch (record.name) {
    case "chatMessageReceived":
      return { name: record.name, data: { ...messageBase(message!, record.userId), message: message!.content.message ?? "", metadata: message!.metadata ?? {} } };
    case "chatMessageEdited":
      return {
        name: record.name,
        data: { ...messageBase(message!, record.userId), message: message!.content.message ?? "", metadata: message!.metadata ?? {}, editedOn: iso(message!.editedAt ?? record.at) },
      };
    case "chatMessageDeleted":
      return { name: record.name, data: { ...messageBase(message!, record.userId), deletedOn: iso(message!.deletedAt ?? record.at) } };
    case "chatThreadCreated":
      return {
        name: record.name,
        data: {
          threadId: record.threadId,
          version,
          recipient,
          createdOn: iso(thread!.createdAt),
          properties: threadProperties(thread!),
          participants: participants.map(participant),
          createdBy: actorOf(record),
          ...(thread!.retentionPolicy && { retentionPolicy: thread!.retentionPolicy }),
        },
      };
    case "chatThreadPropertiesUpdated":
      return {
        name: record.name,
        data: {
          threadId: record.threadId,
          version,
          recipient,
          properties: threadProperties(thread!),
          updatedOn: iso(record.at),
          updatedBy: actorOf(record),
          ...(thread!.retentionPolicy && { retentionPolicy: thread!.retentionPolicy }),
        },
      };
    case "chatThreadDeleted":
      return {
        name: record.name,
        data: { threadId: record.threadId, version, recipient, deletedOn: iso(record.at), deletedBy: actorOf(record), reason: record.data.actor ? "deletedByUser" : "deletedByPolicy" },
      };
    case "participantsAdded":
      return { name: record.name, data: { threadId: record.threadId, version, recipient, addedOn: iso(record.at), participantsAdded: participants.map(participant), addedBy: actorOf(record) } };
    case "participantsRemoved":
      return {
        name: record.name,
        data: { threadId: record.threadId, version, recipient, removedOn: iso(record.at), participantsRemoved: participants.map(participant), removedBy: actorOf(record) },
      };
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
    return { name: signal.name, data: { ...base, version: String(signal.at), receivedOn: iso(signal.at) } };
  }
  return { name: signal.name, data: { ...base, chatMessageId: signal.chatMessageId ?? "", readOn: iso(signal.at) } };
}
