// Two users chatting with live events (Node, no browser needed): each has its own ChatClient with
// real-time notifications on, and each prints what arrives on "their screen".
// Run: PARLEY_CONNECTION_STRING="endpoint=http://127.0.0.1:8080/;accesskey=..." node examples/sdk-live-chat.mjs
import { AzureCommunicationTokenCredential, ChatClient, CommunicationIdentityClient } from "@parley/sdk";

const connectionString = process.env.PARLEY_CONNECTION_STRING;
const endpoint = /endpoint=([^;]+)/.exec(connectionString)[1];
const identity = new CommunicationIdentityClient(connectionString);

/** One person: an identity, a chat client with live events, and a way to wait for what they see. */
async function person(name) {
  const { user, token } = await identity.createUserAndToken(["chat"]);
  const chat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token));
  const waiting = [];
  const screen = (line) => {
    console.log(`[${name}'s screen] ${line}`);
    waiting.splice(0).forEach((resolve) => resolve());
  };
  const others = (e) => e.sender.communicationUserId !== user.communicationUserId;
  chat.on("chatThreadCreated", (e) => e.createdBy.id.communicationUserId !== user.communicationUserId && screen(`added to "${e.properties.topic}" by ${e.createdBy.displayName}`));
  chat.on("chatMessageReceived", (e) => others(e) && screen(`${e.senderDisplayName}: ${e.message}`));
  chat.on("typingIndicatorReceived", (e) => others(e) && screen(`${e.senderDisplayName} is typing…`));
  chat.on("readReceiptReceived", (e) => others(e) && screen(`${e.senderDisplayName || "someone"} read your message`));
  await chat.startRealtimeNotifications();
  const seen = () => new Promise((resolve) => waiting.push(resolve));
  return { name, user, chat, seen };
}

const ada = await person("Ada");
const grace = await person("Grace");

const graceSeesThread = grace.seen();
const { chatThread } = await ada.chat.createChatThread(
  { topic: "Compilers" },
  { participants: [{ id: ada.user, displayName: "Ada" }, { id: grace.user, displayName: "Grace" }] },
);
await graceSeesThread;

const adaThread = ada.chat.getChatThreadClient(chatThread.id);
const graceThread = grace.chat.getChatThreadClient(chatThread.id);

let next = grace.seen();
await adaThread.sendTypingNotification({ senderDisplayName: "Ada" });
await next;
next = grace.seen();
const { id: question } = await adaThread.sendMessage({ content: "Can a machine write programs?" }, { senderDisplayName: "Ada" });
await next;

next = ada.seen();
await graceThread.sendReadReceipt({ chatMessageId: question });
await next;
next = ada.seen();
await graceThread.sendMessage({ content: "I built one that does. We call it a compiler." }, { senderDisplayName: "Grace" });
await next;

for (const p of [ada, grace]) await p.chat.stopRealtimeNotifications();
console.log(`done: ${(await collect(adaThread.listMessages())).filter((m) => m.type === "text").length} messages in the thread`);

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}
