// The README quickstart with @parley/sdk instead of the official SDKs: only the import changed.
// Run: NODE_EXTRA_CA_CERTS=.parley/tls/ca.crt PARLEY_CONNECTION_STRING="endpoint=...;accesskey=..." node examples/sdk-quickstart.mjs
// (or point PARLEY_CONNECTION_STRING at the http endpoint, e.g. endpoint=http://127.0.0.1:8080/;accesskey=..., and skip the CA)
import { AzureCommunicationTokenCredential, ChatClient, CommunicationIdentityClient } from "@parley/sdk";

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
