// The proxy's minimal HTTP/1.1 parsing: request heads, response heads, chunked framing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkedScanner,
  HttpParseError,
  parseRequestHead,
  parseResponseHead,
} from '../../src/proxy/http-parse.ts';

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
});
