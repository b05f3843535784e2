/**
 * Milliseconds since the epoch as the wire's ISO 8601 text (`2026-12-07T16:02:40.123Z`), exactly what
 * `Date.prototype.toISOString` gives. The timestamps of chat responses, real-time events and webhooks
 * go through here, and a page of 50 messages carries at least 50: `toISOString` costs ~0.65 µs a call
 * on our machine, this ~0.02 µs, because timestamps that share a second (most of them, on a page
 * or in a burst of events) reuse the formatted second and only append the milliseconds.
 */
let cachedSecond = Number.NaN;
let cachedPrefix = "";

/** Up to here the year has four digits and the prefix is always `YYYY-MM-DDTHH:MM:SS.` */
const FOUR_DIGIT_YEARS = Date.UTC(10_000, 0, 1);

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= FOUR_DIGIT_YEARS) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}
