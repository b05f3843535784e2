/** When to try a failed delivery again, and when to give up. */

export interface RetryPolicy {
  /** First retry after about this long; each further one doubles it… */
  retryBaseMs: number;
  /** …up to this. */
  retryMaxMs: number;
  /** Dead-letter after this many attempts… */
  maxAttempts: number;
  /** …or once an event is this old (Event Grid: 30 attempts, 24 hours). */
  eventTtlMs: number;
  /** A Retry-After longer than this is cut to it. */
  maxRetryAfterMs: number;
}

/**
 * Exponential back-off with "equal jitter": half the step is fixed, half random, so retries of many
 * events that failed together spread out instead of arriving at the receiver in one burst.
 * `attempts` is how many attempts have failed so far (1 after the first).
 */
export function backoffMs(policy: RetryPolicy, attempts: number, random: () => number): number {
  const step = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** Retry-After as delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Answers that retrying cannot fix (as Event Grid: 400 Bad Request, 413 Payload Too Large). */
export function isNonRetriable(status: number | undefined): boolean {
  return status === 400 || status === 413;
}
