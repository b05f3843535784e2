/**
 * Request-body readers: JSON values in, typed inputs or a 400 DomainError out. Shape checks only;
 * limits (sizes, counts) are domain rules and live in chat/validation.ts.
 */
import { rawIdOf, userIdOf, type ChatRetentionPolicy, type Metadata } from "@parley/protocol";
import { DomainError } from "../domain/errors.js";
import type { ParticipantInput } from "../chat/chatService.js";

export type Json = Record<string, unknown>;

const invalidBody = (message: string, target?: string) => new DomainError("InvalidRequestBody", message, target);

export function object(value: unknown, target = "body"): Json | DomainError {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return invalidBody(`${target} must be a JSON object.`, target);
  return value as Json;
}

export function requiredString(body: Json, key: string): string | DomainError {
  const value = body[key];
  if (typeof value !== "string") return invalidBody(`${key} is required and must be a string.`, key);
  return value;
}

/** Missing and null both read as "not given" (Python sends explicit nulls). */
export function optionalString(body: Json, key: string): string | undefined | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return invalidBody(`${key} must be a string.`, key);
  return value;
}

export function optionalInteger(body: Json, key: string): number | undefined | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) return invalidBody(`${key} must be a whole number.`, key);
  return value;
}

export function optionalStringArray(body: Json, key: string): string[] | undefined | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) return invalidBody(`${key} must be an array of strings.`, key);
  return value as string[];
}

export function optionalMetadata(body: Json, key = "metadata"): Metadata | undefined | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
    return invalidBody(`${key} must be an object whose values are strings.`, key);
  }
  return { ...(value as Metadata) };
}

export function optionalTime(body: Json, key: string): number | undefined | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return invalidBody(`${key} must be an ISO-8601 date-time.`, key);
  return ms;
}

export function optionalRetentionPolicy(body: Json, key = "retentionPolicy"): ChatRetentionPolicy | null | undefined | DomainError {
  const value = body[key];
  if (value === undefined) return undefined;
  if (value === null) return null;
  const policy = object(value, key);
  if (policy instanceof DomainError) return policy;
  if (policy.kind === "none") return { kind: "none" };
  if (policy.kind === "threadCreationDate") {
    const days = policy.deleteThreadAfterDays;
    if (typeof days !== "number") return invalidBody(`${key}.deleteThreadAfterDays is required and must be a number.`, `${key}.deleteThreadAfterDays`);
    return { kind: "threadCreationDate", deleteThreadAfterDays: days };
  }
  return invalidBody(`${key}.kind must be 'threadCreationDate' or 'none'.`, `${key}.kind`);
}

/** A bare identifier (the `:remove` body): must name an ACS user. */
export function identifier(value: unknown, target: string): string | DomainError {
  const model = object(value, target);
  if (model instanceof DomainError) return model;
  const userId = userIdOf(model);
  if (userId === undefined) return invalidBody(`${target} must identify an Azure Communication Services user (8:acs:...).`, target);
  return userId;
}

export function participants(body: Json, key = "participants", required = false): ParticipantInput[] | DomainError {
  const value = body[key];
  if (value === undefined || value === null) return required ? invalidBody(`${key} is required.`, key) : [];
  if (!Array.isArray(value)) return invalidBody(`${key} must be an array.`, key);
  const out: ParticipantInput[] = [];
  for (const [i, item] of value.entries()) {
    const p = object(item, `${key}[${i}]`);
    if (p instanceof DomainError) return p;
    const model = object(p.communicationIdentifier, `${key}[${i}].communicationIdentifier`);
    if (model instanceof DomainError) return model;
    const target = rawIdOf(model);
    if (target === undefined) return invalidBody(`${key}[${i}].communicationIdentifier names no identity.`, `${key}[${i}].communicationIdentifier`);
    const displayName = optionalString(p, "displayName");
    if (displayName instanceof DomainError) return displayName;
    const shareHistoryTime = optionalTime(p, "shareHistoryTime");
    if (shareHistoryTime instanceof DomainError) return shareHistoryTime;
    const metadata = optionalMetadata(p);
    if (metadata instanceof DomainError) return metadata;
    out.push({
      userId: userIdOf(model),
      target,
      ...(displayName !== undefined && { displayName }),
      ...(shareHistoryTime !== undefined && { shareHistoryTime }),
      ...(metadata !== undefined && { metadata }),
    });
  }
  return out;
}

/** Runs readers in order and returns the first error, or all values. */
export function collect<T extends unknown[]>(...values: T): { [K in keyof T]: Exclude<T[K], DomainError> } | DomainError {
  const error = values.find((v) => v instanceof DomainError);
  return (error as DomainError | undefined) ?? (values as { [K in keyof T]: Exclude<T[K], DomainError> });
}
