/**
 * Communication identifiers, named and shaped as in `@azure/communication-common`, so values move
 * freely between this SDK and the official ones. Parley only knows ACS users
 * (`8:acs:<resource>_<uuid>`); the other kinds exist so that results from ACS-shaped data
 * (for example an invalid participant) are represented faithfully.
 */

export interface CommunicationUserIdentifier {
  communicationUserId: string;
}
export interface PhoneNumberIdentifier {
  rawId?: string;
  phoneNumber: string;
  assertedId?: string;
  isAnonymous?: boolean;
}
export interface MicrosoftTeamsUserIdentifier {
  rawId?: string;
  microsoftTeamsUserId: string;
  isAnonymous?: boolean;
  cloud?: "public" | "dod" | "gcch";
}
export interface MicrosoftTeamsAppIdentifier {
  rawId?: string;
  teamsAppId: string;
  cloud?: "public" | "dod" | "gcch";
}
export interface TeamsExtensionUserIdentifier {
  rawId?: string;
  userId: string;
  tenantId: string;
  resourceId: string;
  cloud?: "public" | "dod" | "gcch";
}
export interface UnknownIdentifier {
  id: string;
}

export type CommunicationIdentifier =
  | CommunicationUserIdentifier
  | PhoneNumberIdentifier
  | MicrosoftTeamsUserIdentifier
  | MicrosoftTeamsAppIdentifier
  | TeamsExtensionUserIdentifier
  | UnknownIdentifier;

export interface CommunicationUserKind extends CommunicationUserIdentifier {
  kind: "communicationUser";
}
export interface PhoneNumberKind extends PhoneNumberIdentifier {
  kind: "phoneNumber";
}
export interface MicrosoftTeamsUserKind extends MicrosoftTeamsUserIdentifier {
  kind: "microsoftTeamsUser";
}
export interface MicrosoftTeamsAppKind extends MicrosoftTeamsAppIdentifier {
  kind: "microsoftTeamsApp";
}
export interface TeamsExtensionUserKind extends TeamsExtensionUserIdentifier {
  kind: "teamsExtensionUser";
}
export interface UnknownIdentifierKind extends UnknownIdentifier {
  kind: "unknown";
}

export type CommunicationIdentifierKind =
  | CommunicationUserKind
  | PhoneNumberKind
  | MicrosoftTeamsUserKind
  | MicrosoftTeamsAppKind
  | TeamsExtensionUserKind
  | UnknownIdentifierKind;

type Loose = Record<string, unknown>;

export const isCommunicationUserIdentifier = (identifier: CommunicationIdentifier): identifier is CommunicationUserIdentifier =>
  typeof (identifier as unknown as Loose).communicationUserId === "string";
export const isPhoneNumberIdentifier = (identifier: CommunicationIdentifier): identifier is PhoneNumberIdentifier =>
  typeof (identifier as unknown as Loose).phoneNumber === "string";
export const isMicrosoftTeamsUserIdentifier = (identifier: CommunicationIdentifier): identifier is MicrosoftTeamsUserIdentifier =>
  typeof (identifier as unknown as Loose).microsoftTeamsUserId === "string";
export const isMicrosoftTeamsAppIdentifier = (identifier: CommunicationIdentifier): identifier is MicrosoftTeamsAppIdentifier =>
  typeof (identifier as unknown as Loose).teamsAppId === "string";
export const isTeamsExtensionUserIdentifier = (identifier: CommunicationIdentifier): identifier is TeamsExtensionUserIdentifier => {
  const i = identifier as unknown as Loose;
  return typeof i.userId === "string" && typeof i.tenantId === "string" && typeof i.resourceId === "string";
};
export const isUnknownIdentifier = (identifier: CommunicationIdentifier): identifier is UnknownIdentifier =>
  typeof (identifier as unknown as Loose).id === "string";

/** The identifier with its `kind` (the discriminated form every result of this SDK uses). */
export function getIdentifierKind(identifier: CommunicationIdentifier): CommunicationIdentifierKind {
  if (isCommunicationUserIdentifier(identifier)) return { ...identifier, kind: "communicationUser" };
  if (isPhoneNumberIdentifier(identifier)) return { ...identifier, kind: "phoneNumber" };
  if (isMicrosoftTeamsUserIdentifier(identifier)) return { ...identifier, kind: "microsoftTeamsUser" };
  if (isMicrosoftTeamsAppIdentifier(identifier)) return { ...identifier, kind: "microsoftTeamsApp" };
  if (isTeamsExtensionUserIdentifier(identifier)) return { ...identifier, kind: "teamsExtensionUser" };
  return { ...(identifier as UnknownIdentifier), kind: "unknown" };
}

/** The identifier's raw id (`8:acs:…`, `4:+1…`, …), the stable string to store or compare. */
export function getIdentifierRawId(identifier: CommunicationIdentifier): string {
  const i = getIdentifierKind(identifier);
  switch (i.kind) {
    case "communicationUser":
      return i.communicationUserId;
    case "phoneNumber":
      return i.rawId ?? `4:${i.phoneNumber}`;
    case "microsoftTeamsUser":
      if (i.rawId) return i.rawId;
      if (i.isAnonymous) return `8:teamsvisitor:${i.microsoftTeamsUserId}`;
      return `8:${i.cloud === "dod" ? "dod" : i.cloud === "gcch" ? "gcch" : "orgid"}:${i.microsoftTeamsUserId}`;
    case "microsoftTeamsApp":
      return i.rawId ?? `28:${i.cloud === "dod" ? "dod" : i.cloud === "gcch" ? "gcch" : "orgid"}:${i.teamsAppId}`;
    case "teamsExtensionUser": {
      if (i.rawId) return i.rawId;
      const prefix = i.cloud === "dod" ? "8:dod-acs:" : i.cloud === "gcch" ? "8:gcch-acs:" : "8:acs:";
      return `${prefix}${i.resourceId}_${i.tenantId}_${i.userId}`;
    }
    case "unknown":
      return i.id;
  }
}

/** The identifier a raw id encodes (the inverse of getIdentifierRawId for the kinds ACS issues). */
export function createIdentifierFromRawId(rawId: string): CommunicationIdentifierKind {
  if (rawId.startsWith("4:")) {
    const phoneNumber = rawId.slice(2);
    return { kind: "phoneNumber", phoneNumber, rawId };
  }
  const segments = rawId.split(":");
  if (segments.length !== 3) return { kind: "unknown", id: rawId };
  const [a, b, suffix] = segments as [string, string, string];
  switch (`${a}:${b}:`) {
    case "8:teamsvisitor:":
      return { kind: "microsoftTeamsUser", microsoftTeamsUserId: suffix, isAnonymous: true };
    case "8:orgid:":
      return { kind: "microsoftTeamsUser", microsoftTeamsUserId: suffix, isAnonymous: false, cloud: "public" };
    case "8:dod:":
      return { kind: "microsoftTeamsUser", microsoftTeamsUserId: suffix, isAnonymous: false, cloud: "dod" };
    case "8:gcch:":
      return { kind: "microsoftTeamsUser", microsoftTeamsUserId: suffix, isAnonymous: false, cloud: "gcch" };
    case "28:orgid:":
      return { kind: "microsoftTeamsApp", teamsAppId: suffix, cloud: "public" };
    case "28:dod:":
      return { kind: "microsoftTeamsApp", teamsAppId: suffix, cloud: "dod" };
    case "28:gcch:":
      return { kind: "microsoftTeamsApp", teamsAppId: suffix, cloud: "gcch" };
    case "8:acs:":
    case "8:spool:":
    case "8:dod-acs:":
    case "8:gcch-acs:":
      return { kind: "communicationUser", communicationUserId: rawId };
  }
  return { kind: "unknown", id: rawId };
}

// ---------------------------------------------------------------------------------------------
// Wire form (internal): `{rawId, communicationUser: {id}}` and friends.

/** @internal An identifier as the REST API carries it. */
export interface SerializedIdentifier {
  rawId?: string;
  kind?: string;
  communicationUser?: { id: string };
  phoneNumber?: { value: string; isAnonymous?: boolean; assertedId?: string };
  microsoftTeamsUser?: { userId: string; isAnonymous?: boolean; cloud?: string };
  microsoftTeamsApp?: { appId: string; cloud?: string };
  teamsExtensionUser?: { userId: string; tenantId: string; resourceId: string; cloud?: string };
}

/** @internal */
export function serializeIdentifier(identifier: CommunicationIdentifier): SerializedIdentifier {
  const i = getIdentifierKind(identifier);
  const rawId = getIdentifierRawId(i);
  switch (i.kind) {
    case "communicationUser":
      return { rawId, communicationUser: { id: i.communicationUserId } };
    case "phoneNumber":
      return { rawId, phoneNumber: { value: i.phoneNumber, isAnonymous: i.isAnonymous ?? false, ...(i.assertedId && { assertedId: i.assertedId }) } };
    case "microsoftTeamsUser":
      return { rawId, microsoftTeamsUser: { userId: i.microsoftTeamsUserId, isAnonymous: i.isAnonymous ?? false, cloud: i.cloud ?? "public" } };
    case "microsoftTeamsApp":
      return { rawId, microsoftTeamsApp: { appId: i.teamsAppId, cloud: i.cloud ?? "public" } };
    case "teamsExtensionUser":
      return { rawId, teamsExtensionUser: { userId: i.userId, tenantId: i.tenantId, resourceId: i.resourceId, cloud: i.cloud ?? "public" } };
    case "unknown":
      return { rawId };
  }
}

type Cloud = "public" | "dod" | "gcch";
const cloudOf = (value: string | undefined): Cloud => (value === "dod" || value === "gcch" ? value : "public");

/** @internal Wire → SDK, following the official SDK's deserializer (kind first, then the nested model). */
export function deserializeIdentifier(model: SerializedIdentifier): CommunicationIdentifierKind {
  const kind = model.kind ?? kindOf(model);
  if (kind === "communicationUser" && model.communicationUser) {
    return { kind: "communicationUser", communicationUserId: model.communicationUser.id };
  }
  if (kind === "phoneNumber" && model.phoneNumber) {
    return {
      kind: "phoneNumber",
      phoneNumber: model.phoneNumber.value,
      ...(model.rawId !== undefined && { rawId: model.rawId }),
      isAnonymous: model.phoneNumber.isAnonymous ?? false,
      ...(model.phoneNumber.assertedId !== undefined && { assertedId: model.phoneNumber.assertedId }),
    };
  }
  if (kind === "microsoftTeamsUser" && model.microsoftTeamsUser) {
    return {
      kind: "microsoftTeamsUser",
      microsoftTeamsUserId: model.microsoftTeamsUser.userId,
      isAnonymous: model.microsoftTeamsUser.isAnonymous ?? false,
      cloud: cloudOf(model.microsoftTeamsUser.cloud),
      ...(model.rawId !== undefined && { rawId: model.rawId }),
    };
  }
  if (kind === "microsoftTeamsApp" && model.microsoftTeamsApp) {
    return {
      kind: "microsoftTeamsApp",
      teamsAppId: model.microsoftTeamsApp.appId,
      cloud: cloudOf(model.microsoftTeamsApp.cloud),
      ...(model.rawId !== undefined && { rawId: model.rawId }),
    };
  }
  if (kind === "teamsExtensionUser" && model.teamsExtensionUser) {
    const t = model.teamsExtensionUser;
    return {
      kind: "teamsExtensionUser",
      userId: t.userId,
      tenantId: t.tenantId,
      resourceId: t.resourceId,
      cloud: cloudOf(t.cloud),
      ...(model.rawId !== undefined && { rawId: model.rawId }),
    };
  }
  return { kind: "unknown", id: model.rawId ?? "" };
}

function kindOf(model: SerializedIdentifier): string {
  if (model.communicationUser) return "communicationUser";
  if (model.phoneNumber) return "phoneNumber";
  if (model.microsoftTeamsUser) return "microsoftTeamsUser";
  if (model.microsoftTeamsApp) return "microsoftTeamsApp";
  if (model.teamsExtensionUser) return "teamsExtensionUser";
  return "unknown";
}
