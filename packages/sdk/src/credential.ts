/**
 * User-token and access-key credentials, as in `@azure/communication-common` and `@azure/core-auth`.
 * A ChatClient accepts any object with `getToken()`/`dispose()` (so the official
 * AzureCommunicationTokenCredential works here too, and this one works with the official clients).
 */
import { fromBase64 } from "./encoding.js";
import type { AbortSignalLike } from "./models.js";

export interface AccessToken {
  token: string;
  /** Expiry, in milliseconds since the epoch. */
  expiresOnTimestamp: number;
}

export interface CommunicationGetTokenOptions {
  abortSignal?: AbortSignalLike;
}

export interface CommunicationTokenCredential {
  getToken(options?: CommunicationGetTokenOptions): Promise<AccessToken>;
  dispose(): void;
}

export interface CommunicationTokenRefreshOptions {
  /** Fetches a fresh token from your server (which calls CommunicationIdentityClient.getToken). */
  tokenRefresher: (abortSignal?: AbortSignalLike) => Promise<string>;
  /** The token to start with; without it the first getToken() calls tokenRefresher. */
  token?: string;
  /** Refresh in the background 10 minutes before expiry (default false: refresh when expired). */
  refreshProactively?: boolean;
}

/** Reads the `exp` claim of an ACS user token (a JWT). */
export function parseToken(token: string): AccessToken {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("The token is not a JWT.");
  let exp: unknown;
  try {
    exp = (JSON.parse(new TextDecoder().decode(fromBase64(payload))) as { exp?: unknown }).exp;
  } catch {
    throw new Error("The token's payload is not valid JSON.");
  }
  if (typeof exp !== "number") throw new Error("The token has no exp claim.");
  return { token, expiresOnTimestamp: exp * 1000 };
}

const EXPIRED: AccessToken = { token: "", expiresOnTimestamp: -10 };
const EXPIRING_SOON_MS = 10 * 60 * 1000;
const REFRESH_AFTER_LIFETIME_FRACTION = 0.5;
/** setTimeout's limit; a longer wait is done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Listener = (token: AccessToken) => void;

/**
 * A user access token credential: a static token, or a refresher with optional proactive refresh
 * (10 minutes before expiry, then at half of whatever lifetime is left), like the official one.
 */
export class AzureCommunicationTokenCredential implements CommunicationTokenCredential {
  private current: AccessToken;
  private readonly refresher: CommunicationTokenRefreshOptions["tokenRefresher"] | undefined;
  private readonly proactive: boolean;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fetching: Promise<string> | null = null;
  private updating: Promise<void> | null = null;
  private disposed = false;
  private readonly listeners = new Set<Listener>();

  constructor(token: string);
  constructor(refreshOptions: CommunicationTokenRefreshOptions);
  constructor(tokenOrOptions: string | CommunicationTokenRefreshOptions) {
    if (typeof tokenOrOptions === "string") {
      this.current = parseToken(tokenOrOptions);
      this.refresher = undefined;
      this.proactive = false;
      return;
    }
    if (!tokenOrOptions || typeof tokenOrOptions.tokenRefresher !== "function") {
      throw new TypeError("AzureCommunicationTokenCredential needs a token string or { tokenRefresher }.");
    }
    this.refresher = tokenOrOptions.tokenRefresher;
    this.current = tokenOrOptions.token ? parseToken(tokenOrOptions.token) : EXPIRED;
    this.proactive = tokenOrOptions.refreshProactively ?? false;
    if (this.proactive) this.schedule();
  }

  /** The current token; refreshed first when it has expired (and a refresher was given). */
  async getToken(options: CommunicationGetTokenOptions = {}): Promise<AccessToken> {
    this.throwIfDisposed();
    if (!this.refresher) return this.current;
    if (!this.expiringSoon(this.current)) return this.current;
    if (!this.valid(this.current)) await this.update(options.abortSignal);
    this.throwIfDisposed();
    return this.current;
  }

  dispose(): void {
    this.disposed = true;
    this.fetching = null;
    this.updating = null;
    this.current = EXPIRED;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  /**
   * Parley extension: called after each refresh with the new token (a ChatClient uses it to
   * re-authenticate its live event stream at once). Returns the unsubscribe function.
   */
  onTokenRefreshed(listener: (token: AccessToken) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private throwIfDisposed(): void {
    if (this.disposed) throw new Error("User Credential is already disposed.");
  }

  private async update(abortSignal?: AbortSignalLike): Promise<void> {
    if (this.updating) return this.updating;
    this.updating = (async () => {
      const fresh = await this.refresh(abortSignal);
      if (this.disposed) return;
      if (!this.valid(fresh)) throw new Error("The token returned from the tokenRefresher is expired.");
      this.current = fresh;
      if (this.proactive) this.schedule();
      for (const listener of [...this.listeners]) {
        try {
          listener(fresh);
        } catch {
          // a listener's failure is its own
        }
      }
    })();
    try {
      await this.updating;
    } finally {
      this.updating = null;
    }
  }

  private async refresh(abortSignal?: AbortSignalLike): Promise<AccessToken> {
    try {
      this.fetching ??= this.refresher!(abortSignal);
      return parseToken(await this.fetching);
    } finally {
      this.fetching = null;
    }
  }

  private schedule(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    const ttl = this.current.expiresOnTimestamp - Date.now();
    const wait = this.expiringSoon(this.current) ? ttl * REFRESH_AFTER_LIFETIME_FRACTION : ttl - EXPIRING_SOON_MS;
    const step = Math.max(0, Math.min(wait, MAX_TIMER_MS));
    this.timer = setTimeout(() => {
      if (step < wait) return this.schedule();
      this.update().catch(() => {
        // the next getToken() surfaces the refresher's error; retry in the background meanwhile
        if (!this.disposed && this.valid(this.current)) this.timer = setTimeout(() => this.schedule(), 5_000);
      });
    }, step);
    unrefTimer(this.timer);
  }

  private valid(token: AccessToken): boolean {
    return Date.now() < token.expiresOnTimestamp;
  }

  private expiringSoon(token: AccessToken): boolean {
    return Date.now() >= token.expiresOnTimestamp - EXPIRING_SOON_MS;
  }
}

/** Lets Node exit while only a refresh timer is pending (no-op in browsers). */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/** An access key (the `accesskey=` part of a connection string), as `@azure/core-auth` has it. */
export class AzureKeyCredential {
  private _key: string;
  constructor(key: string) {
    if (!key) throw new Error("key must be a non-empty string");
    this._key = key;
  }
  get key(): string {
    return this._key;
  }
  update(newKey: string): void {
    this._key = newKey;
  }
}

export interface KeyCredential {
  readonly key: string;
}
