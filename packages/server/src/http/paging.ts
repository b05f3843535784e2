/**
 * List paging. A nextLink is requested verbatim by the SDKs (nothing added, not even api-version),
 * so it carries everything: the path as the client sent it, the api-version, and an opaque
 * `continuationToken` holding the keyset cursor, filters and page size.
 */
import { LIMITS } from "@parley/protocol";
import { invalidParameter, type DomainError } from "../domain/errors.js";

export type Query = Record<string, string | undefined>;

export interface PageState {
  /** Keyset cursor: list items strictly below this (sequenceId or thread order). */
  before?: number;
  /** Offset, for participants and read receipts (the ACS `skip`). */
  skip?: number;
  startTime?: number;
  size: number;
}

export function readPageState(query: Query, options: { skip?: boolean; startTime?: boolean }): PageState | DomainError {
  const token = query.continuationToken;
  if (token !== undefined) {
    const state = decodeToken(token);
    if (!state) return invalidParameter("continuationToken is not valid.", "continuationToken");
    return state;
  }
  const size = readInt(query, "maxPageSize", LIMITS.defaultPageSize, 1, LIMITS.maxPageSize);
  if (typeof size !== "number") return size;
  const state: PageState = { size };
  if (options.skip) {
    const skip = readInt(query, "skip", 0, 0, Number.MAX_SAFE_INTEGER);
    if (typeof skip !== "number") return skip;
    state.skip = skip;
  }
  if (options.startTime && query.startTime !== undefined) {
    const startTime = Date.parse(query.startTime);
    if (Number.isNaN(startTime)) return invalidParameter("startTime must be an ISO-8601 date-time.", "startTime");
    state.startTime = startTime;
  }
  return state;
}

/** The nextLink for the page after this one, or undefined when this page was the last. */
export function nextLink(rawUrl: string, apiVersion: string, next: PageState | undefined): string | undefined {
  if (!next) return undefined;
  const path = rawUrl.split("?", 1)[0]!;
  return `${path}?api-version=${encodeURIComponent(apiVersion)}&continuationToken=${encodeToken(next)}`;
}

function encodeToken(state: PageState): string {
  return Buffer.from(JSON.stringify({ v: 1, ...state })).toString("base64url");
}

function decodeToken(token: string): PageState | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Record<string, unknown>;
    if (raw.v !== 1 || !isCount(raw.size) || raw.size < 1 || raw.size > LIMITS.maxPageSize) return undefined;
    for (const key of ["before", "skip"] as const) if (raw[key] !== undefined && !isCount(raw[key])) return undefined;
    if (raw.startTime !== undefined && !Number.isFinite(raw.startTime)) return undefined;
    return {
      size: raw.size,
      ...(raw.before !== undefined && { before: raw.before as number }),
      ...(raw.skip !== undefined && { skip: raw.skip as number }),
      ...(raw.startTime !== undefined && { startTime: raw.startTime as number }),
    };
  } catch {
    return undefined;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function readInt(query: Query, key: string, fallback: number, min: number, max: number): number | DomainError {
  const text = query[key];
  if (text === undefined || text === "") return fallback;
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return invalidParameter(`${key} must be a whole number from ${min} to ${max}.`, key);
  }
  return value;
}

/**
 * Builds a page from rows fetched with limit `size + 1`: the extra row only says whether another
 * page exists, so the last page never points at an empty one.
 */
export function keysetPage<T, W>(
  rows: T[],
  state: PageState,
  cursorOf: (row: T) => number,
  render: (row: T) => W,
  link: { rawUrl: string; apiVersion: string },
): { value: W[]; nextLink?: string } {
  const page = rows.slice(0, state.size);
  const more = rows.length > state.size && page.length > 0;
  const next = nextLink(link.rawUrl, link.apiVersion, more ? { ...state, before: cursorOf(page.at(-1)!) } : undefined);
  return { value: page.map(render), ...(next !== undefined && { nextLink: next }) };
}

export function offsetPage<T, W>(
  rows: T[],
  state: PageState,
  render: (row: T) => W,
  link: { rawUrl: string; apiVersion: string },
): { value: W[]; nextLink?: string } {
  const page = rows.slice(0, state.size);
  const more = rows.length > state.size;
  const next = nextLink(link.rawUrl, link.apiVersion, more ? { ...state, skip: (state.skip ?? 0) + state.size } : undefined);
  return { value: page.map(render), ...(next !== undefined && { nextLink: next }) };
}
