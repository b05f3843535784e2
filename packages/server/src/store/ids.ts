/**
 * Message ids and versions, shared by every driver so they all number alike.
 *
 * ACS message ids are epoch-millisecond strings. Parley keeps that look and makes them strictly
 * increasing within a thread, even if the clock stalls or steps back.
 */
export function nextMessageId(previous: string | undefined, now: number): string {
  const prev = previous === undefined ? 0 : Number(previous);
  return String(Math.max(now, prev + 1));
}

/** A message's creation time never goes back within a thread, so time and sequence agree. */
export function nextMessageTime(previousAt: number | undefined, now: number): number {
  return previousAt === undefined ? now : Math.max(now, previousAt);
}
