/** Domain limits that hold whatever transport a request came in on. */
import { LIMITS, type ChatRetentionPolicy, type Metadata } from "@parley/protocol";
import { DomainError, badRequest } from "../domain/errors.js";

export function checkMetadata(metadata: Metadata | undefined, target: string): DomainError | undefined {
  if (metadata === undefined) return undefined;
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata)) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  if (bytes > LIMITS.metadataBytes) {
    return new DomainError("MetadataSizeExceeded", `${target} may hold at most ${LIMITS.metadataBytes} bytes of keys and values; it has ${bytes}.`, target);
  }
  return undefined;
}

export function checkTopic(topic: string): DomainError | undefined {
  if (topic.trim().length === 0) return badRequest("The topic must not be empty.", "topic");
  if (topic.length > LIMITS.topicChars) return badRequest(`The topic may be at most ${LIMITS.topicChars} characters long.`, "topic");
  return undefined;
}

export function checkDisplayName(name: string | undefined, target: string): DomainError | undefined {
  if (name !== undefined && name.length > LIMITS.displayNameChars) {
    return badRequest(`${target} may be at most ${LIMITS.displayNameChars} characters long.`, target);
  }
  return undefined;
}

export function checkMessageContent(content: string): DomainError | undefined {
  if (content.length === 0) return badRequest("The message content must not be empty.", "content");
  const bytes = Buffer.byteLength(content);
  if (bytes > LIMITS.messageContentBytes) {
    return new DomainError("MessageSizeExceeded", `Message size exceeded: ${bytes} bytes, the limit is ${LIMITS.messageContentBytes}.`, "content");
  }
  return undefined;
}

export function checkRetentionPolicy(policy: ChatRetentionPolicy | null | undefined): DomainError | undefined {
  if (policy === undefined || policy === null || policy.kind === "none") return undefined;
  const days = policy.deleteThreadAfterDays;
  if (!Number.isInteger(days) || days < LIMITS.retentionDaysMin || days > LIMITS.retentionDaysMax) {
    return badRequest(
      `retentionPolicy.deleteThreadAfterDays must be a whole number from ${LIMITS.retentionDaysMin} to ${LIMITS.retentionDaysMax}.`,
      "retentionPolicy.deleteThreadAfterDays",
    );
  }
  return undefined;
}

/** First error of a list of checks, or undefined. */
export function firstError(...checks: Array<DomainError | undefined>): DomainError | undefined {
  return checks.find((c) => c !== undefined);
}
