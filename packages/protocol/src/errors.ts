/** `CommunicationErrorResponse`: the one error body every Parley answer uses. */
export interface CommunicationError {
  code: string;
  message: string;
  target?: string;
  details?: CommunicationError[];
  innererror?: CommunicationError;
}

export interface CommunicationErrorResponse {
  error: CommunicationError;
}

/** Error codes Parley emits, with the HTTP status each maps to. */
export const ERROR_STATUS = {
  BadRequest: 400,
  InvalidRequestBody: 400,
  InvalidParameter: 400,
  MessageSizeExceeded: 400,
  MetadataSizeExceeded: 400,
  ParticipantLimitExceeded: 400,
  Unauthorized: 401,
  InvalidAuthentication: 401,
  TokenExpired: 401,
  TokenRevoked: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
