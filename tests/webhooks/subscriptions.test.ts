// Webhook subscriptions over the admin API: validation handshakes in both schemas, the manual
// validation URL, skipping validation, listing, deleting and authentication.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { member, newUser } from "../helpers/sdk.js";
import { rawRequest } from "../helpers/http.js";
import { admin, FAST, header, Receiver, sleep, subscribe, type ReceiverOptions } from "./support.js";

describe("webhook subscriptions", () => {
  let server: TestServer;
  const receivers: Receiver[] = [];
  const receiver = async (options: ReceiverOptions = {}) => {
    const r = await Receiver.start(options);
    receivers.push(r);
    return r;
  };

  before(async () => {
    server = await startTestServer({ webhooks: FAST });
  });
  after(async () => {
    await server.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("Event Grid schema: POSTs a SubscriptionValidationEvent and activates on the echoed code", async () => {
    const r = await receiver();
    const created = await subscribe(server, { id: "eg-handshake", url: r.url });
    assert.equal(created.provisioningState, "Succeeded");
    assert.equal(created.validatedBy, "handshake");
    assert.equal(created.schema, "EventGridSchema");
    assert.match(created.secret, /^[A-Za-z0-9_-]{43}$/, "a generated secret is returned once");
    assert.equal(r.handshakes.length, 1);
    const [shake] = r.handshakes;
    assert.equal(shake!.method, "POST");
    assert.equal(header(shake!, "aeg-event-type"), "SubscriptionValidation");
    assert.ok(Array.isArray(shake!.json) && shake!.json.length === 1);
    const event = shake!.json[0];
    assert.equal(event.eventType, "Microsoft.EventGrid.SubscriptionValidationEvent");
    assert.match(event.data.validationCode, /^[0-9a-f-]{36}$/);
    assert.match(event.data.validationUrl, /\/webhooks\/subscriptions\/eg-handshake\/validate\?code=/);
    assert.deepEqual(Object.keys(event).sort(), ["data", "dataVersion", "eventTime", "eventType", "id", "metadataVersion", "subject", "topic"]);

    const got = await admin(server, "GET", "/webhooks/subscriptions/eg-handshake");
    assert.equal(got.status, 200);
    assert.equal(got.json.secret, undefined, "the secret is never shown again");
    assert.equal(got.json.pendingDeliveries, 0);
    assert.equal(got.json.deadLetters, 0);
    assert.equal(got.json.includedEventTypes.length, 16);
  });

  it("Event Grid schema: a wrong code or a failing endpoint refuses the subscription (400) and stores nothing", async () => {
    for (const validation of ["wrong", "fail"] as const) {
      const r = await receiver({ validation });
      const res = await admin(server, "POST", "/webhooks/subscriptions", { id: `eg-${validation}`, url: r.url });
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.error.message, /validation handshake failed/);
      assert.equal((await admin(server, "GET", `/webhooks/subscriptions/eg-${validation}`)).status, 404);
    }
    const unreachable = await admin(server, "POST", "/webhooks/subscriptions", { url: "http://127.0.0.1:9/nothing-listens" });
    assert.equal(unreachable.status, 400);
  });

  it("the manual handshake: a 2xx without the code leaves it awaiting the validation URL, which activates it", async () => {
    const r = await receiver({ validation: "silent" });
    const created = await subscribe(server, { id: "eg-manual", url: r.url });
    assert.equal(created.provisioningState, "AwaitingManualAction");
    assert.ok(created.validationUrl);
    assert.equal(created.validationUrl, r.handshakes[0]!.json[0].data.validationUrl);

    // Nothing is delivered while awaiting validation.
    const [alice, bob] = await Promise.all([newUser(server), newUser(server)]);
    await alice.chat.createChatThread({ topic: "before validation" }, { participants: [member(alice), member(bob)] });
    await sleep(300);
    assert.equal(r.deliveries.length, 0);

    const wrong = await rawRequest(created.validationUrl.replace(/code=[^&]+/, "code=00000000-0000-0000-0000-000000000000"));
    assert.equal(wrong.status, 400);
    const ok = await rawRequest(created.validationUrl, { ca: server.caPem });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.provisioningState, "Succeeded");
    const got = await admin(server, "GET", "/webhooks/subscriptions/eg-manual");
    assert.equal(got.json.provisioningState, "Succeeded");
    assert.equal(got.json.validatedBy, "validationUrl");

    await alice.chat.createChatThread({ topic: "after validation" }, { participants: [member(alice), member(bob)] });
    await r.until(() => r.events.length >= 2, "events after validation");
    assert.ok(r.events.every((e) => e.data.threadId !== undefined));
    assert.ok(r.events.every((e) => e.eventType.startsWith("Microsoft.Communication.ChatThreadCreated")), "only the thread created after validation");
  });

  it("CloudEvents schema: the OPTIONS abuse-protection handshake with WebHook-Request-Origin", async () => {
    const r = await receiver();
    const created = await subscribe(server, { id: "ce-handshake", url: r.url, schema: "CloudEventSchema" });
    assert.equal(created.provisioningState, "Succeeded");
    assert.equal(created.schema, "CloudEventSchema");
    assert.equal(created.maxEventsPerBatch, 1, "one structured CloudEvent per request by default, as Event Grid");
    const [shake] = r.handshakes;
    assert.equal(shake!.method, "OPTIONS");
    assert.equal(header(shake!, "webhook-request-origin"), "eventgrid.azure.net");

    const refusing = await receiver({ allowOrigin: false });
    const res = await admin(server, "POST", "/webhooks/subscriptions", { url: refusing.url, schema: "CloudEventSchemaV1_0" });
    assert.equal(res.status, 400);
    assert.match(res.json.error.message, /WebHook-Allowed-Origin/);
  });

  it("skipValidation (local development) activates without any request to the endpoint", async () => {
    const r = await receiver({ validation: "fail", allowOrigin: false });
    const created = await subscribe(server, { id: "skipped", url: r.url, skipValidation: true, secret: "a-secret-of-sixteen+" });
    assert.equal(created.provisioningState, "Succeeded");
    assert.equal(created.validatedBy, "skipped");
    assert.equal(created.secret, "a-secret-of-sixteen+", "a given secret is used as is");
    assert.equal(r.requests.length, 0);
  });

  it("validates input, refuses duplicates, lists, re-validates, deletes idempotently", async () => {
    const r = await receiver();
    const bad = [
      [{ url: "ftp://example.com/x" }, "url"],
      [{ url: "not a url" }, "url"],
      [{}, "url"],
      [{ url: r.url, schema: "Custom" }, "schema"],
      [{ url: r.url, includedEventTypes: ["Microsoft.Communication.SMSReceived"] }, "includedEventTypes"],
      [{ url: r.url, secret: "short" }, "secret"],
      [{ url: r.url, id: "x" }, "id"],
      [{ url: r.url, maxEventsPerBatch: 0 }, "maxEventsPerBatch"],
    ] as const;
    for (const [body, target] of bad) {
      const res = await admin(server, "POST", "/webhooks/subscriptions", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.target, target);
    }
    await subscribe(server, { id: "listed", url: r.url, includedEventTypes: ["microsoft.communication.chatmessagereceived"], subjectBeginsWith: "thread/" });
    const dup = await admin(server, "POST", "/webhooks/subscriptions", { id: "listed", url: r.url });
    assert.equal(dup.status, 409);

    const list = await admin(server, "GET", "/webhooks/subscriptions");
    assert.equal(list.status, 200);
    const listed = list.json.value.find((s: any) => s.id === "listed");
    assert.deepEqual(listed.includedEventTypes, ["Microsoft.Communication.ChatMessageReceived"], "event types are canonicalised");
    assert.equal(listed.subjectBeginsWith, "thread/");
    assert.ok(list.json.value.every((s: any) => s.secret === undefined));

    const again = await admin(server, "POST", "/webhooks/subscriptions/listed/:validate");
    assert.equal(again.status, 200);
    assert.equal(again.json.provisioningState, "Succeeded");

    assert.equal((await admin(server, "DELETE", "/webhooks/subscriptions/listed")).status, 204);
    assert.equal((await admin(server, "DELETE", "/webhooks/subscriptions/listed")).status, 204);
    assert.equal((await admin(server, "GET", "/webhooks/subscriptions/listed")).status, 404);
    assert.equal((await admin(server, "GET", "/webhooks/subscriptions/listed/deadLetters")).status, 404);
  });

  it("the admin API needs the access key", async () => {
    const unsigned = await rawRequest(`${server.httpEndpoint}webhooks/subscriptions?api-version=2025-03-15`);
    assert.equal(unsigned.status, 401);
    const bearer = await rawRequest(`${server.httpEndpoint}webhooks/subscriptions?api-version=2025-03-15`, { headers: { authorization: "Bearer abc" } });
    assert.equal(bearer.status, 401);
  });
});
