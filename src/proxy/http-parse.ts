// Just enough HTTP/1.1 parsing to proxy safely: where a request head ends, its request line, and
// the headers that decide framing and hop-by-hop handling (responses: http-response.ts).

export class HttpParseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s\0]+) HTTP\/1\.([01])$/;
const BAD_VALUE = /[\0\r\n]/;
const CL_VALUE = /^[0-9]{1,15}$/;

export interface RequestHead {
  method: string;
  target: string;
  minor: number;
  /** Headers forwarded as they came (hop-by-hop and X-Forwarded-* removed): "Name: value\r\n"… */
  forwardLines: string;
  host: string | undefined;
  xForwardedFor: string | undefined;
  /** X-Forwarded-Proto/Host/Port as the client sent them (kept only by an ingress pool). */
  xForwardedProto: string | undefined;
  xForwardedHost: string | undefined;
  xForwardedPort: string | undefined;
  cookie: string | undefined;
  /** lower-case name → value, only for `hash` on a header */
  headerMap: Map<string, string> | undefined;
  /** -1: no Content-Length */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** Upgrade requested (WebSocket…): value of the Upgrade header */
  upgrade: string | undefined;
  expectContinue: boolean;
}

const LF_CRLF = Buffer.from('\n\r\n');
const LFLF = Buffer.from('\n\n');

/**
 * Where the request head in `buf` ends: the head (without its final empty line) as a string and
 * the offset of what follows, or null while the empty line has not come. Lines may end in CRLF or
 * a bare LF (RFC 9112 §2.2 lets a recipient accept the latter, and nginx does), so the head ends
 * at the first `\n\r\n` or `\n\n`, whichever comes first.
 */
export function findHead(buf: Buffer): { head: string; next: number } | null {
  const a = buf.indexOf(LF_CRLF);
  if (a !== -1) {
    const head = buf.toString('latin1', 0, a);
    const b = head.indexOf('\n\n');
    if (b === -1) return { head: trimCr(head), next: a + 3 };
    return { head: trimCr(head.slice(0, b)), next: b + 2 };
  }
  const b = buf.indexOf(LFLF);
  if (b === -1) return null;
  return { head: trimCr(buf.toString('latin1', 0, b)), next: b + 2 };
}

function trimCr(s: string): string {
  return s.charCodeAt(s.length - 1) === 0x0d ? s.slice(0, -1) : s;
}

/** The lines of a head whose lines end in CRLF or a bare LF (a CR anywhere else stays, and the
 * checks below refuse it). */
function headLines(head: string): string[] {
  if (head.indexOf('\n') === -1) return [head];
  const lines = head.split('\n');
  for (let i = 0; i < lines.length; i++) lines[i] = trimCr(lines[i]!);
  return lines;
}

/** Parse a request head (without its final empty line). Throws HttpParseError(400/431/505). */
export function parseRequestHead(
  head: string,
  maxHeaders: number,
  wantHeaderMap: boolean,
): RequestHead {
  const lines = headLines(head);
  const m = matchRequestLine(lines[0]!);
  if (lines.length - 1 > maxHeaders) throw new HttpParseError(431, 'too many headers');
  const minor = m[3] === '1' ? 1 : 0;
  const req: RequestHead = {
    method: m[1]!,
    target: m[2]!,
    minor,
    forwardLines: '',
    host: undefined,
    xForwardedFor: undefined,
    xForwardedProto: undefined,
    xForwardedHost: undefined,
    xForwardedPort: undefined,
    cookie: undefined,
    headerMap: undefined,
    contentLength: -1,
    chunked: false,
    keepAlive: false,
    upgrade: undefined,
    expectContinue: false,
  };
  const connTokens = readHeaders(lines, req, wantHeaderMap).toLowerCase();
  req.keepAlive =
    minor === 1 ? !/(^|[\s,])close($|[\s,])/.test(connTokens) : /keep-alive/.test(connTokens);
  if (connTokens) {
    const drop = namedByConnection(connTokens);
    if (drop.length) req.forwardLines = dropHeaders(req.forwardLines, drop);
  }
  if (req.upgrade !== undefined && /(^|[\s,])upgrade($|[\s,])/.test(connTokens))
    req.keepAlive = false;
  else req.upgrade = undefined;
  return req;
}

function matchRequestLine(line: string): RegExpExecArray {
  const m = REQUEST_LINE.exec(line);
  if (m) return m;
  // A well-formed line of another HTTP version gets 505, as nginx answers it.
  if (/^[A-Z]+ \S+ HTTP\/\d\.\d$/.test(line))
    throw new HttpParseError(505, 'only HTTP/1.0 and HTTP/1.1 are supported here');
  throw new HttpParseError(400, 'malformed request line');
}

/** Reads the header lines into `req`: everything but keepAlive, and `upgrade` as asked for
 * (parseRequestHead keeps it only when Connection names it too). Returns Connection's value. */
function readHeaders(lines: string[], req: RequestHead, wantHeaderMap: boolean): string {
  let forward = '';
  const combined: Combined = { te: undefined, connection: '' };
  let map: Map<string, string> | undefined = wantHeaderMap ? new Map() : undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpParseError(400, 'malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpParseError(400, 'malformed header name');
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new HttpParseError(400, 'invalid character in header value');
    const lower = name.toLowerCase();
    map?.set(lower, map.has(lower) ? `${map.get(lower)}, ${value}` : value);
    if (!recordHeader(lower, value, req, combined)) forward += line + '\r\n';
  }
  if (req.minor === 1 && req.host === undefined)
    throw new HttpParseError(400, 'missing Host header');
  req.chunked = combined.te !== undefined && isChunked(combined.te, req.contentLength);
  req.forwardLines = forward;
  if (map && map.size === 0) map = undefined;
  req.headerMap = map;
  return combined.connection;
}

/** Headers whose repeats are joined into one value, judged once all header lines are read. */
interface Combined {
  te: string | undefined;
  connection: string;
}

/** Records what one header (`lower`: its name in lower case) says in `req`, or for
 * Transfer-Encoding and Connection in `combined`. Returns whether it is hop-by-hop or one of the
 * X-Forwarded-* herd sets itself: those are not forwarded as they came. */
function recordHeader(lower: string, value: string, req: RequestHead, combined: Combined): boolean {
  switch (lower) {
    case 'host':
      if (req.host !== undefined) throw new HttpParseError(400, 'duplicate Host header');
      req.host = value;
      return false;
    case 'content-length':
      if (!CL_VALUE.test(value)) throw new HttpParseError(400, 'invalid Content-Length');
      if (req.contentLength !== -1 && req.contentLength !== Number(value))
        throw new HttpParseError(400, 'conflicting Content-Length headers');
      req.contentLength = Number(value);
      return false;
    case 'transfer-encoding':
      combined.te = combined.te === undefined ? value : `${combined.te}, ${value}`;
      return false;
    case 'connection':
      combined.connection = combined.connection ? `${combined.connection},${value}` : value;
      return true;
    case 'upgrade':
      req.upgrade = value;
      return true;
    case 'x-forwarded-for':
      req.xForwardedFor =
        req.xForwardedFor === undefined ? value : `${req.xForwardedFor}, ${value}`;
      return true;
    case 'keep-alive':
    case 'proxy-connection':
    case 'te':
    case 'trailer':
      return true;
    case 'x-forwarded-proto':
      req.xForwardedProto = value;
      return true;
    case 'x-forwarded-host':
      req.xForwardedHost = value;
      return true;
    case 'x-forwarded-port':
      req.xForwardedPort = value;
      return true;
    case 'cookie':
      req.cookie = req.cookie === undefined ? value : `${req.cookie}; ${value}`;
      return false;
    case 'expect':
      req.expectContinue = value.toLowerCase() === '100-continue';
      return false;
    default:
      return false;
  }
}

/** Whether a request with a Transfer-Encoding is chunked; throws for any other framing. */
function isChunked(te: string, cl: number): boolean {
  // Smuggling guard: one framing only, and chunked must be the final (only) coding we accept.
  if (cl !== -1) throw new HttpParseError(400, 'both Content-Length and Transfer-Encoding');
  if (te.trim().toLowerCase() !== 'chunked')
    throw new HttpParseError(400, `unsupported Transfer-Encoding "${te}"`);
  return true;
}

const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

/** The headers a (lower-case) Connection value names, to be dropped. */
function namedByConnection(connTokens: string): string[] {
  const names: string[] = [];
  for (const t of connTokens.split(',')) {
    const tok = t.trim();
    // Dropping a framing header while herd still frames the body by it would hand the replica
    // the body as a request of its own (request smuggling): refuse instead.
    if (FRAMING.has(tok))
      throw new HttpParseError(400, `Connection must not name the ${tok} header`);
    if (tok && tok !== 'close' && tok !== 'keep-alive' && tok !== 'upgrade') names.push(tok);
  }
  return names;
}

function dropHeaders(lines: string, names: string[]): string {
  return lines
    .split('\r\n')
    .filter((l) => l && !names.includes(l.slice(0, l.indexOf(':')).toLowerCase()))
    .map((l) => l + '\r\n')
    .join('');
}

/** The value of cookie `name` in a Cookie header, if it has one. */
export function getCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
