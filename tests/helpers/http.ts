/** Raw HTTP(S) requests for the tests that check what the SDKs hide (status codes, headers). */
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { signRequest } from "@parley/server";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: options.method ?? "GET", headers: options.headers ?? {}, ...(options.ca && { ca: options.ca }), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A request signed with the access key exactly as the official identity SDKs sign. */
export function signedRequest(
  url: string,
  accessKey: string,
  options: { method?: string; body?: string; ca?: string; date?: Date; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const method = options.method ?? "POST";
  const signed = signRequest({ accessKeyBase64: accessKey, method, url: new URL(url), ...(options.body !== undefined && { body: options.body }), ...(options.date && { date: options.date }) });
  return rawRequest(url, {
    method,
    headers: { "content-type": "application/json", ...signed, ...options.headers },
    ...(options.body !== undefined && { body: options.body }),
    ...(options.ca && { ca: options.ca }),
  });
}
