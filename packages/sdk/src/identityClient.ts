/**
 * CommunicationIdentityClient: users and their access tokens, authenticated with the access key
 * (HMAC-SHA256 on WebCrypto). Same names, arguments and results as `@azure/communication-identity`.
 */
import type * as wire from "@parley/protocol";
import { AzureKeyCredential, type KeyCredential } from "./credential.js";
import { signRequest } from "./hmac.js";
import { HttpClient } from "./http.js";
import type { CommunicationUserIdentifier } from "./identifiers.js";
import { date } from "./mappers.js";
import type {
  CommunicationAccessToken,
  CommunicationIdentityClientOptions,
  CommunicationUserToken,
  CreateUserAndTokenOptions,
  GetTokenOptions,
  OperationOptions,
  TokenScope,
} from "./models.js";

/** The api-version `@azure/communication-identity` 1.3 sends. */
export const IDENTITY_API_VERSION = "2023-10-01";

/** `endpoint=<url>;accesskey=<base64>` → its parts (same pattern as the official SDK). */
export function parseConnectionString(connectionString: string): { endpoint: string; credential: KeyCredential } {
  const match = /endpoint=(.*);accesskey=(.*)/i.exec(connectionString);
  if (!match?.[1] || !match[2]) throw new Error(`Invalid connection string ${connectionString.replace(/accesskey=.*/i, "accesskey=<redacted>")}`);
  return { endpoint: match[1], credential: new AzureKeyCredential(match[2]) };
}

const isKeyCredential = (value: unknown): value is KeyCredential =>
  typeof value === "object" && value !== null && typeof (value as KeyCredential).key === "string";

export class CommunicationIdentityClient {
  private readonly http: HttpClient;

  /** From a connection string (`endpoint=…;accesskey=…`, as Parley prints it). */
  constructor(connectionString: string, options?: CommunicationIdentityClientOptions);
  /** From an endpoint and its access key (an AzureKeyCredential, or the base64 key itself). */
  constructor(endpoint: string, credential: KeyCredential | string, options?: CommunicationIdentityClientOptions);
  constructor(
    connectionStringOrEndpoint: string,
    credentialOrOptions?: KeyCredential | string | CommunicationIdentityClientOptions,
    maybeOptions: CommunicationIdentityClientOptions = {},
  ) {
    let endpoint: string;
    let credential: KeyCredential;
    let options: CommunicationIdentityClientOptions;
    if (typeof credentialOrOptions === "string" || isKeyCredential(credentialOrOptions)) {
      endpoint = connectionStringOrEndpoint;
      credential = typeof credentialOrOptions === "string" ? new AzureKeyCredential(credentialOrOptions) : credentialOrOptions;
      options = maybeOptions;
    } else if (credentialOrOptions && typeof (credentialOrOptions as { getToken?: unknown }).getToken === "function") {
      throw new TypeError("Parley's identity API authenticates with the access key only; Entra ID (TokenCredential) is not supported.");
    } else {
      ({ endpoint, credential } = parseConnectionString(connectionStringOrEndpoint));
      options = credentialOrOptions ?? {};
    }
    this.http = new HttpClient(
      endpoint,
      async ({ method, url, headers, body }) => {
        const signed = await signRequest(credential.key, method, url, body);
        for (const [key, value] of Object.entries(signed)) headers.set(key, value);
      },
      { ...options, apiVersion: options.apiVersion ?? IDENTITY_API_VERSION },
    );
  }

  /** Creates a user (no token). */
  async createUser(options: OperationOptions = {}): Promise<CommunicationUserIdentifier> {
    const { body } = await this.http.send<wire.CommunicationIdentityAccessTokenResult>({ method: "POST", path: "identities", body: {}, options });
    return { communicationUserId: body.identity.id };
  }

  /** Creates a user and a token for it in one call. */
  async createUserAndToken(scopes: TokenScope[], options: CreateUserAndTokenOptions = {}): Promise<CommunicationUserToken> {
    const { body } = await this.http.send<wire.CommunicationIdentityAccessTokenResult>({
      method: "POST",
      path: "identities",
      body: { createTokenWithScopes: scopes, ...(options.tokenExpiresInMinutes !== undefined && { expiresInMinutes: options.tokenExpiresInMinutes }) },
      options,
    });
    if (!body.accessToken) throw new Error("The service created the user but returned no token.");
    return { token: body.accessToken.token, expiresOn: date(body.accessToken.expiresOn), user: { communicationUserId: body.identity.id } };
  }

  /** Issues a new token for an existing user. Earlier tokens stay valid until revoked. */
  async getToken(user: CommunicationUserIdentifier, scopes: TokenScope[], options: GetTokenOptions = {}): Promise<CommunicationAccessToken> {
    const { body } = await this.http.send<wire.CommunicationIdentityAccessToken>({
      method: "POST",
      path: `identities/${encodeURIComponent(user.communicationUserId)}/:issueAccessToken`,
      body: { scopes, ...(options.tokenExpiresInMinutes !== undefined && { expiresInMinutes: options.tokenExpiresInMinutes }) },
      // Issuing a token changes nothing else, so a lost answer can be asked for again.
      idempotent: true,
      options,
    });
    return { token: body.token, expiresOn: date(body.expiresOn) };
  }

  /** Revokes every token issued to the user so far (their live event streams close with 4003). */
  async revokeTokens(user: CommunicationUserIdentifier, options: OperationOptions = {}): Promise<void> {
    await this.http.send({ method: "POST", path: `identities/${encodeURIComponent(user.communicationUserId)}/:revokeAccessTokens`, idempotent: true, options });
  }

  /** Deletes the user; their tokens stop working at once. */
  async deleteUser(user: CommunicationUserIdentifier, options: OperationOptions = {}): Promise<void> {
    await this.http.send({ method: "DELETE", path: `identities/${encodeURIComponent(user.communicationUserId)}`, options });
  }
}
