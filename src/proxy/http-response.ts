// A replica's response head: how its body is framed, and the head as the client gets it. The
// client's connection is herd's, not the replica's, so the hop-by-hop fields (RFC 9110 §7.6.1:
// Connection and every field it names, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade) stay
// behind, the version is herd's own (HTTP/1.1), and herd says itself whether the connection
// closes. Transfer-Encoding stays: herd passes a chunked body through exactly as framed.

const CL_VALUE = /^[0-9]{1,15}$/;
const CLOSE = /(^|[\s,])close($|[\s,])/;

export interface ResponseHead {
  status: number;
  /** -1: none given */
  contentLength: number;
  chunked: boolean;
  /** The replica closes its connection after this response. */
  close: boolean;
  /** Pairs of [start, end) offsets in the head string to leave out: each a hop-by-hop line with
   * the CRLF before it. null: none. */
  hop: number[] | null;
  /** The status line says HTTP/1.0. */
  v10: boolean;
}

/** Parse a response head (up to, excluding, its final CRLFCRLF). Throws on nonsense. */
export function parseResponseHead(head: string): ResponseHead {
  const sp = head.indexOf(' ');
  if (!head.startsWith('HTTP/1.') || sp !== 8) throw new Error('malformed status line');
  const status = Number(head.slice(9, 12));
  if (!(status >= 100 && status <= 999)) throw new Error('malformed status code');
  const v10 = head.charCodeAt(7) === 48;
  let cl = -1;
  let te: string | undefined;
  let connection: string | undefined;
  let hop: number[] | null = null;
  let pos = head.indexOf('\r\n');
  while (pos !== -1) {
    const start = pos + 2;
    const next = head.indexOf('\r\n', start);
    const end = next === -1 ? head.length : next;
    const at = pos;
    pos = next;
    // Only names starting with these letters matter here (framing or hop-by-hop).
    const c = head.charCodeAt(start) | 0x20;
    if (c !== 0x63 && c !== 0x74 && c !== 0x6b && c !== 0x70 && c !== 0x75) continue;
    const colon = head.indexOf(':', start);
    if (colon === -1 || colon > end) continue;
    const name = head.slice(start, colon).toLowerCase();
    switch (name) {
      case 'content-length': {
        const v = head.slice(colon + 1, end).trim();
        if (!CL_VALUE.test(v)) throw new Error('invalid Content-Length');
        if (cl !== -1 && cl !== Number(v)) throw new Error('conflicting Content-Length headers');
        cl = Number(v);
        continue;
      }
      case 'transfer-encoding': {
        const v = head.slice(colon + 1, end).trim();
        te = te === undefined ? v : `${te}, ${v}`;
        continue;
      }
      case 'connection': {
        const v = head.slice(colon + 1, end).toLowerCase();
        connection = connection === undefined ? v : `${connection},${v}`;
        break;
      }
      case 'keep-alive':
      case 'proxy-connection':
      case 'te':
      case 'trailer':
      case 'upgrade':
        break;
      default:
        continue;
    }
    (hop ??= []).push(at, end);
  }
  let close = v10; // HTTP/1.0 closes unless it says keep-alive
  if (connection !== undefined) {
    if (CLOSE.test(connection)) close = true;
    else if (connection.includes('keep-alive')) close = false;
    const only = connection.trim();
    if (only !== 'keep-alive' && only !== 'close') hop = dropNamed(head, connection, hop);
  }
  // Two framings could be read two ways by herd and the client: refuse, as nginx does (502).
  if (te !== undefined && cl !== -1) throw new Error('both Content-Length and Transfer-Encoding');
  // Chunked only when it is the final coding; any other coding runs until the close (RFC 9112).
  const chunked = te !== undefined && te.split(',').pop()!.trim().toLowerCase() === 'chunked';
  if (te !== undefined && !chunked) close = true;
  return { status, contentLength: cl, chunked, close, hop, v10 };
}

const NOT_NAMES = new Set(['', 'close', 'keep-alive', 'content-length', 'transfer-encoding']);

/** Adds the lines of the fields `connection` names (other than framing ones) to `hop`. */
function dropNamed(head: string, connection: string, hop: number[] | null): number[] | null {
  const names = new Set<string>();
  for (const t of connection.split(',')) {
    const name = t.trim();
    if (!NOT_NAMES.has(name)) names.add(name);
  }
  if (names.size === 0) return hop;
  const out: number[] = [];
  let k = 0;
  let pos = head.indexOf('\r\n');
  while (pos !== -1) {
    const next = head.indexOf('\r\n', pos + 2);
    const end = next === -1 ? head.length : next;
    // keep `out` in head order, merging in the ranges already found
    while (hop !== null && k < hop.length && hop[k]! < pos) out.push(hop[k++]!, hop[k++]!);
    const already = hop !== null && hop[k] === pos;
    const colon = head.indexOf(':', pos + 2);
    if (!already && colon !== -1 && colon < end) {
      if (names.has(head.slice(pos + 2, colon).toLowerCase())) out.push(pos, end);
    }
    pos = next;
  }
  while (hop !== null && k < hop.length) out.push(hop[k++]!);
  return out.length ? out : null;
}

/**
 * The head the client gets, ending in its empty line: `head` without its hop-by-hop lines, as
 * HTTP/1.1, with `Connection: <connection>` when that is not empty and the header lines `extra`
 * (each ending in CRLF). null when the received bytes can go as they are.
 */
export function clientHead(
  head: string,
  r: ResponseHead,
  connection: string,
  extra: string,
): string | null {
  if (r.hop === null && !r.v10 && connection === '' && extra === '') return null;
  let out = head;
  if (r.hop !== null) {
    out = '';
    let from = 0;
    for (let i = 0; i < r.hop.length; i += 2) {
      out += head.slice(from, r.hop[i]);
      from = r.hop[i + 1]!;
    }
    out += head.slice(from);
  }
  if (r.v10) out = `HTTP/1.1${out.slice(8)}`;
  if (connection !== '') out += `\r\nConnection: ${connection}`;
  return `${out}\r\n${extra}\r\n`;
}
