/**
 * Identities and their access tokens (the ACS Identity API), over the Store and TokenService.
 */
import { LIMITS, TOKEN_SCOPES, makeUserId } from "@parley/protocol";
import type { Store } from "../store/index.js";
import type { TokenService } from "../auth/tokens.js";
import { DomainError, badRequest, notFound, unauthorized, type DomainError as Err } from "../domain/errors.js";
import type { ChatCaller } from "../domain/caller.js";
import type { Bus } from "../realtime/bus.js";

export interface IssuedToken {
  token: string;
  expiresOn: Date;
}

export interface IdentityServiceDeps {
  store: Store;
  tokens: TokenService;
  clock: () => number;
  uuid: () => string;
  resourceId: string;
  /** Told when a user's tokens stop being valid, so live connections close at once. */
  bus?: Bus;
}

export class IdentityService {
  constructor(private readonly deps: IdentityServiceDeps) {}

  async createUser(options: { scopes?: string[]; expiresInMinutes?: number }): Promise<{ userId: string; token?: IssuedToken } | Err> {
    const checked = options.scopes && options.scopes.length > 0 ? this.checkTokenRequest(options.scopes, options.expiresInMinutes) : undefined;
    if (checked instanceof DomainError) return checked;
    if (!checked && options.expiresInMinutes !== undefined) {
      const minutes = this.checkMinutes(options.expiresInMinutes);
      if (minutes instanceof DomainError) return minutes;
    }
    const userId = makeUserId(this.deps.resourceId, this.deps.uuid());
    await this.deps.store.createUser({ id: userId, createdAt: this.deps.clock(), tokenEpoch: 0 });
    if (!checked) return { userId };
    const token = await this.deps.tokens.issue({ userId, epoch: 0, ...checked });
    return { userId, token };
  }

  async issueToken(userId: string, scopes: string[], expiresInMinutes?: number): Promise<IssuedToken | Err> {
    if (scopes.length === 0) return badRequest("At least one scope is required.", "scopes");
    const checked = this.checkTokenRequest(scopes, expiresInMinutes);
    if (checked instanceof DomainError) return checked;
    const user = await this.deps.store.getUser(userId);
    if (!user || user.deletedAt !== undefined) return notFound(`Identity ${userId} was not found.`, "id");
    return this.deps.tokens.issue({ userId, epoch: user.tokenEpoch, ...checked });
  }

  async revokeTokens(userId: string): Promise<true | Err> {
    const user = await this.deps.store.revokeTokens(userId);
    if (!user) return notFound(`Identity ${userId} was not found.`, "id");
    await this.deps.bus?.publish({ type: "tokensChanged", userId });
    return true;
  }

  async deleteUser(userId: string): Promise<true | Err> {
    const deleted = await this.deps.store.deleteUser(userId, this.deps.clock());
    if (!deleted) return notFound(`Identity ${userId} was not found.`, "id");
    await this.deps.bus?.publish({ type: "tokensChanged", userId });
    return true;
  }

  /** Turns a bearer token into a caller: signature, expiry, revocation and deletion are checked. */
  async authenticate(token: string): Promise<ChatCaller | Err> {
    const check = await this.deps.tokens.verify(token);
    if (!check.ok) {
      if (check.reason === "expired") return new DomainError("TokenExpired", "The access token has expired.");
      return new DomainError("InvalidAuthentication", "The access token is not valid.");
    }
    const user = await this.deps.store.getUser(check.claims.userId);
    if (!user || user.deletedAt !== undefined) return new DomainError("TokenRevoked", "The identity of this access token was deleted.");
    if (check.claims.epoch < user.tokenEpoch) return new DomainError("TokenRevoked", "The access token was revoked.");
    if (check.claims.epoch > user.tokenEpoch) return unauthorized();
    return { userId: user.id, scopes: new Set(check.claims.scopes), tokenExpiresAt: check.claims.expiresAt * 1000 };
  }

  private checkTokenRequest(scopes: string[], expiresInMinutes: number | undefined): { scopes: string[]; expiresInMinutes: number } | Err {
    const unknown = scopes.find((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
    if (unknown !== undefined) return badRequest(`Unknown scope '${unknown}'. Known scopes: ${TOKEN_SCOPES.join(", ")}.`, "scopes");
    const minutes = this.checkMinutes(expiresInMinutes ?? LIMITS.tokenMinutesDefault);
    if (minutes instanceof DomainError) return minutes;
    return { scopes: [...new Set(scopes)], expiresInMinutes: minutes };
  }

  private checkMinutes(minutes: number): number | Err {
    if (!Number.isInteger(minutes) || minutes < LIMITS.tokenMinutesMin || minutes > LIMITS.tokenMinutesMax) {
      return badRequest(
        `expiresInMinutes must be a whole number from ${LIMITS.tokenMinutesMin} to ${LIMITS.tokenMinutesMax}.`,
        "expiresInMinutes",
      );
    }
    return minutes;
  }
}
