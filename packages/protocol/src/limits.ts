/** The limits ACS documents, which Parley enforces with 400s (see docs/compatibility.md). */
export const LIMITS = {
  participantsPerThread: 250,
  participantsPerBatch: 200,
  /** ACS rejects messages around 28 KB ("Message size exceeded"); counted in UTF-8 bytes of content. */
  messageContentBytes: 28 * 1024,
  /** Thread, message and participant metadata: at most 1 KB of keys plus values (UTF-8 bytes). */
  metadataBytes: 1024,
  maxPageSize: 200,
  defaultPageSize: 100,
  topicChars: 1024,
  displayNameChars: 256,
  tokenMinutesMin: 60,
  tokenMinutesMax: 1440,
  tokenMinutesDefault: 1440,
  retentionDaysMin: 30,
  retentionDaysMax: 90,
  /** Whole request bodies larger than this are refused with 413 before they are parsed. */
  requestBodyBytes: 256 * 1024,
} as const;
