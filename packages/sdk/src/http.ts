/**
 * The HTTP layer every client shares: URL building, authentication (bearer token or HMAC), JSON,
 * error mapping to RestError, and safe retries.
 *
 * Retries (exponential back-off with jitter, `Retry-After` honoured) happen on 408, 429, 500, 502,
 * 503, 504 and on network failures — but only for requests that are safe to repeat: GET, PUT,
 * DELETE, PATCH (merge-patch is idempotent), and POSTs the caller marks idempotent (creating a
 * thread with its `repeatability-request-id`, removing a participant, revoking tokens, read
 * receipts, issuing a token). Any other POST (sending a message, adding participants, creating a
 * user) is retried only on 429, which the service answers *before* doing anything; a 5xx or a
 * dropped connection there surfaces as an error, because the write may already have happened.
 */
import { RestError, parseErrorBody } from "./errors.js";
import { createTlsFetch } from "#platform";
import type { AbortSignalLike, CommonClientOptions, FetchLike, OperationOptions, RetryOptions } from "./models.js";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestSpec {
  method: Method;
  /** A path relative to the endpoint (`chat/threads`, percent-encoded), or a nextLink (`/chat/…`). */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** A POST that may be repeated without effect (GET/PUT/PATCH/DELETE always are). */
  idempotent?: boolean;
  options?: OperationOptions;
}

export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export type Authenticate = (request: { method: Method; url: URL; headers: Headers; body: string }, signal?: AbortSignalLike) => Promise<void>;

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const DEFAULT_RETRY: Required<RetryOptions> = { maxRetries: 3, retryDelayInMs: 800, maxRetryDelayInMs: 64_000 };
export const SDK_USER_AGENT = "parley-sdk-js/0.1.0";

export class HttpClient {
  readonly endpoint: URL;
  private readonly fetch: FetchLike;
  private readonly retry: Required<RetryOptions>;
  private readonly userAgent: string;

  constructor(
    endpoint: string,
    private readonly authenticate: Authenticate,
    private readonly options: CommonClientOptions & { apiVersion: string },
  ) {
    this.endpoint = parseEndpoint(endpoint);
    const ca = options.tlsOptions?.ca;
    const custom = options.fetch;
    this.fetch = custom ?? (ca ? createTlsFetch(ca) : (input, init) => globalThis.fetch(input, init));
    this.retry = { ...DEFAULT_RETRY, ...definedOnly(options.retryOptions) };
    const prefix = options.userAgentOptions?.userAgentPrefix;
    this.userAgent = prefix ? `${prefix} ${SDK_USER_AGENT}` : SDK_USER_AGENT;
  }

  /** The absolute URL of a path or nextLink; refuses other origins (a token must never leave). */
  url(path: string, query?: RequestSpec["query"]): URL {
    const url = new URL(path, this.endpoint);
    if (url.origin !== this.endpoint.origin) throw new RangeError(`Refusing to send credentials to ${url.origin}: not the client's endpoint.`);
    if (!url.searchParams.has("api-version")) url.searchParams.set("api-version", this.options.apiVersion);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    // Normalize to URLSearchParams encoding, which is what the HMAC signs.
    url.search = url.searchParams.toString();
    return url;
  }

  async send<T = unknown>(spec: RequestSpec): Promise<HttpResult<T>> {
    const url = this.url(spec.path, spec.query);
    const body = spec.body === undefined ? "" : JSON.stringify(spec.body);
    const idempotent = spec.method !== "POST" || spec.idempotent === true;
    const userSignal = spec.options?.abortSignal;
    const timeout = spec.options?.requestOptions?.timeout ?? 0;

    for (let attempt = 0; ; attempt++) {
      throwIfAborted(userSignal, spec, url);
      const headers = new Headers(spec.options?.requestOptions?.customHeaders);
      headers.set("accept", "application/json");
      headers.set("x-ms-useragent", this.userAgent);
      for (const [key, value] of Object.entries(spec.headers ?? {})) headers.set(key, value);
      if (spec.body !== undefined) headers.set("content-type", spec.contentType ?? "application/json");
      await this.authenticate({ method: spec.method, url, headers, body }, userSignal);

      const attemptSignal = linkSignals(userSignal, timeout);
      let response: Response;
      try {
        response = await this.fetch(url.href, { method: spec.method, headers, ...(spec.body !== undefined && { body }), signal: attemptSignal.signal });
      } catch (error) {
        attemptSignal.done();
        throwIfAborted(userSignal, spec, url, error);
        const timedOut = attemptSignal.timedOut();
        if (idempotent && attempt < this.retry.maxRetries) {
          await sleep(this.backoff(attempt), userSignal);
          continue;
        }
        throw new RestError(timedOut ? `The request timed out after ${timeout} ms.` : `The request could not be sent: ${describe(error)}`, {
          code: RestError.REQUEST_SEND_ERROR,
          request: requestInfo(spec, url),
          cause: error,
        });
      }

      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        attemptSignal.done();
        throwIfAborted(userSignal, spec, url, error);
        if (idempotent && attempt < this.retry.maxRetries) {
          await sleep(this.backoff(attempt), userSignal);
          continue;
        }
        throw new RestError(`The response could not be read: ${describe(error)}`, { code: RestError.REQUEST_SEND_ERROR, request: requestInfo(spec, url), cause: error });
      }
      attemptSignal.done();

      if (response.ok) {
        if (text === "") return { status: response.status, headers: response.headers, body: undefined as T };
        try {
          return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
        } catch (error) {
          throw new RestError("The service answered with a body that is not JSON.", {
            code: RestError.PARSE_ERROR,
            statusCode: response.status,
            request: requestInfo(spec, url),
            response: { status: response.status, headers: response.headers, bodyAsText: text },
            cause: error,
          });
        }
      }

      const retryable = RETRY_STATUSES.has(response.status) && (idempotent || response.status === 429);
      if (retryable && attempt < this.retry.maxRetries) {
        const delay = retryAfterMs(response.headers) ?? this.backoff(attempt);
        await sleep(Math.min(delay, this.retry.maxRetryDelayInMs), userSignal);
        continue;
      }
      const details = parseErrorBody(text);
      throw new RestError(details?.message || `The service answered ${response.status} ${response.statusText}`.trim(), {
        statusCode: response.status,
        ...(details && { code: details.code, details }),
        request: requestInfo(spec, url),
        response: { status: response.status, headers: response.headers, bodyAsText: text },
      });
    }
  }

  /** Exponential back-off with jitter: a random delay in [d/2, d], d = min(max, base · 2^attempt). */
  private backoff(attempt: number): number {
    const capped = Math.min(this.retry.maxRetryDelayInMs, this.retry.retryDelayInMs * 2 ** attempt);
    return capped / 2 + Math.random() * (capped / 2);
  }
}

export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`Invalid endpoint: ${endpoint}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError(`The endpoint must be an http: or https: URL, not ${url.protocol}`);
  url.search = "";
  url.hash = "";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** `Retry-After` (seconds or an HTTP date), or the Azure `retry-after-ms` / `x-ms-retry-after-ms`. */
export function retryAfterMs(headers: Headers): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const value = Number(headers.get(name));
    if (headers.has(name) && Number.isFinite(value) && value >= 0) return value;
  }
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (value.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function requestInfo(spec: RequestSpec, url: URL) {
  return { method: spec.method, url: `${url.origin}${url.pathname}` };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  if (!cause?.code) return error.message;
  const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause.code)
    ? "; trust Parley's CA (<data-dir>/tls/ca.crt) with NODE_EXTRA_CA_CERTS or the tlsOptions.ca option, or use its http:// endpoint locally"
    : "";
  return `${error.message} (${cause.code}${cause.message ? `: ${cause.message}` : ""})${hint}`;
}

function throwIfAborted(signal: AbortSignalLike | undefined, spec: RequestSpec, url: URL, cause?: unknown): void {
  if (signal?.aborted) {
    throw new RestError("The operation was aborted.", { code: RestError.REQUEST_ABORTED_ERROR, request: requestInfo(spec, url), cause: cause ?? signal.reason });
  }
}

/** An AbortSignal for one attempt: follows the caller's signal, and fires after `timeout` ms. */
function linkSignals(user: AbortSignalLike | undefined, timeout: number) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(user?.reason);
  user?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeout > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new DOMException(`timed out after ${timeout} ms`, "TimeoutError"));
        }, timeout)
      : undefined;
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      user?.removeEventListener("abort", onAbort);
    },
  };
}

export function sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RestError("The operation was aborted.", { code: RestError.REQUEST_ABORTED_ERROR, cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RestError("The operation was aborted.", { code: RestError.REQUEST_ABORTED_ERROR, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
