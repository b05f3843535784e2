// Resuming the event stream: a client remembers its cursor, goes away, and on return receives
// exactly what it missed, then live events. (In a browser, keep the cursor in localStorage.)
// Run: PARLEY_CONNECTION_STRING="endpoint=http://127.0.0.1:8080/;accesskey=..." node examples/sdk-resume.mjs
import { AzureCommunicationTokenCredential, ChatClient, CommunicationIdentityClient } from "@parley/sdk";

const connectionString = process.env.PARLEY_CONNECTION_STRING;
const endpoint = /endpoint=([^;]+)/.exec(connectionString)[1];
const identity = new CommunicationIdentityClient(connectionString);
const [sender, reader] = await Promise.all([identity.createUserAndToken(["chat"]), identity.createUserAndToken(["chat"])]);

const senderChat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(sender.token));
const { chatThread } = await senderChat.createChatThread({ topic: "News" }, { participants: [{ id: reader.user, displayName: "Reader" }] });
const thread = senderChat.getChatThreadClient(chatThread.id);

/** A reader session: prints messages until it has seen `count` of them, then returns its cursor. */
async function session(label, cursor, count, whileConnected = async () => {}) {
  const chat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(reader.token), { realtime: { cursor } });
  let seen = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  chat.on("chatMessageReceived", (e) => {
    console.log(`${label}: ${e.message}`);
    if (++seen === count) done();
  });
  await chat.startRealtimeNotifications();
  await whileConnected();
  await finished;
  const saved = chat.realtimeCursor;
  await chat.stopRealtimeNotifications();
  return saved;
}

let cursor = await session("first visit", undefined, 1, () => thread.sendMessage({ content: "Morning edition" }));
console.log(`(reader leaves at cursor ${cursor})`);

await thread.sendMessage({ content: "Noon edition" });
await thread.sendMessage({ content: "Evening edition" });

cursor = await session("second visit", cursor, 3, () => thread.sendMessage({ content: "Late edition (live)" }));
console.log(`(reader leaves at cursor ${cursor})`);
