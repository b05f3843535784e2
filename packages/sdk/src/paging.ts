/**
 * Paged lists, as `@azure/core-paging`'s PagedAsyncIterableIterator: iterate items, or `byPage()`
 * for arrays. Unlike the official SDK each page carries its `continuationToken` (the service's
 * nextLink), so an app can store it and resume with `byPage({ continuationToken })` later.
 */
import type { Page, PageSettings, PagedAsyncIterableIterator } from "./models.js";

export interface RawPage<T> {
  items: T[];
  nextLink?: string;
}

/** `fetchPage(undefined, size)` reads the first page; `fetchPage(token)` the page a token names. */
export type PageFetcher<T> = (continuationToken: string | undefined, maxPageSize: number | undefined) => Promise<RawPage<T>>;

export function pagedIterator<T>(fetchPage: PageFetcher<T>, defaultMaxPageSize?: number): PagedAsyncIterableIterator<T> {
  async function* pages(settings: PageSettings = {}): AsyncIterableIterator<Page<T>> {
    let token = settings.continuationToken;
    let first = true;
    do {
      const raw = await fetchPage(token, token === undefined && first ? (settings.maxPageSize ?? defaultMaxPageSize) : undefined);
      first = false;
      token = raw.nextLink;
      const page = raw.items as Page<T>;
      // Not enumerable: a page still equals (deepEqual, spread, JSON) the plain array it holds.
      if (token !== undefined) Object.defineProperty(page, "continuationToken", { value: token, enumerable: false, configurable: true, writable: true });
      yield page;
    } while (token !== undefined);
  }

  async function* items(): AsyncIterableIterator<T> {
    for await (const page of pages()) yield* page;
  }

  const iterator = items();
  const paged: PagedAsyncIterableIterator<T> = {
    next: () => iterator.next(),
    [Symbol.asyncIterator]: () => paged,
    byPage: (settings?: PageSettings) => pages(settings),
  };
  return paged;
}

/** Rejects a continuation token that belongs to another list (e.g. another thread's messages). */
export function checkToken(token: string | undefined, listPath: string): string | undefined {
  if (token === undefined) return undefined;
  const path = token.split("?", 1)[0] ?? "";
  if (!path.endsWith(`/${listPath}`)) throw new RangeError("This continuationToken belongs to a different list.");
  return token;
}
