// herd's local certificate authority (as Caddy's local CA and mkcert keep theirs): one CA per user
// under $XDG_DATA_HOME/herd (or ~/.local/share/herd), its key readable by the user only, and
// certificates for the ingress's hosts issued on demand and kept in memory. `herd tls ca` prints
// the CA certificate so a browser or curl can trust it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { HerdError } from '../../util/errors.ts';

const CA_YEARS = 10;
/** Browsers refuse leaf certificates valid longer than 398 days. */
const LEAF_DAYS = 397;

export function caDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'herd', 'ca');
}

export interface IssuedCert {
  cert: string;
  key: string;
}

export class LocalCA {
  private readonly leaves = new Map<string, IssuedCert>();
  private leafKey?: { pem: string; forge: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey };

  private constructor(
    readonly certPem: string,
    private readonly cert: forge.pki.Certificate,
    private readonly key: forge.pki.rsa.PrivateKey,
  ) {}

  /** The user's CA, made on first use. */
  static open(dir = caDir()): LocalCA {
    ensurePrivateDir(dir);
    const certFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'ca.key');
    let certPem: string;
    let keyPem: string;
    try {
      keyPem = readFileSync(keyFile, 'utf8');
      certPem = readFileSync(certFile, 'utf8');
    } catch {
      ({ certPem, keyPem } = makeCA());
      // The key first, exclusively: of two processes creating the CA at once, one wins.
      try {
        writeFileSync(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
        writeFileSync(certFile, certPem, { mode: 0o644 });
      } catch {
        keyPem = readFileSync(keyFile, 'utf8');
        certPem = readFileSync(certFile, 'utf8');
      }
    }
    const st = lstatSync(keyFile);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || st.uid !== process.getuid?.())
      throw new HerdError(
        `${keyFile} must be a file of yours that only you can read (mode 0600); fix it or remove ${dir} to make a new CA`,
        'STATE',
      );
    return new LocalCA(
      certPem,
      forge.pki.certificateFromPem(certPem),
      forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
    );
  }

  /** A certificate for `host`, issued once per process. */
  issue(host: string): IssuedCert {
    const known = this.leaves.get(host);
    if (known) return known;
    const key = this.sharedLeafKey();
    const cert = forge.pki.createCertificate();
    cert.publicKey = key.pub;
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + LEAF_DAYS * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: host }]);
    cert.setIssuer(this.cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
    ]);
    cert.sign(this.key, forge.md.sha256.create());
    const issued = { cert: pem(cert) + this.certPem, key: key.pem };
    this.leaves.set(host, issued);
    return issued;
  }

  /** One key for every leaf of this process: signing is cheap, RSA key generation is not. */
  private sharedLeafKey() {
    if (!this.leafKey) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
      this.leafKey = { pem, forge: priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
    }
    return this.leafKey;
  }
}

function makeCA(): { certPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(priv.n, priv.e);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + CA_YEARS * 365 * 86_400_000);
  const subject = [
    { name: 'commonName', value: `herd local CA (${userInfo().username}@${hostname()})` },
    { name: 'organizationName', value: 'herd local development CA' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(priv, forge.md.sha256.create());
  return { certPem: pem(cert), keyPem };
}

/** PEM with Unix line ends (forge writes CRLF, which tools reading the first line trip over). */
function pem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** A positive random serial number, as hex. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.())
    throw new HerdError(
      `${dir} is not a directory of yours; remove it so herd can make its CA there`,
      'STATE',
    );
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
