// Just enough HTTP/1.1 parsing to proxy safely: the request line and the headers that decide
// framing and hop-by-hop handling, and the response headers that frame the body.

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

/** Parse a request head (without the final CRLFCRLF). Throws HttpParseError(400/431/505). */
export function parseRequestHead(
  head: string,
  maxHeaders: number,
  wantHeaderMap: boolean,
): RequestHead {
  const lines = head.split('\r\n');
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
  let host: string | undefined;
  let xff: string | undefined;
  let cookie: string | undefined;
  let cl = -1;
  let te: string | undefined;
  let connection = '';
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
    // hop-by-hop headers and our own X-Forwarded-* are not forwarded as they came
    let hop = false;
    switch (lower) {
      case 'host':
        if (host !== undefined) throw new HttpParseError(400, 'duplicate Host header');
        host = value;
        break;
      case 'content-length':
        if (!CL_VALUE.test(value)) throw new HttpParseError(400, 'invalid Content-Length');
        if (cl !== -1 && cl !== Number(value))
          throw new HttpParseError(400, 'conflicting Content-Length headers');
        cl = Number(value);
        break;
      case 'transfer-encoding':
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      case 'connection':
        connection = connection ? `${connection},${value}` : value;
        hop = true;
        break;
      case 'upgrade':
        req.upgrade = value;
        hop = true;
        break;
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        hop = true;
        break;
      case 'keep-alive':
      case 'proxy-connection':
      case 'te':
      case 'trailer':
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
      case 'x-forwarded-port':
        hop = true;
        break;
      case 'cookie':
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        break;
      case 'expect':
        req.expectContinue = value.toLowerCase() === '100-continue';
        break;
    }
    if (!hop) forward += line + '\r\n';
  }
  if (req.minor === 1 && host === undefined) throw new HttpParseError(400, 'missing Host header');
  req.chunked = te !== undefined && isChunked(te, cl);
  req.forwardLines = forward;
  req.host = host;
  req.xForwardedFor = xff;
  req.cookie = cookie;
  if (map && map.size === 0) map = undefined;
  req.headerMap = map;
  req.contentLength = cl;
  return connection;
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

export interface ResponseHead {
  status: number;
  /** -1: none given */
  contentLength: number;
  chunked: boolean;
  close: boolean;
}

/** Parse a response head (bytes up to, excluding, CRLFCRLF). Throws on nonsense. */
export function parseResponseHead(head: string): ResponseHead {
  const sp = head.indexOf(' ');
  if (!head.startsWith('HTTP/1.') || sp !== 8) throw new Error('malformed status line');
  const status = Number(head.slice(9, 12));
  if (!(status >= 100 && status <= 999)) throw new Error('malformed status code');
  let cl = -1;
  let te: string | undefined;
  let close = head.charCodeAt(7) === 48; /* HTTP/1.0 closes unless keep-alive */
  let pos = head.indexOf('\r\n');
  while (pos !== -1) {
    const start = pos + 2;
    const end = head.indexOf('\r\n', start);
    const line = end === -1 ? head.slice(start) : head.slice(start, end);
    pos = end;
    const c = line.charCodeAt(0) | 0x20;
    if (c !== 0x63 /* c */ && c !== 0x74 /* t */) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'content-length') {
      const v = line.slice(colon + 1).trim();
      if (!CL_VALUE.test(v)) throw new Error('invalid Content-Length');
      if (cl !== -1 && cl !== Number(v)) throw new Error('conflicting Content-Length headers');
      cl = Number(v);
    } else if (name === 'transfer-encoding') {
      const v = line.slice(colon + 1).trim();
      te = te === undefined ? v : `${te}, ${v}`;
    } else if (name === 'connection') {
      const v = line.slice(colon + 1).toLowerCase();
      if (/(^|[\s,])close($|[\s,])/.test(v)) close = true;
      else if (/keep-alive/.test(v)) close = false;
    }
  }
  // Two framings could be read two ways by herd and the client: refuse, as nginx does (502).
  if (te !== undefined && cl !== -1) throw new Error('both Content-Length and Transfer-Encoding');
  // Chunked only when it is the final coding; any other coding runs until the close (RFC 9112).
  const chunked = te !== undefined && te.split(',').pop()!.trim().toLowerCase() === 'chunked';
  if (te !== undefined && !chunked) close = true;
  return { status, contentLength: cl, chunked, close };
}

/**
 * Finds where a chunked body ends without altering it (bytes are forwarded as they are).
 * feed() returns the offset just past the body's end within `buf`, or -1 when it needs more.
 */
export class ChunkedScanner {
  private state = 0; // 0 size line, 1 data, 2 data CRLF, 3 trailer line, 4 done
  private remaining = 0;
  private lineLen = 0;
  private sawSize = false;
  private lineHasData = false;

  reset(): void {
    this.state = 0;
    this.remaining = 0;
    this.lineLen = 0;
    this.sawSize = false;
    this.lineHasData = false;
  }

  feed(buf: Buffer, start: number): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case 0: {
          const c = buf[i++]!;
          if (++this.lineLen > 4096) throw new Error('chunk size line too long');
          if (c === 0x0a) {
            if (!this.sawSize) throw new Error('missing chunk size');
            this.lineLen = 0;
            this.sawSize = false;
            this.inExt = false;
            this.state = this.remaining === 0 ? 3 : 1;
            this.lineHasData = false;
          } else if (this.inExt || c === 0x0d) {
            // chunk extensions are ignored; CR waits for its LF
          } else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) {
            this.inExt = true;
          } else {
            const d = hexVal(c);
            if (d < 0) throw new Error('invalid chunk size');
            if (this.remaining > 0xfffffffffff) throw new Error('chunk too large');
            this.remaining = this.remaining * 16 + d;
            this.sawSize = true;
          }
          break;
        }
        case 1: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 2;
          break;
        }
        case 2: {
          const c = buf[i++]!;
          if (c === 0x0a) {
            this.state = 0;
            this.inExt = false;
          } else if (c !== 0x0d) throw new Error('missing CRLF after chunk');
          break;
        }
        case 3: {
          const c = buf[i++]!;
          if (++this.lineLen > 8192) throw new Error('trailer too long');
          if (c === 0x0a) {
            if (!this.lineHasData) {
              this.state = 4;
              return i;
            }
            this.lineHasData = false;
            this.lineLen = 0;
          } else if (c !== 0x0d) this.lineHasData = true;
          break;
        }
        default:
          return i;
      }
    }
    return -1;
  }

  private inExt = false;
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

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
