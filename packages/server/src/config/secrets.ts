/**
 * Per-installation secrets, generated once and kept in `<data-dir>/secrets.json` (mode 0600):
 * the connection string's access key (64 random bytes, like ACS), the token signing key and the
 * resource id that appears in every user id.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface Secrets {
  /** base64 of 64 random bytes. */
  accessKey: string;
  tokenSecret: Uint8Array;
  resourceId: string;
}

interface SecretsFile {
  accessKey: string;
  tokenSecret: string;
  resourceId: string;
}

export function generateSecrets(): Secrets {
  return { accessKey: randomBytes(64).toString("base64"), tokenSecret: randomBytes(32), resourceId: randomUUID() };
}

export function loadOrCreateSecrets(dataDir: string): Secrets {
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as SecretsFile;
    return { accessKey: saved.accessKey, tokenSecret: Buffer.from(saved.tokenSecret, "base64"), resourceId: saved.resourceId };
  }
  const secrets = generateSecrets();
  const saved: SecretsFile = {
    accessKey: secrets.accessKey,
    tokenSecret: Buffer.from(secrets.tokenSecret).toString("base64"),
    resourceId: secrets.resourceId,
  };
  writeFileSync(file, JSON.stringify(saved, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  return secrets;
}
