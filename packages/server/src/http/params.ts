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
