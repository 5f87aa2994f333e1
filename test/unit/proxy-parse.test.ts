// The proxy's minimal HTTP/1.1 parsing: request heads, response heads, chunked framing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedScanner } from '../../src/proxy/body-framer.ts';
import { HttpParseError, findHead, parseRequestHead } from '../../src/proxy/http-parse.ts';
import { clientHead, parseResponseHead } from '../../src/proxy/http-response.ts';

describe('parseRequestHead', () => {
  it('reads framing, drops hop-by-hop headers and those Connection names', () => {
    const h = parseRequestHead(
      'POST /x?y=1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 12\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nAccept: */*',
      100,
      false,
    );
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/x?y=1');
    assert.equal(h.contentLength, 12);
    assert.equal(h.keepAlive, true);
    assert.equal(h.forwardLines, 'Host: a.test\r\nContent-Length: 12\r\nAccept: */*\r\n');
  });

  it('HTTP/1.0 closes unless keep-alive; Connection: close closes 1.1', () => {
    assert.equal(parseRequestHead('GET / HTTP/1.0', 100, false).keepAlive, false);
    assert.equal(
      parseRequestHead('GET / HTTP/1.0\r\nConnection: Keep-Alive', 100, false).keepAlive,
      true,
    );
    assert.equal(
      parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nConnection: close', 100, false).keepAlive,
      false,
    );
  });

  it('recognises an Upgrade only with Connection: upgrade', () => {
    assert.equal(
      parseRequestHead(
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade',
        100,
        false,
      ).upgrade,
      'websocket',
    );
    assert.equal(
      parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket', 100, false).upgrade,
      undefined,
    );
  });

  const bad: [string, string, number][] = [
    ['no version', 'GET /', 400],
    ['HTTP/2 line', 'GET / HTTP/2.0\r\nHost: x', 505],
    [
      'Connection naming Content-Length (smuggling)',
      'POST / HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: 3',
      400,
    ],
    [
      'Connection naming Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Transfer-Encoding\r\nTransfer-Encoding: chunked',
      400,
    ],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : x', 400],
    ['folded header', 'GET / HTTP/1.1\r\nHost: x\r\n continued', 400],
    [
      'CL and TE',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked',
      400,
    ],
    ['negative CL', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1', 400],
    ['chunked not last', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip', 400],
    ['missing Host on 1.1', 'GET / HTTP/1.1\r\nAccept: x', 400],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b', 400],
    ['too many headers', 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3', 431],
  ];
  for (const [name, head, status] of bad) {
    it(`rejects ${name} with ${status}`, () => {
      assert.throws(
        () => parseRequestHead(head, 3, false),
        (e: unknown) => e instanceof HttpParseError && e.status === status,
      );
    });
  }
});

describe('parseResponseHead', () => {
  it('frames by Content-Length, chunked, or close', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5'), {
      status: 200,
      contentLength: 5,
      chunked: false,
      close: false,
      hop: null,
      v10: false,
    });
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked').chunked, true);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close').close, true);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK').close, true);
    assert.throws(() => parseResponseHead('HTTX/1.1 200 OK'));
  });
});

describe('ChunkedScanner', () => {
  it('finds the end of a chunked body split at every byte', () => {
    const body = Buffer.from('5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT');
    const whole = new ChunkedScanner().feed(body, 0);
    assert.equal(body.subarray(whole).toString(), 'NEXT');
    for (let split = 1; split < body.length - 4; split++) {
      const sc = new ChunkedScanner();
      assert.equal(sc.feed(body.subarray(0, split), 0), -1);
      assert.equal(sc.feed(body.subarray(split), 0), whole - split);
    }
  });

  it('rejects a bad chunk size', () => {
    assert.throws(() => new ChunkedScanner().feed(Buffer.from('zz\r\n'), 0));
  });

  // Each of these could be read as another size by a lenient parser behind herd (smuggling).
  const badLines = [
    '1 0\r\nx\r\n',
    ' 1\r\nx\r\n',
    '1\r0\r\nx\r\n',
    '0x1\r\nx\r\n',
    ';ext\r\nx\r\n',
    '-1\r\n',
    '1\r\nxy\r\n',
    '1\r\nx\r\r\n',
    '0\r\nA: 1\r\r\n\r\n',
    '1;a\x00b\r\nx\r\n',
    'fffffffffffffff\r\n',
  ];
  for (const line of badLines) {
    it(`rejects the chunked framing ${JSON.stringify(line)}`, () => {
      assert.throws(() => new ChunkedScanner().feed(Buffer.from(line), 0));
    });
  }

  it('takes BWS before an extension and bare LF line ends', () => {
    const body = Buffer.from('1 ;a=b\r\nx\r\n2\nyz\n0\n\nNEXT');
    const end = new ChunkedScanner().feed(body, 0);
    assert.equal(body.subarray(end).toString(), 'NEXT');
  });
});

describe('findHead (RFC 9112 §2.2: CRLF or a bare LF ends a line)', () => {
  const cases: [string, string, string][] = [
    ['CRLF', 'GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY', 'GET / HTTP/1.1\r\nHost: x'],
    ['bare LF', 'GET / HTTP/1.1\nHost: x\n\nBODY', 'GET / HTTP/1.1\nHost: x'],
    ['LF then CRLF', 'GET / HTTP/1.1\nHost: x\n\r\nBODY', 'GET / HTTP/1.1\nHost: x'],
    ['CRLF then LF', 'GET / HTTP/1.1\r\nHost: x\r\n\nBODY', 'GET / HTTP/1.1\r\nHost: x'],
    // the first empty line ends the head, even with a CRLFCRLF further on
    [
      'bare LF, CRLFCRLF in the body',
      'GET / HTTP/1.1\nHost: x\n\nB\r\n\r\n',
      'GET / HTTP/1.1\nHost: x',
    ],
  ];
  for (const [name, raw, head] of cases) {
    it(name, () => {
      const f = findHead(Buffer.from(raw, 'latin1'))!;
      assert.equal(f.head, head);
      assert.equal(raw.slice(f.next)[0], 'B');
      const req = parseRequestHead(f.head, 100, false);
      assert.equal(req.host, 'x');
      assert.equal(req.forwardLines, 'Host: x\r\n');
    });
  }
  it('waits for the empty line', () => {
    assert.equal(findHead(Buffer.from('GET / HTTP/1.1\nHost: x\n')), null);
    assert.equal(findHead(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')), null);
  });
  it('a bare CR inside a line is still refused', () => {
    assert.throws(
      () => parseRequestHead('GET / HTTP/1.1\nHost: x\rEvil: 1', 100, false),
      (e: unknown) => e instanceof HttpParseError && e.status === 400,
    );
  });
});

describe('clientHead (hop-by-hop fields stay behind, RFC 9110 §7.6.1)', () => {
  const rebuilt = (head: string, conn = '', extra = ''): string | null =>
    clientHead(head, parseResponseHead(head), conn, extra);

  it('drops Connection, the fields it names, Keep-Alive and the rest of the list', () => {
    const head =
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=65\r\n' +
      'Proxy-Connection: x\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-End: 1\r\nContent-Length: 2';
    assert.equal(rebuilt(head), 'HTTP/1.1 200 OK\r\nX-End: 1\r\nContent-Length: 2\r\n\r\n');
    assert.equal(
      rebuilt(head, 'close'),
      'HTTP/1.1 200 OK\r\nX-End: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n',
    );
  });

  it('a named field before Connection goes too; framing names stay', () => {
    const head =
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: x-a, content-length';
    assert.equal(rebuilt(head), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
  });

  it('leaves a clean head alone, answers as HTTP/1.1, adds extra lines', () => {
    assert.equal(rebuilt('HTTP/1.1 200 OK\r\nContent-Length: 2'), null);
    assert.equal(
      rebuilt('HTTP/1.0 200 OK\r\nContent-Length: 2', 'keep-alive'),
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n',
    );
    assert.equal(
      rebuilt('HTTP/1.1 204 No Content', '', 'Set-Cookie: a=b\r\n'),
      'HTTP/1.1 204 No Content\r\nSet-Cookie: a=b\r\n\r\n',
    );
  });
});
