/**
 * api-versions the official SDKs send. Parley accepts any value (older clients ignore fields they
 * do not know), answers the newest shape, and only requires the parameter to be present and sane.
 */
export const KNOWN_API_VERSIONS = {
  chatJs: "2025-03-15",
  chatPython: "2021-09-07",
  identityJs: "2023-10-01",
  identityPython: "2022-10-01",
  realtimeConfig: "2024-09-01",
} as const;

export const LATEST_CHAT_API_VERSION = KNOWN_API_VERSIONS.chatJs;
export const LATEST_IDENTITY_API_VERSION = KNOWN_API_VERSIONS.identityJs;

/** `YYYY-MM-DD` optionally followed by `-preview`, `-preview8` and the like. */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-[a-z0-9]{1,20})?$/;

export function isWellFormedApiVersion(value: string): boolean {
  return API_VERSION.test(value);
}
