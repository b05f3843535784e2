/**
 * One change of the global change feed → the Event Grid chat events ACS would publish for it.
 *
 * Two levels, as ACS documents them: thread-level events (`…InThread`, `ChatThreadCreated`, …) once
 * per change, and user-level events (`ChatMessageReceived`, `…WithUser`, `…PerUser`) once per
 * recipient, **excluding the user who caused the change** ("delivered once per user, excluding the
 * event sender": a message in a thread of 10 gives 1 thread-level and 9 user-level events). A
 * participant change yields one event per participant added or removed (the schemas carry one
 * `participantAdded`/`participantRemoved`), and the removed user hears about their own removal.
 *
 * Event ids are derived from (installation, change seq, type, recipient/participant), so rendering a
 * change twice gives the same ids: receivers can deduplicate on `id` across retries and restarts.
 */
import { createHash } from "node:crypto";
import { communicationUser, type AcsChatEventType, type CommunicationIdentifierModel } from "@parley/protocol";
import type { ChangeRecord, MessageRecord, ParticipantRecord, ThreadRecord } from "../store/index.js";
import { isoTime } from "../isoTime.js";

/** A chat event before it is put in an envelope (the same for both schemas). */
export interface WebhookEvent {
  id: string;
  type: AcsChatEventType;
  subject: string;
  /** ISO 8601: when the change was committed. */
  time: string;
  data: Record<string, unknown>;
}

export interface RenderContext {
  /** Random per installation (kept in the webhook store): salts event ids. */
  instanceId: string;
  /** The thread's creation time, when the change itself does not carry the thread. */
  threadCreatedAt?: number;
}

const who = (userId: string): CommunicationIdentifierModel => communicationUser(userId);
const P = "Microsoft.Communication.";

function participant(p: ParticipantRecord) {
  return {
    participantCommunicationIdentifier: who(p.userId),
    ...(p.displayName !== undefined && { displayName: p.displayName }),
    ...(p.metadata !== undefined && { metadata: p.metadata }),
  };
}

/** REST says "text"/"html"; Event Grid payloads say "Text"/"Html". */
function messageType(type: MessageRecord["type"]): string {
  return type.charAt(0).toUpperCase() + type.slice(1);
}

function digest(...parts: Array<string | number>): Buffer {
  return createHash("sha256").update(parts.join("\n")).digest();
}

/** A stable, GUID-shaped id (RFC 4122 layout, name-based version 5 bits). */
export function eventId(instanceId: string, seq: number, type: string, discriminator: string): string {
  const b = digest(instanceId, seq, type, discriminator).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Every event of one change, thread-level first, then user-level in recipient order. */
export function eventsForChange(change: ChangeRecord, ctx: RenderContext): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  const t = change.threadId;
  const time = isoTime(change.at);
  // One correlation value per change, shared by all its events (ACS: a "co-relation vector").
  const base = { transactionId: digest(ctx.instanceId, "tx", change.seq).subarray(0, 16).toString("base64"), threadId: t };
  const add = (type: string, discriminator: string, subject: string, data: Record<string, unknown>) =>
    out.push({ id: eventId(ctx.instanceId, change.seq, P + type, discriminator), type: (P + type) as AcsChatEventType, subject, time, data });
  /** User-level events: every recipient but the actor. */
  const eachRecipient = (actorId: string | undefined, fn: (recipientId: string) => void) => {
    for (const r of change.recipients) if (r !== actorId) fn(r);
  };
  const actorId = change.data.actor?.userId;
  // Deleted by a retention policy: nobody did it; the realtime stream says the same with an empty id.
  const actor = who(actorId ?? "");

  switch (change.name) {
    case "chatMessageReceived":
    case "chatMessageEdited":
    case "chatMessageDeleted": {
      const m = change.data.message!;
      const sender = m.senderId ?? "";
      const fields = {
        messageId: m.id,
        senderCommunicationIdentifier: who(sender),
        ...(m.senderDisplayName !== undefined && { senderDisplayName: m.senderDisplayName }),
        composeTime: isoTime(m.createdAt),
        type: messageType(m.type),
        version: Number(m.version),
        ...(change.name === "chatMessageDeleted"
          ? { deleteTime: isoTime(m.deletedAt ?? change.at) }
          : { messageBody: m.content.message ?? "", metadata: m.metadata ?? {} }),
        ...(change.name === "chatMessageEdited" && { editTime: isoTime(m.editedAt ?? change.at) }),
      };
      const kind = { chatMessageReceived: "Received", chatMessageEdited: "Edited", chatMessageDeleted: "Deleted" }[change.name];
      add(`ChatMessage${kind}InThread`, "", `thread/${t}/sender/${sender}`, { ...base, ...fields });
      eachRecipient(sender, (r) =>
        add(`ChatMessage${kind}`, r, `thread/${t}/sender/${sender}/recipient/${r}`, { recipientCommunicationIdentifier: who(r), ...base, ...fields }),
      );
      break;
    }
    case "chatThreadCreated": {
      const thread = change.data.thread!;
      const fields = {
        createdByCommunicationIdentifier: actor,
        properties: threadProperties(thread),
        metadata: thread.metadata ?? {},
        participants: (change.data.participants ?? []).map(participant),
        createTime: isoTime(thread.createdAt),
        version: change.at,
      };
      const by = actorId ?? "";
      add("ChatThreadCreated", "", `thread/${t}/createdBy/${by}`, { ...base, ...fields });
      eachRecipient(actorId, (r) =>
        add("ChatThreadCreatedWithUser", r, `thread/${t}/createdBy/${by}/recipient/${r}`, { recipientCommunicationIdentifier: who(r), ...base, ...fields }),
      );
      break;
    }
    case "chatThreadDeleted": {
      const thread = change.data.thread;
      const fields = {
        deletedByCommunicationIdentifier: actor,
        deleteTime: isoTime(thread?.deletedAt ?? change.at),
        ...(thread && { createTime: isoTime(thread.createdAt) }),
        version: change.at,
      };
      const by = actorId ?? "";
      add("ChatThreadDeleted", "", `thread/${t}/deletedBy/${by}`, { ...base, ...fields });
      eachRecipient(actorId, (r) =>
        add("ChatThreadWithUserDeleted", r, `thread/${t}/deletedBy/${by}/recipient/${r}`, { recipientCommunicationIdentifier: who(r), ...base, ...fields }),
      );
      break;
    }
    case "chatThreadPropertiesUpdated": {
      const thread = change.data.thread!;
      const fields = {
        editedByCommunicationIdentifier: actor,
        editTime: isoTime(change.at),
        properties: threadProperties(thread),
        metadata: thread.metadata ?? {},
        createTime: isoTime(thread.createdAt),
        version: change.at,
      };
      const by = actorId ?? "";
      add("ChatThreadPropertiesUpdated", "", `thread/${t}/editedBy/${by}`, { ...base, ...fields });
      eachRecipient(actorId, (r) =>
        add("ChatThreadPropertiesUpdatedPerUser", r, `thread/${t}/editedBy/${by}/recipient/${r}`, { recipientCommunicationIdentifier: who(r), ...base, ...fields }),
      );
      break;
    }
    case "participantsAdded":
    case "participantsRemoved": {
      const added = change.name === "participantsAdded";
      const created = ctx.threadCreatedAt !== undefined ? { createTime: isoTime(ctx.threadCreatedAt) } : {};
      for (const p of change.data.participants ?? []) {
        const fields = added
          ? { time: isoTime(change.at), addedByCommunicationIdentifier: actor, participantAdded: participant(p) }
          : { time: isoTime(change.at), removedByCommunicationIdentifier: actor, participantRemoved: participant(p) };
        // The documented subjects differ in case between the two levels; kept as documented.
        add(added ? "ChatThreadParticipantAdded" : "ChatThreadParticipantRemoved", p.userId, `thread/${t}/${added ? "participantadded" : "participantremoved"}/${p.userId}`, {
          ...base,
          ...fields,
          version: change.at,
        });
        eachRecipient(actorId, (r) =>
          add(
            added ? "ChatParticipantAddedToThreadWithUser" : "ChatParticipantRemovedFromThreadWithUser",
            `${p.userId}\n${r}`,
            `thread/${t}/${added ? "participantAdded" : "participantRemoved"}/${p.userId}/recipient/${r}`,
            { recipientCommunicationIdentifier: who(r), ...base, ...fields, ...created, version: change.at },
          ),
        );
      }
      break;
    }
  }
  return out;
}

function threadProperties(thread: ThreadRecord): Record<string, unknown> {
  return { topic: thread.topic };
}
