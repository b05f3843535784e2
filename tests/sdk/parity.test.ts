// API parity with the official SDKs: every public method and property of their ChatClient,
// ChatThreadClient, CommunicationIdentityClient and AzureCommunicationTokenCredential (read from their
// .d.ts files) exists in @parley/sdk, every official event name is accepted, and — checked by
// `tsc -p tests` — results, events and options convert between the two without casts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ts from "typescript";
import * as sdk from "@parley/sdk";
import type * as officialChat from "@azure/communication-chat";
import type * as officialIdentity from "@azure/communication-identity";
import type * as officialCommon from "@azure/communication-common";

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

const OFFICIAL = [
  { file: path.join(packageDir("@azure/communication-chat"), "dist/esm/chatClient.d.ts"), className: "ChatClient", ours: sdk.ChatClient },
  { file: path.join(packageDir("@azure/communication-chat"), "dist/esm/chatThreadClient.d.ts"), className: "ChatThreadClient", ours: sdk.ChatThreadClient },
  { file: path.join(packageDir("@azure/communication-identity"), "types/communication-identity.d.ts"), className: "CommunicationIdentityClient", ours: sdk.CommunicationIdentityClient },
  {
    file: path.join(packageDir("@azure/communication-common"), "dist/esm/azureCommunicationTokenCredential.d.ts"),
    className: "AzureCommunicationTokenCredential",
    ours: sdk.AzureCommunicationTokenCredential,
  },
] as const;

/**
 * Deliberate omissions, each with its reason. Anything else missing fails the test.
 */
const ALLOWED_MISSING: Record<string, string> = {
  "CommunicationIdentityClient.getTokenForTeamsUser":
    "Exchanges a Microsoft Entra (Teams) token for an ACS token; Parley has no Entra tenant to validate it against (Teams interop is out of scope, docs/compatibility.md).",
};

interface PublicMember {
  name: string;
  kind: "method" | "property";
  /** For `on`/`off`: the literal event names of the overloads. */
  eventNames: string[];
}

/** Public instance methods and properties of `className` as its .d.ts declares them. */
function publicMembers(file: string, className: string): PublicMember[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const members = new Map<string, PublicMember>();
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && node.name?.text === className) {
      for (const member of node.members) {
        const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
        if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword || m.kind === ts.SyntaxKind.StaticKeyword)) continue;
        if (!member.name || !ts.isIdentifier(member.name)) continue;
        const name = member.name.text;
        const kind = ts.isMethodDeclaration(member) ? "method" : ts.isPropertyDeclaration(member) || ts.isGetAccessor(member) ? "property" : undefined;
        if (!kind) continue;
        const entry = members.get(name) ?? { name, kind, eventNames: [] };
        if (ts.isMethodDeclaration(member)) {
          const first = member.parameters[0]?.type;
          if (first && ts.isLiteralTypeNode(first) && ts.isStringLiteral(first.literal)) entry.eventNames.push(first.literal.text);
        }
        members.set(name, entry);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...members.values()];
}

describe("parity with the official SDKs' public API", () => {
  for (const { file, className, ours } of OFFICIAL) {
    it(`${className}: every public member of the official class exists in @parley/sdk`, () => {
      const official = publicMembers(file, className);
      assert.ok(official.length > 0, `no members parsed from ${file}`);
      const missing: string[] = [];
      for (const member of official) {
        const key = `${className}.${member.name}`;
        if (key in ALLOWED_MISSING) {
          assert.equal(typeof (ours.prototype as unknown as Record<string, unknown>)[member.name], "undefined", `${key} is allow-listed as missing but exists: drop it from the list`);
          continue;
        }
        if (member.kind === "method") {
          if (typeof (ours.prototype as unknown as Record<string, unknown>)[member.name] !== "function") missing.push(key);
        } else if (!instancePropertyDeclared(ours, member.name)) {
          missing.push(key);
        }
      }
      assert.deepEqual(missing, [], `missing in @parley/sdk: ${missing.join(", ")}`);
    });
  }

  it("ChatClient.on/off accept every official event name", () => {
    const official = publicMembers(OFFICIAL[0].file, "ChatClient");
    const onNames = official.find((m) => m.name === "on")!.eventNames;
    const offNames = official.find((m) => m.name === "off")!.eventNames;
    assert.ok(onNames.length >= 12, `parsed ${onNames.length} event names`);
    const ours = new Set<string>([...sdk.CHAT_EVENT_IDS, "realTimeNotificationConnected", "realTimeNotificationDisconnected"]);
    assert.deepEqual(onNames.filter((n) => !ours.has(n)), []);
    assert.deepEqual(offNames.filter((n) => !ours.has(n)), []);
  });

  it("the allow-list only names members the official SDKs have", () => {
    const all = OFFICIAL.flatMap(({ file, className }) => publicMembers(file, className).map((m) => `${className}.${m.name}`));
    for (const key of Object.keys(ALLOWED_MISSING)) assert.ok(all.includes(key), `${key} is not an official member`);
  });
});

/** Instance properties (e.g. ChatThreadClient.threadId) only exist on instances: construct one. */
function instancePropertyDeclared(ours: unknown, name: string): boolean {
  if (ours === sdk.ChatThreadClient) {
    const client = new sdk.ChatThreadClient("http://127.0.0.1:1/", "19:x@thread.v2", { getToken: async () => ({ token: "", expiresOnTimestamp: 0 }), dispose: () => {} });
    return name in client;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Type-level parity, checked by `tsc -p tests` (these functions are never called).

/** Results and events of @parley/sdk fit where code expects the official types. */
export function resultsFitOfficialTypes(r: {
  thread: sdk.ChatThreadProperties;
  item: sdk.ChatThreadItem;
  message: sdk.ChatMessage;
  participant: sdk.ChatParticipant;
  receipt: sdk.ChatMessageReadReceipt;
  created: sdk.CreateChatThreadResult;
  added: sdk.AddChatParticipantsResult;
  sent: sdk.SendChatMessageResult;
  userToken: sdk.CommunicationUserToken;
  accessToken: sdk.CommunicationAccessToken;
  user: sdk.CommunicationUserIdentifier;
  kind: sdk.CommunicationIdentifierKind;
  page: sdk.Page<sdk.ChatMessage>;
  received: sdk.ChatMessageReceivedEvent;
  edited: sdk.ChatMessageEditedEvent;
  deleted: sdk.ChatMessageDeletedEvent;
  typing: sdk.TypingIndicatorReceivedEvent;
  read: sdk.ReadReceiptReceivedEvent;
  threadCreated: sdk.ChatThreadCreatedEvent;
  threadUpdated: sdk.ChatThreadPropertiesUpdatedEvent;
  threadDeleted: sdk.ChatThreadDeletedEvent;
  participantsAdded: sdk.ParticipantsAddedEvent;
  participantsRemoved: sdk.ParticipantsRemovedEvent;
  credential: sdk.AzureCommunicationTokenCredential;
  listed: sdk.PagedAsyncIterableIterator<sdk.ChatMessage>;
}) {
  const checks: [
    officialChat.ChatThreadProperties,
    officialChat.ChatThreadItem,
    officialChat.ChatMessage,
    officialChat.ChatParticipant,
    officialChat.ChatMessageReadReceipt,
    officialChat.CreateChatThreadResult,
    officialChat.AddChatParticipantsResult,
    officialChat.SendChatMessageResult,
    officialIdentity.CommunicationUserToken,
    officialIdentity.CommunicationAccessToken,
    officialCommon.CommunicationUserIdentifier,
    officialCommon.CommunicationIdentifierKind,
    officialChat.ChatMessage[],
    officialChat.ChatMessageReceivedEvent,
    officialChat.ChatMessageEditedEvent,
    officialChat.ChatMessageDeletedEvent,
    officialChat.TypingIndicatorReceivedEvent,
    officialChat.ReadReceiptReceivedEvent,
    officialChat.ChatThreadCreatedEvent,
    officialChat.ChatThreadPropertiesUpdatedEvent,
    officialChat.ChatThreadDeletedEvent,
    officialChat.ParticipantsAddedEvent,
    officialChat.ParticipantsRemovedEvent,
    officialCommon.CommunicationTokenCredential,
    AsyncIterable<officialChat.ChatMessage>,
  ] = [
    r.thread, r.item, r.message, r.participant, r.receipt, r.created, r.added, r.sent, r.userToken, r.accessToken, r.user, r.kind, r.page,
    r.received, r.edited, r.deleted, r.typing, r.read, r.threadCreated, r.threadUpdated, r.threadDeleted, r.participantsAdded, r.participantsRemoved,
    r.credential, r.listed,
  ];
  return checks;
}

/** Code written against the official SDKs compiles against @parley/sdk: options, requests, listeners. */
export function officialCallSitesCompile(
  o: {
    chatOptions: officialChat.ChatClientOptions;
    createThread: officialChat.CreateChatThreadOptions;
    createRequest: officialChat.CreateChatThreadRequest;
    listThreads: officialChat.ListChatThreadsOptions;
    send: officialChat.SendMessageOptions;
    sendRequest: officialChat.SendMessageRequest;
    update: officialChat.UpdateMessageOptions;
    updateProps: officialChat.UpdateChatThreadPropertiesOptions;
    listMessages: officialChat.ListMessagesOptions;
    listParticipants: officialChat.ListParticipantsOptions;
    listReceipts: officialChat.ListReadReceiptsOptions;
    addRequest: officialChat.AddParticipantsRequest;
    typing: officialChat.SendTypingNotificationOptions;
    receipt: officialChat.SendReadReceiptRequest;
    identityOptions: officialIdentity.CommunicationIdentityClientOptions;
    tokenOptions: officialIdentity.CreateUserAndTokenOptions;
    getTokenOptions: officialIdentity.GetTokenOptions;
    scopes: officialIdentity.TokenScope[];
    user: officialCommon.CommunicationUserIdentifier;
    identifier: officialCommon.CommunicationIdentifier;
    credential: officialCommon.AzureCommunicationTokenCredential;
    refresh: officialCommon.CommunicationTokenRefreshOptions;
  },
  onReceived: (e: officialChat.ChatMessageReceivedEvent) => void,
  onRemoved: (e: officialChat.ParticipantsRemovedEvent) => void,
) {
  const chat = new sdk.ChatClient("https://parley.local/", o.credential, o.chatOptions);
  void chat.createChatThread(o.createRequest, o.createThread);
  void chat.listChatThreads(o.listThreads);
  chat.on("chatMessageReceived", onReceived);
  chat.off("participantsRemoved", onRemoved);
  chat.on("realTimeNotificationConnected", () => {});
  chat.on("realTimeNotificationDisconnected", () => {});
  const thread = chat.getChatThreadClient("19:x@thread.v2");
  void thread.sendMessage(o.sendRequest, o.send);
  void thread.updateMessage("1", o.update);
  void thread.updateProperties(o.updateProps);
  void thread.listMessages(o.listMessages).byPage({ continuationToken: "" });
  void thread.listParticipants(o.listParticipants);
  void thread.listReadReceipts(o.listReceipts);
  void thread.addParticipants(o.addRequest);
  void thread.removeParticipant(o.identifier);
  void thread.sendTypingNotification(o.typing);
  void thread.sendReadReceipt(o.receipt);
  const identity = new sdk.CommunicationIdentityClient("endpoint=https://parley.local/;accesskey=a2V5", o.identityOptions);
  void identity.createUserAndToken(o.scopes, o.tokenOptions);
  void identity.getToken(o.user, o.scopes, o.getTokenOptions);
  return new sdk.AzureCommunicationTokenCredential(o.refresh);
}
