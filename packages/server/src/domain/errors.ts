/**
 * Errors as values. Domain code returns a DomainError instead of throwing; the HTTP pipeline maps
 * it to a status and an ACS error body in exactly one place (http/pipeline.ts).
 */
import type { CommunicationError, ErrorCode } from "@parley/protocol";
import type { StoreFailure } from "../store/index.js";

export class DomainError {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly target?: string,
    readonly details?: CommunicationError[],
  ) {}
}

export const isDomainError = (value: unknown): value is DomainError => value instanceof DomainError;

export const badRequest = (message: string, target?: string) => new DomainError("BadRequest", message, target);
export const invalidParameter = (message: string, target?: string) => new DomainError("InvalidParameter", message, target);
export const forbidden = (message = "User is not allowed to perform specified action.", target?: string) =>
  new DomainError("Forbidden", message, target);
export const notFound = (message: string, target?: string) => new DomainError("NotFound", message, target);
export const unauthorized = (message = "Request is not authorized.") => new DomainError("Unauthorized", message);

/** What a store precondition failure means to the caller. */
export function fromStoreFailure(failure: StoreFailure, ids: { threadId: string; messageId?: string }): DomainError {
  switch (failure.failure) {
    case "threadNotFound":
      return notFound(`Chat thread ${ids.threadId} was not found.`, "chatThreadId");
    case "notMember":
      return forbidden("The caller is not a participant of this chat thread.", "chatThreadId");
    case "messageNotFound":
      return notFound(`Chat message ${ids.messageId ?? ""} was not found.`, "chatMessageId");
    case "messageDeleted":
      return notFound(`Chat message ${ids.messageId ?? ""} was deleted.`, "chatMessageId");
    case "notSender":
      return forbidden("Only the sender of a message can change or delete it.", "chatMessageId");
    case "systemMessage":
      return forbidden("System messages cannot be changed or deleted.", "chatMessageId");
    case "participantLimit":
      return new DomainError(
        "ParticipantLimitExceeded",
        `A chat thread can have at most ${failure.limit} participants; it has ${failure.current} and ${failure.adding} would be added.`,
        "participants",
      );
  }
}
