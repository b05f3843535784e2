/**
 * Communication identifiers as they travel on the wire.
 *
 * Requests from the SDKs carry `{rawId, communicationUser: {id}}` (never `kind`); Python reads only
 * `rawId` from responses, JS prefers `kind`. So every identifier we emit has all three.
 */

export interface CommunicationUserIdentifierModel {
  id: string;
}

export interface CommunicationIdentifierModel {
  rawId?: string;
  kind?: string;
  communicationUser?: CommunicationUserIdentifierModel;
  phoneNumber?: { value: string };
  microsoftTeamsUser?: { userId: string; isAnonymous?: boolean; cloud?: string };
  microsoftTeamsApp?: { appId: string; cloud?: string };
}

/** The identifier shape both official SDKs can parse, for an ACS user raw id `8:acs:...`. */
export function communicationUser(rawId: string): Required<Pick<CommunicationIdentifierModel, "rawId" | "kind" | "communicationUser">> {
  return { rawId, kind: "communicationUser", communicationUser: { id: rawId } };
}

/** ACS user ids: `8:acs:<resourceId>_<uuid>`; other clouds use `8:gcch-acs:` and `8:dod-acs:`. */
const ACS_USER_ID = /^8:(acs|gcch-acs|dod-acs):[A-Za-z0-9-]{1,64}_[A-Za-z0-9-]{1,64}$/;

export function isAcsUserId(value: string): boolean {
  return ACS_USER_ID.test(value);
}

export function makeUserId(resourceId: string, uuid: string): string {
  return `8:acs:${resourceId}_${uuid}`;
}

/**
 * Reads the user a request names. Accepts `communicationUser.id`, falling back to `rawId`, and
 * rejects the two disagreeing. Returns undefined when the value names no ACS user.
 */
export function userIdOf(model: unknown): string | undefined {
  if (typeof model !== "object" || model === null || Array.isArray(model)) return undefined;
  const m = model as CommunicationIdentifierModel;
  const fromUser = typeof m.communicationUser === "object" && m.communicationUser !== null ? m.communicationUser.id : undefined;
  const raw = m.rawId;
  if (fromUser !== undefined && typeof fromUser !== "string") return undefined;
  if (raw !== undefined && typeof raw !== "string") return undefined;
  if (fromUser !== undefined && raw !== undefined && fromUser !== raw) return undefined;
  const id = fromUser ?? raw;
  return id !== undefined && isAcsUserId(id) ? id : undefined;
}

/** Best-effort raw id of whatever identifier a request sent, used as an error `target`. */
export function rawIdOf(model: unknown): string | undefined {
  if (typeof model !== "object" || model === null) return undefined;
  const m = model as CommunicationIdentifierModel;
  if (typeof m.rawId === "string") return m.rawId;
  if (typeof m.communicationUser?.id === "string") return m.communicationUser.id;
  if (typeof m.phoneNumber?.value === "string") return `4:${m.phoneNumber.value}`;
  if (typeof m.microsoftTeamsUser?.userId === "string") return `8:orgid:${m.microsoftTeamsUser.userId}`;
  return undefined;
}

/** Thread ids look like ACS's: `19:<32 hex>@thread.v2`. */
const THREAD_ID = /^19:[A-Za-z0-9_-]{1,128}@thread\.v2$/;

export function isThreadId(value: string): boolean {
  return THREAD_ID.test(value);
}

export function makeThreadId(hex32: string): string {
  return `19:${hex32}@thread.v2`;
}
