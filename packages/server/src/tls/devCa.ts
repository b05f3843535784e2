/**
 * A local development CA, made once per data dir, and a server certificate it signs for the hosts
 * Parley answers on (localhost, 127.0.0.1, ::1 and any extra names). Users trust the CA once
 * (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE) and keep trusting it across restarts; the server
 * certificate is re-issued whenever it nears expiry or the host list changes.
 *
 * Extensions follow what strict verifiers (Python 3.13's VERIFY_X509_STRICT, browsers) require:
 * critical basicConstraints and keyUsage on the CA, subject/authority key ids, SANs and serverAuth.
 */
import { createPrivateKey, generateKeyPair, randomBytes, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import forge from "node-forge";

export interface DevTls {
  caCertPath: string;
  /** The system's trusted CAs plus the dev CA: for REQUESTS_CA_BUNDLE, which replaces the system list. */
  caBundlePath: string;
  cert: string;
  key: string;
}

const DAY = 24 * 60 * 60 * 1000;
const CA_LIFETIME_DAYS = 3650;
const LEAF_LIFETIME_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;

export async function ensureDevTls(dataDir: string, options: { hosts?: string[]; now?: () => number } = {}): Promise<DevTls> {
  const now = options.now ?? Date.now;
  const dir = path.join(dataDir, "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caCert: path.join(dir, "ca.crt"),
    caKey: path.join(dir, "ca.key"),
    cert: path.join(dir, "server.crt"),
    key: path.join(dir, "server.key"),
  };
  const hosts = [...new Set(["localhost", "127.0.0.1", "::1", ...(options.hosts ?? [])])].sort();

  const needCa = !existsSync(files.caCert) || !existsSync(files.caKey);
  const needLeaf = needCa || !leafIsUsable(files.cert, files.key, hosts, now());
  // The two keys are generated at once, on the thread pool (~200 ms each, one per core).
  const [caKeys, leafKeys] = await Promise.all([needCa ? newKeyPair() : undefined, needLeaf ? newKeyPair() : undefined]);
  if (caKeys) {
    const ca = makeCa(caKeys, now());
    writeFileSync(files.caKey, ca.key, { mode: 0o600 });
    writeFileSync(files.caCert, ca.cert);
  }
  const caCert = forge.pki.certificateFromPem(readFileSync(files.caCert, "utf8"));
  const caKey = createPrivateKey(readFileSync(files.caKey, "utf8"));

  if (leafKeys) {
    const leaf = makeLeaf(leafKeys, caCert, caKey, hosts, now());
    writeFileSync(files.key, leaf.key, { mode: 0o600 });
    writeFileSync(files.cert, leaf.cert);
  }
  const caBundlePath = path.join(dir, "ca-bundle.pem");
  const system = SYSTEM_BUNDLES.find((f) => existsSync(f));
  writeFileSync(caBundlePath, (system ? readFileSync(system, "utf8").trimEnd() + "\n" : "") + readFileSync(files.caCert, "utf8"));
  return {
    caCertPath: path.resolve(files.caCert),
    caBundlePath: path.resolve(caBundlePath),
    cert: readFileSync(files.cert, "utf8"),
    key: readFileSync(files.key, "utf8"),
  };
}

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

interface KeyPair {
  nodeKey: KeyObject;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
}

const generateRsa = promisify(generateKeyPair);

async function newKeyPair(): Promise<KeyPair> {
  // Node's native generator: forge's pure-JS RSA key generation takes seconds.
  const { privateKey } = await generateRsa("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { nodeKey: privateKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

/**
 * What forge's `cert.sign(key, sha256)` does (sha256WithRSAEncryption over the DER of the
 * to-be-signed part, PKCS#1 v1.5), with Node's native RSA: forge's pure-JS RSA took ~60 ms per
 * certificate, every fresh data dir signs two, and every test server makes one.
 */
function signWithNode(cert: forge.pki.Certificate, key: KeyObject): void {
  const withSigInfo = cert as forge.pki.Certificate & { siginfo: { algorithmOid: string }; tbsCertificate: forge.asn1.Asn1 };
  withSigInfo.signatureOid = withSigInfo.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // Public in forge (x509.js) though its type declarations omit it.
  const tbsOf = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;
  withSigInfo.tbsCertificate = tbsOf(cert);
  const tbs = Buffer.from(forge.asn1.toDer(withSigInfo.tbsCertificate).getBytes(), "binary");
  withSigInfo.signature = sign("sha256", tbs, key).toString("binary");
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString("hex");
}

function makeCa(keys: KeyPair, now: number): { cert: string; key: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - DAY);
  cert.validity.notAfter = new Date(now + CA_LIFETIME_DAYS * DAY);
  const subject = [
    { name: "commonName", value: `Parley local development CA ${randomBytes(4).toString("hex")}` },
    { name: "organizationName", value: "Parley (local development)" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: true },
  ]);
  signWithNode(cert, keys.nodeKey);
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

function makeLeaf(keys: KeyPair, caCert: forge.pki.Certificate, caKey: KeyObject, hosts: string[], now: number): { cert: string; key: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - DAY);
  cert.validity.notAfter = new Date(now + LEAF_LIFETIME_DAYS * DAY);
  cert.setSubject([{ name: "commonName", value: hosts.includes("localhost") ? "localhost" : hosts[0]! }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caKeyId(caCert) },
  ]);
  signWithNode(cert, caKey);
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

function caKeyId(caCert: forge.pki.Certificate): string {
  const ski = caCert.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | null;
  if (ski?.subjectKeyIdentifier) return forge.util.hexToBytes(ski.subjectKeyIdentifier);
  return forge.pki.getPublicKeyFingerprint(caCert.publicKey as forge.pki.rsa.PublicKey, { type: "SubjectPublicKeyInfo" }).getBytes();
}

function leafIsUsable(certPath: string, keyPath: string, hosts: string[], now: number): boolean {
  if (!existsSync(certPath) || !existsSync(keyPath)) return false;
  try {
    const cert = forge.pki.certificateFromPem(readFileSync(certPath, "utf8"));
    if (cert.validity.notAfter.getTime() - now < RENEW_BEFORE_DAYS * DAY) return false;
    const san = cert.getExtension("subjectAltName") as { altNames?: Array<{ value?: string; ip?: string }> } | null;
    const names = (san?.altNames ?? []).map((n) => n.ip ?? n.value ?? "");
    return hosts.every((h) => names.includes(h));
  } catch {
    return false;
  }
}
