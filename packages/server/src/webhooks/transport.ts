/** One HTTP request to a subscriber, with a deadline; never throws. */

export interface HttpAttempt {
  method: "POST" | "OPTIONS";
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  timeoutMs: number;
  /** Cancels the request early (shutdown). */
  signal?: AbortSignal;
}

export interface HttpResult {
  /** undefined when no answer came (connection refused, timeout, aborted). */
  status?: number;
  headers?: Headers;
  /** The start of the answer's body (at most 64 KiB; enough for a validation response). */
  text?: string;
  error?: string;
}

const MAX_BODY = 64 * 1024;

export async function httpAttempt(attempt: HttpAttempt): Promise<HttpResult> {
  const signals = [AbortSignal.timeout(attempt.timeoutMs), ...(attempt.signal ? [attempt.signal] : [])];
  try {
    const response = await fetch(attempt.url, {
      method: attempt.method,
      headers: attempt.headers,
      ...(attempt.body && { body: attempt.body }),
      // A redirect is an answer, not an instruction: a webhook URL is exact.
      redirect: "manual",
      signal: AbortSignal.any(signals),
    });
    const text = await readLimited(response);
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    return { error: describe(error, attempt.timeoutMs) };
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY).toString("utf8");
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  if (e?.name === "AbortError") return "aborted";
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message ?? "request failed"} (${cause})` : (e?.message ?? String(error));
}
