/**
 * What a subscription request (HTTP body or an entry of the --webhooks-config file) may say, read
 * into a typed input or a DomainError naming the field.
 */
import { readFileSync } from "node:fs";
import { ACS_CHAT_EVENT_TYPES } from "@parley/protocol";
import { DomainError } from "../domain/errors.js";
import type { EventSchema } from "./webhookStore.js";

export interface SubscriptionInput {
  id?: string;
  url: string;
  schema: EventSchema;
  includedEventTypes?: string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  secret?: string;
  /** Activate without the handshake (local development against a receiver that cannot answer it). */
  skipValidation: boolean;
  maxEventsPerBatch?: number;
  maxConcurrentDeliveries?: number;
}

export const SUBSCRIPTION_ID = /^[A-Za-z0-9_-]{3,64}$/;
export const LIMITS = { minSecret: 16, maxSecret: 256, maxEventsPerBatch: 1000, maxConcurrentDeliveries: 32 } as const;

const invalid = (message: string, target: string) => new DomainError("InvalidRequestBody", message, target);

export function readSubscriptionInput(json: unknown, where = ""): SubscriptionInput | DomainError {
  const at = (key: string) => (where ? `${where}.${key}` : key);
  if (typeof json !== "object" || json === null || Array.isArray(json)) return invalid(`${where || "body"} must be a JSON object.`, where || "body");
  const body = json as Record<string, unknown>;

  const string = (key: string): string | undefined | DomainError => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    return typeof value === "string" ? value : invalid(`${at(key)} must be a string.`, at(key));
  };
  const integer = (key: string, min: number, max: number): number | undefined | DomainError => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      return invalid(`${at(key)} must be a whole number from ${min} to ${max}.`, at(key));
    }
    return value;
  };

  const id = string("id");
  if (id instanceof DomainError) return id;
  if (id !== undefined && !SUBSCRIPTION_ID.test(id)) return invalid(`${at("id")} must be 3 to 64 letters, digits, '-' or '_'.`, at("id"));

  const url = string("url");
  if (url instanceof DomainError) return url;
  if (url === undefined) return invalid(`${at("url")} is required.`, at("url"));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalid(`${at("url")} must be an absolute http(s) URL.`, at("url"));
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return invalid(`${at("url")} must be an http or https URL.`, at("url"));

  const schemaName = string("schema");
  if (schemaName instanceof DomainError) return schemaName;
  let schema: EventSchema = "EventGridSchema";
  if (schemaName === "CloudEventSchema" || schemaName === "CloudEventSchemaV1_0") schema = "CloudEventSchema";
  else if (schemaName !== undefined && schemaName !== "EventGridSchema") {
    return invalid(`${at("schema")} must be 'EventGridSchema' or 'CloudEventSchema'.`, at("schema"));
  }

  let includedEventTypes: string[] | undefined;
  const types = body.includedEventTypes;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.some((t) => typeof t !== "string")) return invalid(`${at("includedEventTypes")} must be an array of strings.`, at("includedEventTypes"));
    includedEventTypes = [];
    for (const t of types as string[]) {
      const known = ACS_CHAT_EVENT_TYPES.find((k) => k.toLowerCase() === t.toLowerCase());
      if (!known) return invalid(`${at("includedEventTypes")}: ${t} is not a chat event type (e.g. Microsoft.Communication.ChatMessageReceived).`, at("includedEventTypes"));
      if (!includedEventTypes.includes(known)) includedEventTypes.push(known);
    }
    if (includedEventTypes.length === 0) includedEventTypes = undefined;
  }

  const subjectBeginsWith = string("subjectBeginsWith");
  if (subjectBeginsWith instanceof DomainError) return subjectBeginsWith;
  const subjectEndsWith = string("subjectEndsWith");
  if (subjectEndsWith instanceof DomainError) return subjectEndsWith;

  const secret = string("secret");
  if (secret instanceof DomainError) return secret;
  if (secret !== undefined && (secret.length < LIMITS.minSecret || secret.length > LIMITS.maxSecret)) {
    return invalid(`${at("secret")} must be ${LIMITS.minSecret} to ${LIMITS.maxSecret} characters.`, at("secret"));
  }

  const skip = body.skipValidation;
  if (skip !== undefined && skip !== null && typeof skip !== "boolean") return invalid(`${at("skipValidation")} must be true or false.`, at("skipValidation"));

  const maxEventsPerBatch = integer("maxEventsPerBatch", 1, LIMITS.maxEventsPerBatch);
  if (maxEventsPerBatch instanceof DomainError) return maxEventsPerBatch;
  const maxConcurrentDeliveries = integer("maxConcurrentDeliveries", 1, LIMITS.maxConcurrentDeliveries);
  if (maxConcurrentDeliveries instanceof DomainError) return maxConcurrentDeliveries;

  return {
    url,
    schema,
    skipValidation: skip === true,
    ...(id !== undefined && { id }),
    ...(includedEventTypes && { includedEventTypes }),
    ...(subjectBeginsWith && { subjectBeginsWith }),
    ...(subjectEndsWith && { subjectEndsWith }),
    ...(secret !== undefined && { secret }),
    ...(maxEventsPerBatch !== undefined && { maxEventsPerBatch }),
    ...(maxConcurrentDeliveries !== undefined && { maxConcurrentDeliveries }),
  };
}

/**
 * The --webhooks-config file: a JSON array of subscriptions. Each needs an `id` (how it is recognised
 * across restarts) and a `secret`, given inline or as `secretEnv`, the name of an environment
 * variable holding it (keeps secrets out of files). Throws an Error that names the bad entry.
 */
export function loadWebhooksConfig(file: string, env: NodeJS.ProcessEnv = process.env): Array<SubscriptionInput & { id: string; secret: string }> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`webhooks config ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(json)) throw new Error(`webhooks config ${file}: expected a JSON array of subscriptions`);
  const seen = new Set<string>();
  return json.map((entry, i) => {
    const where = `[${i}]`;
    const item = { ...(entry as Record<string, unknown>) };
    if (typeof item.secretEnv === "string") {
      const value = env[item.secretEnv];
      if (value === undefined) throw new Error(`webhooks config ${file}: ${where}.secretEnv names ${item.secretEnv}, which is not set`);
      item.secret = value;
    }
    delete item.secretEnv;
    const input = readSubscriptionInput(item, where);
    if (input instanceof DomainError) throw new Error(`webhooks config ${file}: ${input.message}`);
    if (input.id === undefined) throw new Error(`webhooks config ${file}: ${where}.id is required`);
    if (input.secret === undefined) throw new Error(`webhooks config ${file}: ${where} needs a secret (or secretEnv)`);
    if (seen.has(input.id)) throw new Error(`webhooks config ${file}: ${where}.id ${input.id} appears twice`);
    seen.add(input.id);
    return input as SubscriptionInput & { id: string; secret: string };
  });
}
