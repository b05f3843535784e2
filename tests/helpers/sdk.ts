/** The official ACS SDKs, unmodified, pointed at a test server (trusting its dev CA per client). */
import { CommunicationIdentityClient } from "@azure/communication-identity";
import { ChatClient } from "@azure/communication-chat";
import { AzureCommunicationTokenCredential } from "@azure/communication-common";
import type { TestServer } from "./server.js";

export function identityClient(server: TestServer, connectionString = server.connectionString): CommunicationIdentityClient {
  return new CommunicationIdentityClient(connectionString, { tlsOptions: { ca: server.caPem } });
}

export function chatClient(server: TestServer, token: string): ChatClient {
  return new ChatClient(server.endpoint, new AzureCommunicationTokenCredential(token), { tlsOptions: { ca: server.caPem } });
}

export interface TestUser {
  id: string;
  token: string;
  chat: ChatClient;
}

export async function newUser(server: TestServer, identity = identityClient(server)): Promise<TestUser> {
  const { user, token } = await identity.createUserAndToken(["chat"]);
  return { id: user.communicationUserId, token, chat: chatClient(server, token) };
}

/** What a ChatParticipant for a user looks like in a request. */
export function member(user: { id: string }, displayName?: string) {
  return { id: { communicationUserId: user.id }, ...(displayName !== undefined && { displayName }) };
}
