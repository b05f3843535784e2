/** Shared pieces of the @parley/sdk suites: clients on a test server, and waiting for events. */
import assert from "node:assert/strict";
import {
  AzureCommunicationTokenCredential,
  ChatClient,
  CommunicationIdentityClient,
  type ChatClientOptions,
  type ChatParticipant,
} from "@parley/sdk";
import type { TestServer } from "../helpers/server.js";

/** How a test reaches Parley: HTTPS trusting the dev CA per client, or plain HTTP. */
export type Transport = "https" | "http";

export function sdkIdentity(server: TestServer, transport: Transport = "https"): CommunicationIdentityClient {
  return transport === "https"
    ? new CommunicationIdentityClient(server.connectionString, { tlsOptions: { ca: server.caPem } })
    : new CommunicationIdentityClient(`endpoint=${server.httpEndpoint};accesskey=${server.accessKey}`);
}

export function sdkChat(server: TestServer, token: string, transport: Transport = "https", options: ChatClientOptions = {}): ChatClient {
  const endpoint = transport === "https" ? server.endpoint : server.httpEndpoint;
  return new ChatClient(endpoint, new AzureCommunicationTokenCredential(token), {
    ...(transport === "https" && { tlsOptions: { ca: server.caPem } }),
    ...options,
  });
}

export interface SdkUser {
  id: string;
  token: string;
  chat: ChatClient;
}

export async function sdkUser(server: TestServer, transport: Transport = "https", options: ChatClientOptions = {}): Promise<SdkUser> {
  const { user, token } = await sdkIdentity(server, transport).createUserAndToken(["chat"]);
  return { id: user.communicationUserId, token, chat: sdkChat(server, token, transport, options) };
}

export function participant(user: { id: string }, displayName?: string): ChatParticipant {
  return { id: { communicationUserId: user.id }, ...(displayName !== undefined && { displayName }) };
}

export const userKind = (user: { id: string }) => ({ kind: "communicationUser", communicationUserId: user.id });

/** Polls `predicate` until it holds (or fails with `what` after `timeoutMs`). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
