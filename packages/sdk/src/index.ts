/**
 * @parley/sdk — the ACS Identity and Chat JS SDK API for Parley, in browsers, workers and Node 20+,
 * with real-time events over Parley's event stream. Switch from the official SDKs by changing the
 * import: `@azure/communication-chat`, `@azure/communication-identity` and the credential from
 * `@azure/communication-common` all come from here.
 */
export { ChatClient, type ChatEventListeners } from "./chatClient.js";
export { ChatThreadClient, CHAT_API_VERSION, MINIMUM_TYPING_INTERVAL_MS } from "./chatThreadClient.js";
export { CommunicationIdentityClient, IDENTITY_API_VERSION, parseConnectionString } from "./identityClient.js";
export {
  AzureCommunicationTokenCredential,
  AzureKeyCredential,
  parseToken,
  type AccessToken,
  type CommunicationGetTokenOptions,
  type CommunicationTokenCredential,
  type CommunicationTokenRefreshOptions,
  type KeyCredential,
} from "./credential.js";
export { RestError, isRestError, type RestErrorOptions, type RestErrorRequest, type RestErrorResponse } from "./errors.js";
export {
  createIdentifierFromRawId,
  getIdentifierKind,
  getIdentifierRawId,
  isCommunicationUserIdentifier,
  isMicrosoftTeamsAppIdentifier,
  isMicrosoftTeamsUserIdentifier,
  isPhoneNumberIdentifier,
  isTeamsExtensionUserIdentifier,
  isUnknownIdentifier,
  type CommunicationIdentifier,
  type CommunicationIdentifierKind,
  type CommunicationUserIdentifier,
  type CommunicationUserKind,
  type MicrosoftTeamsAppIdentifier,
  type MicrosoftTeamsAppKind,
  type MicrosoftTeamsUserIdentifier,
  type MicrosoftTeamsUserKind,
  type PhoneNumberIdentifier,
  type PhoneNumberKind,
  type TeamsExtensionUserIdentifier,
  type TeamsExtensionUserKind,
  type UnknownIdentifier,
  type UnknownIdentifierKind,
} from "./identifiers.js";
export { CLOSE_CODES } from "./realtime.js";
export { CHAT_EVENT_IDS } from "./events.js";
export type * from "./events.js";
export type * from "./models.js";
