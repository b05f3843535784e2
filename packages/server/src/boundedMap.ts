/**
 * Sets `key` in an insertion-ordered Map that holds at most `max` entries: the key becomes the
 * newest, and past the bound the oldest entry goes. The caches and tables that must not grow
 * without limit (verified tokens, token states, member lists, Trouter marks and allocations) share it.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
