/**
 * Identities and their access tokens (the ACS Identity API), over the Store and TokenService.
 */
import { LIMITS, TOKEN_SCOPES, makeUserId } from "@parley/protocol";
import type { Store } from "../store/index.js";
import type { TokenService } from "../auth/tokens.js";
import { DomainError, badRequest, notFound, unauthorized, type DomainError as Err } from "../domain/errors.js";
import type { ChatCaller } from "../domain/caller.js";
import type { Bus } from "../realtime/bus.js";
import { setBounded } from "../boundedMap.js";

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

/** How many users' token states `authenticate` keeps in memory (the oldest go first). */
const CACHED_USERS = 50_000;

interface TokenState {
  tokenEpoch: number;
  deleted: boolean;
}

export class IdentityService {
  /**
   * What `authenticate` needs of a user, kept in memory: the lookup was ~10 % of a send's CPU
   * (SQLite's first statement after a commit costs 2-3x a warm one). It changes only through this
   * service's revokeTokens and deleteUser, which drop the entry before and after their write, and
   * elsewhere (another node) through the bus's tokensChanged notice, which drops it too.
   */
  private readonly tokenStates = new Map<string, TokenState>();
  /** Bumped by every drop, so a lookup that raced with one is not cached. */
  private generation = 0;

  constructor(private readonly deps: IdentityServiceDeps) {
    deps.bus?.subscribe((notice) => {
      if (notice.type === "tokensChanged") this.forget(notice.userId);
    });
  }

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
    this.forget(userId);
    const user = await this.deps.store.revokeTokens(userId);
    this.forget(userId);
    if (!user) return notFound(`Identity ${userId} was not found.`, "id");
    await this.deps.bus?.publish({ type: "tokensChanged", userId });
    return true;
  }

  async deleteUser(userId: string): Promise<true | Err> {
    this.forget(userId);
    const deleted = await this.deps.store.deleteUser(userId, this.deps.clock());
    this.forget(userId);
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
    const userId = check.claims.userId;
    const user = this.tokenStates.get(userId) ?? (await this.lookUp(userId));
    if (!user || user.deleted) return new DomainError("TokenRevoked", "The identity of this access token was deleted.");
    if (check.claims.epoch < user.tokenEpoch) return new DomainError("TokenRevoked", "The access token was revoked.");
    if (check.claims.epoch > user.tokenEpoch) return unauthorized();
    return { userId, scopes: new Set(check.claims.scopes), tokenExpiresAt: check.claims.expiresAt * 1000 };
  }

  private async lookUp(userId: string): Promise<TokenState | undefined> {
    const generation = this.generation;
    const user = await this.deps.store.getUser(userId);
    if (!user) return undefined; // not cached: a signed token names users we created, so this is rare
    const state = { tokenEpoch: user.tokenEpoch, deleted: user.deletedAt !== undefined };
    if (generation === this.generation) {
      setBounded(this.tokenStates, userId, state, CACHED_USERS);
    }
    return state;
  }

  private forget(userId: string): void {
    this.generation++;
    this.tokenStates.delete(userId);
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
