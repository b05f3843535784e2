import assert from "node:assert/strict";

/** Awaits a rejection from an official SDK call and checks its HTTP status (RestError.statusCode). */
export async function rejectsWith(promise: Promise<unknown>, status: number, code?: string): Promise<Error & { statusCode?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { statusCode?: number; code?: string };
    assert.equal(e.statusCode, status, `expected HTTP ${status}, got ${e.statusCode}: ${e.message}`);
    if (code !== undefined) assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected a rejection with HTTP ${status}, but the call succeeded`);
}

/** Collects an async iterable. */
export async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
