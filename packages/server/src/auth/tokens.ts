/**
 * ACS-shaped user access tokens: HS256 JWTs signed and verified with `jose`.
 *
 * Both official SDKs decode the payload themselves and Python's decoder is fragile: it uses the
 * standard base64 alphabet, so any `-` or `_` in the base64url payload garbles it, and it only takes
 * ASCII. Every claim here is ASCII, and a nonce is varied until the encoded payload has neither
 * character; `assertPythonParsable` re-checks the finished token.
 */
import { webcrypto } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { setBounded } from "../boundedMap.js";

export interface TokenClaims {
  /** Raw user id, `8:acs:...`. */
  userId: string;
  scopes: string[];
  /** The user's token epoch when issued; a revoke bumps the stored one. */
  epoch: number;
  /** Epoch seconds. */
  expiresAt: number;
  issuedAt: number;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: "malformed" | "signature" | "expired" };

const ALG = "HS256";
const MAX_NONCE_TRIES = 64;
/** Distinct tokens remembered as verified; a client reuses one token for hours. */
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenService {
  /**
   * Imported once: given raw bytes, jose imports a WebCrypto key on every call, which was half the
   * cost of a verify (measured 63 → 31 µs of CPU per verify), and every request verifies one.
   */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /**
   * Tokens whose signature already verified, keyed by the whole token (signature included, so only
   * that exact token hits). A WebCrypto HMAC verify is a thread-pool job costing ~50–100 µs of CPU
   * and queueing behind the WAL flushes; a hit is a Map lookup. Expiry is still checked on every
   * use; revocation is checked by the caller against the stored token epoch, never cached here.
   */
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    secret: Uint8Array,
    private readonly options: { resourceId: string; clock: () => number },
  ) {
    this.key = webcrypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  }

  async issue(input: { userId: string; scopes: string[]; epoch: number; expiresInMinutes: number }): Promise<{ token: string; expiresOn: Date }> {
    const now = Math.floor(this.options.clock() / 1000);
    const exp = now + input.expiresInMinutes * 60;
    const base = {
      skypeid: input.userId.replace(/^8:/, ""),
      scp: 1792,
      csi: String(now),
      exp,
      rgn: "parley",
      acsScope: input.scopes.join(","),
      resourceId: this.options.resourceId,
      resourceLocation: "parley",
      iat: now,
      rev: input.epoch,
    };
    for (let attempt = 0; attempt < MAX_NONCE_TRIES; attempt++) {
      const payload = { ...base, nce: attempt.toString(16) };
      // jose encodes JSON.stringify(payload) as the second segment; test it before signing.
      if (!isPythonSafeSegment(Buffer.from(JSON.stringify(payload)).toString("base64url"))) continue;
      const token = await new SignJWT(payload).setProtectedHeader({ alg: ALG, typ: "JWT" }).sign(await this.key);
      assertPythonParsable(token);
      return { token, expiresOn: new Date(exp * 1000) };
    }
    throw new Error("could not encode a token payload without '-' or '_'");
  }

  async verify(token: string): Promise<TokenCheck> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule, to the second: a token is expired once `exp` is not after now.
      if (known.expiresAt > Math.floor(this.options.clock() / 1000)) return { ok: true, claims: known };
      this.verified.delete(token);
      return { ok: false, reason: "expired" };
    }
    const check = await this.verifySignature(token);
    if (check.ok) this.remember(token, check.claims);
    return check;
  }

  private remember(token: string, claims: TokenClaims): void {
    setBounded(this.verified, token, claims, VERIFIED_CACHE_SIZE);
  }

  private async verifySignature(token: string): Promise<TokenCheck> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: [ALG],
        currentDate: new Date(this.options.clock()),
        requiredClaims: ["exp", "skypeid"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: "expired" };
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: "signature" };
      return { ok: false, reason: "malformed" };
    }
    const { skypeid, acsScope, rev, exp, iat } = payload as Record<string, unknown>;
    if (typeof skypeid !== "string" || typeof exp !== "number" || typeof rev !== "number") return { ok: false, reason: "malformed" };
    return {
      ok: true,
      claims: {
        userId: `8:${skypeid}`,
        scopes: typeof acsScope === "string" && acsScope.length > 0 ? acsScope.split(",") : [],
        epoch: rev,
        expiresAt: exp,
        issuedAt: typeof iat === "number" ? iat : 0,
      },
    };
  }
}

function isPythonSafeSegment(segment: string): boolean {
  return !segment.includes("-") && !segment.includes("_");
}

/** Throws unless the Python SDK's parser (standard base64, ASCII, numeric exp) reads the token. */
export function assertPythonParsable(token: string): void {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("token must have three segments");
  if (!isPythonSafeSegment(parts[1]!)) throw new Error("token payload contains '-' or '_' when encoded");
  const text = Buffer.from(parts[1]!, "base64").toString("latin1");
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error("token payload is not printable ASCII");
  if (typeof JSON.parse(text).exp !== "number") throw new Error("token payload lacks a numeric exp");
}
