// The README's quickstart: the official ACS SDKs, unmodified, against Parley.
// Run: NODE_EXTRA_CA_CERTS=.parley/tls/ca.crt PARLEY_CONNECTION_STRING="endpoint=...;accesskey=..." node examples/quickstart.mjs
import { CommunicationIdentityClient } from "@azure/communication-identity";
import { ChatClient } from "@azure/communication-chat";
import { AzureCommunicationTokenCredential } from "@azure/communication-common";

const connectionString = process.env.PARLEY_CONNECTION_STRING;
const endpoint = /endpoint=([^;]+)/.exec(connectionString)[1];

const identity = new CommunicationIdentityClient(connectionString);
const { user, token } = await identity.createUserAndToken(["chat"]);

const chat = new ChatClient(endpoint, new AzureCommunicationTokenCredential(token));
const { chatThread } = await chat.createChatThread({ topic: "Hello Parley" }, { participants: [{ id: user, displayName: "Ada" }] });
const thread = chat.getChatThreadClient(chatThread.id);
await thread.sendMessage({ content: "Hello, world!" }, { senderDisplayName: "Ada" });

for await (const message of thread.listMessages()) {
  console.log(message.sequenceId, message.type, message.content?.message ?? message.content?.topic ?? "");
}
