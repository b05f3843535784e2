/** Path parameters, checked before they reach the domain (malformed ids are a 400, not a 404). */
import { isAcsUserId, isThreadId } from "@parley/protocol";
import { invalidParameter, type DomainError } from "../domain/errors.js";

export function threadIdParam(params: Record<string, string>): string | DomainError {
  const id = params.threadId ?? "";
  return isThreadId(id) ? id : invalidParameter(`'${truncate(id)}' is not a chat thread id (19:...@thread.v2).`, "chatThreadId");
}

export function messageIdParam(params: Record<string, string>): string | DomainError {
  const id = params.messageId ?? "";
  return /^\d{1,20}$/.test(id) ? id : invalidParameter(`'${truncate(id)}' is not a chat message id.`, "chatMessageId");
}

export function userIdParam(params: Record<string, string>): string | DomainError {
  const id = params.id ?? "";
  return isAcsUserId(id) ? id : invalidParameter(`'${truncate(id)}' is not a communication user id (8:acs:...).`, "id");
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}

/** `{threadId}` routes. */
export const threadIds = (params: Record<string, string>) => {
  const threadId = threadIdParam(params);
  return typeof threadId === "string" ? { threadId } : threadId;
};

/** `{threadId}/messages/{messageId}` routes. */
export const messageIds = (params: Record<string, string>) => {
  const threadId = threadIdParam(params);
  if (typeof threadId !== "string") return threadId;
  const messageId = messageIdParam(params);
  return typeof messageId === "string" ? { threadId, messageId } : messageId;
};

/** `identities/{id}` routes. */
export const userIds = (params: Record<string, string>) => {
  const userId = userIdParam(params);
  return typeof userId === "string" ? { userId } : userId;
};
