/**
 * Errors, shaped like `RestError` from `@azure/core-rest-pipeline` (what the official SDKs throw):
 * `statusCode` is the HTTP status, `code` the service's error code (`"NotFound"`, `"Forbidden"`,
 * `"TokenExpired"`, …) from the ACS error body, `message` the service's message.
 */

/** One entry of an ACS error body (`{"error":{"code","message","target","details","innererror"}}`). */
export interface ChatError {
  code: string;
  message: string;
  readonly target?: string;
  readonly details?: ChatError[];
  readonly innerError?: ChatError;
}

export interface RestErrorResponse {
  status: number;
  headers: Headers;
  bodyAsText: string;
}

export interface RestErrorRequest {
  method: string;
  /** The URL without its query string (which may carry continuation tokens). */
  url: string;
}

export interface RestErrorOptions {
  code?: string;
  statusCode?: number;
  request?: RestErrorRequest;
  response?: RestErrorResponse;
  details?: ChatError;
  cause?: unknown;
}

export class RestError extends Error {
  /** `code` of a request that never got an answer (network failure, DNS, TLS, refused connection). */
  static readonly REQUEST_SEND_ERROR = "REQUEST_SEND_ERROR";
  /** `code` of a request abandoned by its abortSignal or its timeout. */
  static readonly REQUEST_ABORTED_ERROR = "REQUEST_ABORTED_ERROR";
  /** `code` of a 2xx answer the SDK could not read. */
  static readonly PARSE_ERROR = "PARSE_ERROR";

  override readonly name = "RestError";
  /** The service's error code (from the error body), or one of the static codes above. */
  code?: string;
  /** The HTTP status, when the service answered. */
  statusCode?: number;
  request?: RestErrorRequest;
  response?: RestErrorResponse;
  /** The whole error object the service sent. */
  details?: ChatError;

  constructor(message: string, options: RestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options.request !== undefined) this.request = options.request;
    if (options.response !== undefined) this.response = options.response;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** True for errors thrown by this SDK's HTTP layer (works across bundle copies, by name). */
export function isRestError(error: unknown): error is RestError {
  return error instanceof RestError || (error instanceof Error && error.name === "RestError");
}

/** @internal Reads the ACS error body, tolerating anything. */
export function parseErrorBody(text: string): ChatError | undefined {
  try {
    const json = JSON.parse(text) as { error?: Record<string, unknown> };
    const e = json?.error;
    if (!e || typeof e !== "object" || typeof e.code !== "string") return undefined;
    return toChatError(e);
  } catch {
    return undefined;
  }
}

/** @internal */
export function toChatError(e: Record<string, unknown>): ChatError {
  const inner = (e.innererror ?? e.innerError) as Record<string, unknown> | undefined;
  return {
    code: String(e.code ?? ""),
    message: String(e.message ?? ""),
    ...(typeof e.target === "string" && { target: e.target }),
    ...(Array.isArray(e.details) && { details: (e.details as Record<string, unknown>[]).map(toChatError) }),
    ...(inner && typeof inner === "object" && { innerError: toChatError(inner) }),
  };
}
