// The rules for the top-level `x-herd.ingress` (kept raw in the model): one shared HTTP and HTTPS
// entry that routes by host and path. Addresses are written as in `ports` (a bare port binds every
// interface, as Compose binds a published port). Certificates are read and matched to their keys
// here, so a wrong pair is an error when the file is loaded, not at the first TLS handshake.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { resolve } from 'node:path';
import { HerdError } from '../util/errors.ts';
import { unknownKeyMessage } from './check.ts';
import { mapping, show, type Checked, type SettingProblem } from './herd-settings.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';
import { FileTooLargeError, readTextBounded } from './read-bounded.ts';
import { parseDuration } from './units.ts';

export const INGRESS_KEYS = ['http', 'https', 'tls', 'redirect_https', 'hsts'];
const MAX_PEM_BYTES = 1024 * 1024;

/** A certificate (chain) and its key, read. */
export interface TlsPair {
  certFile: string;
  cert: string;
  key: string;
  /** The names it serves (subjectAltName DNS entries, else its CN), lower case. */
  names: string[];
}

export interface IngressSettings {
  http?: ListenAddress;
  https?: ListenAddress;
  /** `internal`: certificates from herd's local CA; else the user's own, chosen by SNI. */
  tls?: 'internal' | TlsPair[];
  redirectHttps: boolean;
  /** Strict-Transport-Security max-age, when asked for. */
  hstsSeconds?: number;
}

/** Checks the raw `x-herd.ingress`; `projectDir` resolves relative certificate paths. */
export function checkIngress(raw: unknown, projectDir: string): Checked<IngressSettings> {
  const out: Checked<IngressSettings> = { value: { redirectHttps: false }, problems: [] };
  const example =
    'a mapping such as { http: "127.0.0.1:80", https: "127.0.0.1:443", tls: internal }';
  const map = mapping(raw, example, out.problems);
  if (!map) return out;
  const problem = (key: string, message: string) => out.problems.push({ key, message });
  for (const key of Object.keys(map))
    if (!INGRESS_KEYS.includes(key))
      out.problems.push({ key, unknownKey: true, message: unknownKeyMessage(key, INGRESS_KEYS) });
  for (const key of ['http', 'https'] as const) {
    if (map[key] === undefined) continue;
    const addr = parseListenAddress(map[key], '0.0.0.0');
    if (typeof addr === 'string') problem(key, addr);
    else out.value[key] = addr;
  }
  if (!out.value.http && !out.value.https)
    out.problems.push({ message: `expected an "http" or "https" address, got ${show(raw)}` });
  if (map.tls !== undefined) readTls(map.tls, projectDir, out);
  if (out.value.https && !out.value.tls && map.tls === undefined)
    problem('https', 'an https address needs `tls: internal` or `tls: { cert: FILE, key: FILE }`');
  if (map.redirect_https !== undefined) {
    if (typeof map.redirect_https === 'boolean') out.value.redirectHttps = map.redirect_https;
    else problem('redirect_https', `expected true or false, got ${show(map.redirect_https)}`);
  }
  if (map.hsts !== undefined) readHsts(map.hsts, out.value, (m) => problem('hsts', m));
  return out;
}

function readTls(raw: unknown, projectDir: string, out: Checked<IngressSettings>): void {
  if (raw === 'internal') {
    out.value.tls = 'internal';
    return;
  }
  const items = Array.isArray(raw) ? raw : [raw];
  const pairs: TlsPair[] = [];
  for (const item of items) {
    const pair = readPair(item, projectDir);
    if (typeof pair === 'string') out.problems.push({ key: 'tls', message: pair });
    else pairs.push(pair);
  }
  if (pairs.length > 0 && pairs.length === items.length) out.value.tls = pairs;
}

function readPair(item: unknown, projectDir: string): TlsPair | string {
  const m = item as Record<string, unknown> | null;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.cert !== 'string' ||
    typeof m.key !== 'string'
  )
    return `expected "internal" or { cert: FILE, key: FILE } (or a list of them), got ${show(item)}`;
  const certFile = resolve(projectDir, m.cert);
  const keyFile = resolve(projectDir, m.key);
  const cert = readPem(certFile);
  if (typeof cert !== 'string') return cert.problem;
  const key = readPem(keyFile);
  if (typeof key !== 'string') return key.problem;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      return `the key ${keyFile} does not belong to the certificate ${certFile}`;
    return { certFile, cert, key, names: namesOf(x509) };
  } catch (err) {
    return `cannot read ${certFile} / ${keyFile} as a PEM certificate and key: ${(err as Error).message}`;
  }
}

/** A PEM file's text, or what is wrong with it (missing, unreadable, far too large). */
function readPem(file: string): string | { problem: string } {
  try {
    return readTextBounded(file, MAX_PEM_BYTES);
  } catch (err) {
    if (err instanceof FileTooLargeError) return { problem: `${err.message}: not a PEM file` };
    return { problem: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** The DNS names a certificate is valid for. */
export function namesOf(x509: X509Certificate): string[] {
  const alt = (x509.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (alt.length > 0) return alt;
  const cn = /CN=([^\n,]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function readHsts(raw: unknown, value: IngressSettings, problem: (m: string) => void): void {
  if (raw === false) return;
  if (raw === true) value.hstsSeconds = 31_536_000;
  else if (typeof raw === 'number' && raw > 0) value.hstsSeconds = Math.round(raw);
  else if (typeof raw === 'string' && parseDuration(raw) !== undefined)
    value.hstsSeconds = Math.round(parseDuration(raw)! / 1000);
  else problem(`expected true, false or a max-age such as 365d, got ${show(raw)}`);
}

/** The ingress of a loaded project, or undefined when it has none. */
export function ingressOf(
  extra: Record<string, unknown>,
  projectDir: string,
): IngressSettings | undefined {
  if (extra.ingress === undefined) return undefined;
  const checked = checkIngress(extra.ingress, projectDir);
  const first: SettingProblem | undefined = checked.problems[0];
  if (first)
    throw new HerdError(
      `x-herd.ingress${first.key ? `.${first.key}` : ''}: ${first.message}`,
      'COMPOSE_INVALID',
    );
  return checked.value;
}
