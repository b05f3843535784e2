// The events themselves: every chat event type, checked field by field against the Event Grid schema
// for Microsoft.Communication (data-plane 2018-01-01), in both envelopes, plus subscription filters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ACS_CHAT_EVENT_TYPES } from "@parley/protocol";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { member, newUser, type TestUser } from "../helpers/sdk.js";
import { FAST, header, Receiver, sleep, subscribe } from "./support.js";

/**
 * Data fields per event type, with the schema's allOf chains resolved by hand from
 * AzureCommunicationServices.json (definitions Acs…EventData and their base properties).
 * `required` as in the schema, plus recipientCommunicationIdentifier on user-level events, which ACS
 * always sends although the schema marks it optional.
 */
const userBase = ["recipientCommunicationIdentifier", "transactionId", "threadId"];
const threadBase = ["transactionId", "threadId"];
const messageFields = ["messageId", "senderCommunicationIdentifier", "senderDisplayName", "composeTime", "type", "version"];
const messageRequired = ["messageId", "senderCommunicationIdentifier", "type"];
const threadFields = ["createTime", "version"];

const SCHEMA: Record<string, { fields: string[]; required: string[] }> = {
  ChatMessageReceived: { fields: [...userBase, ...messageFields, "messageBody", "metadata"], required: [...messageRequired, "recipientCommunicationIdentifier"] },
  ChatMessageEdited: { fields: [...userBase, ...messageFields, "messageBody", "metadata", "editTime"], required: [...messageRequired, "messageBody", "recipientCommunicationIdentifier"] },
  ChatMessageDeleted: { fields: [...userBase, ...messageFields, "deleteTime"], required: [...messageRequired, "recipientCommunicationIdentifier"] },
  ChatMessageReceivedInThread: { fields: [...threadBase, ...messageFields, "messageBody", "metadata"], required: [...threadBase, ...messageRequired, "messageBody"] },
  ChatMessageEditedInThread: { fields: [...threadBase, ...messageFields, "messageBody", "metadata", "editTime"], required: [...threadBase, ...messageRequired, "messageBody"] },
  ChatMessageDeletedInThread: { fields: [...threadBase, ...messageFields, "deleteTime"], required: [...threadBase, ...messageRequired] },
  ChatThreadCreatedWithUser: {
    fields: [...userBase, ...threadFields, "createdByCommunicationIdentifier", "properties", "metadata", "participants"],
    required: ["createdByCommunicationIdentifier", "properties", "participants", "recipientCommunicationIdentifier"],
  },
  ChatThreadCreated: {
    fields: [...threadBase, ...threadFields, "createdByCommunicationIdentifier", "properties", "metadata", "participants"],
    required: [...threadBase, "createdByCommunicationIdentifier", "properties", "participants"],
  },
  ChatThreadWithUserDeleted: { fields: [...userBase, ...threadFields, "deletedByCommunicationIdentifier", "deleteTime"], required: ["deletedByCommunicationIdentifier", "recipientCommunicationIdentifier"] },
  ChatThreadDeleted: { fields: [...threadBase, ...threadFields, "deletedByCommunicationIdentifier", "deleteTime"], required: [...threadBase, "deletedByCommunicationIdentifier"] },
  ChatThreadPropertiesUpdatedPerUser: {
    fields: [...userBase, ...threadFields, "editedByCommunicationIdentifier", "editTime", "metadata", "properties"],
    required: ["editedByCommunicationIdentifier", "properties", "recipientCommunicationIdentifier"],
  },
  ChatThreadPropertiesUpdated: {
    fields: [...threadBase, ...threadFields, "editedByCommunicationIdentifier", "editTime", "properties", "metadata"],
    required: [...threadBase, "editedByCommunicationIdentifier", "properties", "metadata"],
  },
  ChatParticipantAddedToThreadWithUser: {
    fields: [...userBase, ...threadFields, "time", "addedByCommunicationIdentifier", "participantAdded"],
    required: ["addedByCommunicationIdentifier", "participantAdded", "recipientCommunicationIdentifier"],
  },
  ChatParticipantRemovedFromThreadWithUser: {
    fields: [...userBase, ...threadFields, "time", "removedByCommunicationIdentifier", "participantRemoved"],
    required: ["removedByCommunicationIdentifier", "participantRemoved", "recipientCommunicationIdentifier"],
  },
  // AcsChatParticipantAddedToThreadEventData extends AcsChatEventInThreadBaseProperties directly (no createTime).
  ChatThreadParticipantAdded: { fields: [...threadBase, "time", "addedByCommunicationIdentifier", "participantAdded", "version"], required: [...threadBase, "addedByCommunicationIdentifier", "participantAdded"] },
  ChatThreadParticipantRemoved: { fields: [...threadBase, "time", "removedByCommunicationIdentifier", "participantRemoved", "version"], required: [...threadBase, "removedByCommunicationIdentifier", "participantRemoved"] },
};
const IDENTIFIER_FIELDS = ["kind", "rawId", "communicationUser", "phoneNumber", "microsoftTeamsUser", "microsoftTeamsApp"];
const PARTICIPANT_FIELDS = ["displayName", "participantCommunicationIdentifier", "metadata"];
const DATE_FIELDS = ["composeTime", "editTime", "deleteTime", "createTime", "time"];

function checkIdentifier(value: any, where: string, rawId?: string): void {
  assert.equal(typeof value, "object", where);
  for (const key of Object.keys(value)) assert.ok(IDENTIFIER_FIELDS.includes(key), `${where}.${key} is not in CommunicationIdentifierModel`);
  assert.equal(typeof value.rawId, "string", `${where}.rawId`);
  assert.deepEqual(value.communicationUser, { id: value.rawId }, `${where}.communicationUser`);
  if (rawId !== undefined) assert.equal(value.rawId, rawId, where);
}

function checkParticipant(value: any, where: string): void {
  for (const key of Object.keys(value)) assert.ok(PARTICIPANT_FIELDS.includes(key), `${where}.${key} is not in AcsChatThreadParticipantProperties`);
  checkIdentifier(value.participantCommunicationIdentifier, `${where}.participantCommunicationIdentifier`);
}

function checkData(type: string, data: any): void {
  const name = type.replace("Microsoft.Communication.", "");
  const schema = SCHEMA[name];
  assert.ok(schema, `unknown type ${type}`);
  for (const key of Object.keys(data)) assert.ok(schema.fields.includes(key), `${name}: ${key} is not a field of its schema`);
  for (const key of schema.required) assert.ok(data[key] !== undefined, `${name}: required ${key} is missing`);
  for (const [key, value] of Object.entries<any>(data)) {
    if (key.endsWith("CommunicationIdentifier")) checkIdentifier(value, `${name}.${key}`);
    else if (DATE_FIELDS.includes(key)) assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value), `${name}.${key} is a date-time: ${value}`);
    else if (key === "version") assert.ok(Number.isSafeInteger(value), `${name}.version is an int64: ${value}`);
    else if (key === "metadata") assert.ok(Object.values(value).every((v) => typeof v === "string"), `${name}.metadata holds strings`);
    else if (key === "participants") value.forEach((p: any, i: number) => checkParticipant(p, `${name}.participants[${i}]`));
    else if (key === "participantAdded" || key === "participantRemoved") checkParticipant(value, `${name}.${key}`);
    else if (key === "properties") assert.equal(typeof value, "object");
    else assert.equal(typeof value, "string", `${name}.${key}`);
  }
}

const TOPIC = "/subscriptions/test/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/parley-test";

describe("webhook events", () => {
  let server: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser;
  let threadId: string;
  let messageId: string;
  const receivers: Record<string, Receiver> = {};

  before(async () => {
    server = await startTestServer({ webhooks: { ...FAST, topic: TOPIC } });
    for (const name of ["eventGrid", "cloudSingle", "cloudBatch", "filtered"]) receivers[name] = await Receiver.start();
    await subscribe(server, { url: receivers.eventGrid!.url, maxEventsPerBatch: 50 });
    await subscribe(server, { url: receivers.cloudSingle!.url, schema: "CloudEventSchema" });
    await subscribe(server, { url: receivers.cloudBatch!.url, schema: "CloudEventSchema", maxEventsPerBatch: 10 });

    [alice, bob, carol] = await Promise.all([newUser(server), newUser(server), newUser(server)]);
    await subscribe(server, {
      url: receivers.filtered!.url,
      includedEventTypes: ["Microsoft.Communication.ChatMessageReceived", "Microsoft.Communication.ChatMessageEdited"],
      subjectEndsWith: `/RECIPIENT/${bob.id}`.toUpperCase(),
    });

    const { chatThread } = await alice.chat.createChatThread(
      { topic: "shapes" },
      { participants: [member(alice, "Alice"), member(bob, "Bob")], metadata: { team: "blue" } },
    );
    threadId = chatThread!.id;
    const thread = alice.chat.getChatThreadClient(threadId);
    ({ id: messageId } = await thread.sendMessage({ content: "hello" }, { senderDisplayName: "Alice", metadata: { k: "v" } }));
    await thread.updateMessage(messageId, { content: "hello!" });
    await thread.deleteMessage(messageId);
    await thread.updateTopic("shapes, renamed");
    await thread.addParticipants({ participants: [member(carol, "Carol")] });
    await thread.removeParticipant({ communicationUserId: carol.id });
    await alice.chat.deleteChatThread(threadId);
  });
  after(async () => {
    await server.close();
    await Promise.all(Object.values(receivers).map((r) => r.close()));
  });

  // User-level events skip the actor (alice): bob for everything, carol too for her own add/remove.
  const expectedCounts: Record<string, number> = {
    ChatThreadCreated: 1, ChatThreadCreatedWithUser: 1,
    ChatMessageReceivedInThread: 1, ChatMessageReceived: 1,
    ChatMessageEditedInThread: 1, ChatMessageEdited: 1,
    ChatMessageDeletedInThread: 1, ChatMessageDeleted: 1,
    ChatThreadPropertiesUpdated: 1, ChatThreadPropertiesUpdatedPerUser: 1,
    ChatThreadParticipantAdded: 1, ChatParticipantAddedToThreadWithUser: 2,
    ChatThreadParticipantRemoved: 1, ChatParticipantRemovedFromThreadWithUser: 2,
    ChatThreadDeleted: 1, ChatThreadWithUserDeleted: 1,
  };
  const total = Object.values(expectedCounts).reduce((a, b) => a + b, 0);

  it("Event Grid schema: all 16 chat event types, each data field as the schema defines it", async () => {
    const r = receivers.eventGrid!;
    await r.until(() => r.events.length >= total, `${total} events`);
    await sleep(100);
    assert.equal(r.events.length, total);
    const counts: Record<string, number> = {};
    for (const e of r.events) counts[e.eventType.replace("Microsoft.Communication.", "")] = (counts[e.eventType.replace("Microsoft.Communication.", "")] ?? 0) + 1;
    assert.deepEqual(counts, expectedCounts);
    assert.deepEqual(new Set(r.events.map((e) => e.eventType)), new Set(ACS_CHAT_EVENT_TYPES));

    for (const e of r.events) {
      assert.deepEqual(Object.keys(e).sort(), ["data", "dataVersion", "eventTime", "eventType", "id", "metadataVersion", "subject", "topic"]);
      assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(e.topic, TOPIC);
      assert.equal(e.dataVersion, "1.0");
      assert.equal(e.metadataVersion, "1");
      assert.ok(!Number.isNaN(Date.parse(e.eventTime)));
      assert.equal(e.data.threadId, threadId);
      checkData(e.eventType, e.data);
      if (e.data.recipientCommunicationIdentifier) assert.notEqual(e.data.recipientCommunicationIdentifier.rawId, alice.id, "the actor gets no user-level event");
    }
    assert.ok(r.deliveries.every((d) => header(d, "aeg-event-type") === "Notification" && Array.isArray(d.json)));
  });

  it("subjects, values and correlation are those ACS sends", () => {
    const events = receivers.eventGrid!.events;
    const one = (type: string) => events.find((e) => e.eventType === `Microsoft.Communication.${type}`)!;
    const t = threadId;
    assert.equal(one("ChatMessageReceived").subject, `thread/${t}/sender/${alice.id}/recipient/${bob.id}`);
    assert.equal(one("ChatMessageReceivedInThread").subject, `thread/${t}/sender/${alice.id}`);
    assert.equal(one("ChatMessageEditedInThread").subject, `thread/${t}/sender/${alice.id}`);
    assert.equal(one("ChatThreadCreated").subject, `thread/${t}/createdBy/${alice.id}`);
    assert.equal(one("ChatThreadCreatedWithUser").subject, `thread/${t}/createdBy/${alice.id}/recipient/${bob.id}`);
    assert.equal(one("ChatThreadDeleted").subject, `thread/${t}/deletedBy/${alice.id}`);
    assert.equal(one("ChatThreadWithUserDeleted").subject, `thread/${t}/deletedBy/${alice.id}/recipient/${bob.id}`);
    assert.equal(one("ChatThreadPropertiesUpdated").subject, `thread/${t}/editedBy/${alice.id}`);
    assert.equal(one("ChatThreadPropertiesUpdatedPerUser").subject, `thread/${t}/editedBy/${alice.id}/recipient/${bob.id}`);
    assert.equal(one("ChatThreadParticipantAdded").subject, `thread/${t}/participantadded/${carol.id}`);
    assert.equal(one("ChatThreadParticipantRemoved").subject, `thread/${t}/participantremoved/${carol.id}`);
    const addedSubjects = events.filter((e) => e.eventType.endsWith("ChatParticipantAddedToThreadWithUser")).map((e) => e.subject).sort();
    assert.deepEqual(addedSubjects, [bob.id, carol.id].map((r) => `thread/${t}/participantAdded/${carol.id}/recipient/${r}`).sort());

    const received = one("ChatMessageReceived").data;
    assert.equal(received.messageId, messageId);
    assert.equal(received.messageBody, "hello");
    assert.deepEqual(received.metadata, { k: "v" });
    assert.equal(received.type, "Text");
    assert.equal(received.senderDisplayName, "Alice");
    assert.equal(received.version, Number(messageId));
    checkIdentifier(received.senderCommunicationIdentifier, "sender", alice.id);
    checkIdentifier(received.recipientCommunicationIdentifier, "recipient", bob.id);
    assert.equal(one("ChatMessageEdited").data.messageBody, "hello!");
    assert.ok(one("ChatMessageEdited").data.version > received.version, "the version moves on edit");
    assert.equal(one("ChatMessageDeleted").data.messageBody, undefined);

    const created = one("ChatThreadCreated").data;
    assert.deepEqual(created.properties, { topic: "shapes" });
    assert.deepEqual(created.metadata, { team: "blue" });
    assert.deepEqual(created.participants.map((p: any) => [p.displayName, p.participantCommunicationIdentifier.rawId]), [["Alice", alice.id], ["Bob", bob.id]]);
    assert.deepEqual(one("ChatThreadPropertiesUpdated").data.properties, { topic: "shapes, renamed" });
    assert.equal(one("ChatThreadParticipantAdded").data.participantAdded.displayName, "Carol");
    checkIdentifier(one("ChatThreadParticipantRemoved").data.removedByCommunicationIdentifier, "removedBy", alice.id);
    assert.ok(one("ChatParticipantAddedToThreadWithUser").data.createTime, "per-user participant events carry the thread's creation time");

    // One transactionId per change, shared by its thread-level and user-level events.
    assert.equal(one("ChatMessageReceived").data.transactionId, received.transactionId);
    assert.equal(one("ChatMessageReceivedInThread").data.transactionId, received.transactionId);
    assert.notEqual(one("ChatMessageEdited").data.transactionId, received.transactionId);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, "ids are unique");
  });

  it("CloudEvents 1.0: structured single events, or batches, with the same ids as the Event Grid deliveries", async () => {
    const single = receivers.cloudSingle!;
    const batch = receivers.cloudBatch!;
    await single.until(() => single.events.length >= total, "single CloudEvents");
    await batch.until(() => batch.events.length >= total, "batched CloudEvents");
    assert.ok(single.deliveries.every((d) => header(d, "content-type") === "application/cloudevents+json; charset=utf-8" && !Array.isArray(d.json)));
    assert.equal(single.deliveries.length, total, "one event per request");
    assert.ok(batch.deliveries.every((d) => header(d, "content-type") === "application/cloudevents-batch+json; charset=utf-8" && Array.isArray(d.json) && d.json.length <= 10));
    assert.ok(batch.deliveries.length < total);

    const eventGridIds = new Set(receivers.eventGrid!.events.map((e) => e.id));
    for (const e of [...single.events, ...batch.events]) {
      assert.deepEqual(Object.keys(e).sort(), ["data", "id", "source", "specversion", "subject", "time", "type"]);
      assert.equal(e.specversion, "1.0");
      assert.equal(e.source, TOPIC);
      assert.ok(eventGridIds.has(e.id), "an event has one id whatever the envelope");
      checkData(e.type, e.data);
    }
  });

  it("filters on event types and (case-insensitively) on subjects", async () => {
    const r = receivers.filtered!;
    await r.until(() => r.events.length >= 2, "filtered events");
    await sleep(200);
    assert.deepEqual(r.events.map((e) => e.eventType).sort(), ["Microsoft.Communication.ChatMessageEdited", "Microsoft.Communication.ChatMessageReceived"]);
    assert.ok(r.events.every((e) => e.data.recipientCommunicationIdentifier.rawId === bob.id));
  });
});
