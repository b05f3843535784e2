/**
 * The few API calls the benchmarks need to set up their data, made the way any client makes them:
 * users and tokens through the HMAC-signed Identity API, threads through the Chat API.
 */
import { signRequest } from "@parley/server";

export const CHAT_API_VERSION = "2025-03-15";
const IDENTITY_API_VERSION = "2023-10-01";

export interface BenchUser {
  id: string;
  token: string;
}

async function call(url: URL, init: { method: string; headers: Record<string, string>; body?: string }): Promise<unknown> {
  if (url.hostname !== "127.0.0.1") throw new Error(`refusing to call ${url.hostname}`);
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method} ${url.pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

function signed(accessKey: string, method: string, url: URL, body: string): Promise<unknown> {
  const headers = { ...signRequest({ accessKeyBase64: accessKey, method, url, body }), "content-type": "application/json" };
  return call(url, { method, headers, body });
}

/** A new user with a `chat` token valid for 24 h. */
export async function createUser(origin: string, accessKey: string): Promise<BenchUser> {
  const url = new URL(`/identities?api-version=${IDENTITY_API_VERSION}`, origin);
  const res = (await signed(accessKey, "POST", url, JSON.stringify({ createTokenWithScopes: ["chat"], expiresInMinutes: 1440 }))) as {
    identity: { id: string };
    accessToken: { token: string };
  };
  return { id: res.identity.id, token: res.accessToken.token };
}

/** A `chat` token for an existing user (e.g. one seeded straight into the store). */
export async function issueToken(origin: string, accessKey: string, userId: string): Promise<string> {
  const url = new URL(`/identities/${encodeURIComponent(userId)}/:issueAccessToken?api-version=${IDENTITY_API_VERSION}`, origin);
  const res = (await signed(accessKey, "POST", url, JSON.stringify({ scopes: ["chat"], expiresInMinutes: 1440 }))) as { token: string };
  return res.token;
}

export async function createThread(origin: string, creator: BenchUser, topic: string, members: string[]): Promise<string> {
  const url = new URL(`/chat/threads?api-version=${CHAT_API_VERSION}`, origin);
  const body = JSON.stringify({
    topic,
    participants: members.map((id, i) => ({ communicationIdentifier: { rawId: id, communicationUser: { id } }, displayName: `user ${i}` })),
  });
  const res = (await call(url, { method: "POST", headers: { authorization: `Bearer ${creator.token}`, "content-type": "application/json" }, body })) as {
    chatThread: { id: string };
  };
  return res.chatThread.id;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export function messagesPath(threadId: string, query = ""): string {
  return `/chat/threads/${encodeURIComponent(threadId)}/messages?api-version=${CHAT_API_VERSION}${query}`;
}
