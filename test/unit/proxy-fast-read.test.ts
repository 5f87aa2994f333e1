// The onread-based read path: every read is copied out of the shared buffer before the next
// read can overwrite it, EOF still closes the socket, and forward() applies backpressure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { forward, readAccepted } from '../../src/proxy/fast-read.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function serve(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onSocket);
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () =>
      r({ server, port: (server.address() as AddressInfo).port }),
    ),
  );
}

describe('fast reads', () => {
  it('delivers every byte in order while other reads reuse the buffer, and EOF closes', async () => {
    const payload = randomBytes(3 * 1024 * 1024);
    const kept = new Map<number, Buffer[]>(); // by client port; held until the end
    let closed!: () => void;
    const sawClose = new Promise<void>((r) => (closed = r));
    const { server, port } = await serve((s) => {
      const mine: Buffer[] = [];
      kept.set(s.remotePort!, mine);
      readAccepted(s, (d) => mine.push(d));
      s.on('close', closed);
    });
    // a second connection reading at the same time shares the same read buffer
    const noise = net.connect(port, '127.0.0.1');
    const noiseTimer = setInterval(() => noise.write(randomBytes(4096)), 1);
    let clientPort = 0;
    const c = net.connect(port, '127.0.0.1', () => {
      clientPort = c.localPort!;
      c.end(payload);
    });
    await sawClose; // the payload connection's (the noise one stays open until below)
    clearInterval(noiseTimer);
    noise.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    const got = Buffer.concat(kept.get(clientPort)!);
    assert.equal(got.length, payload.length);
    assert.equal(sha(got), sha(payload));
  });

  it('hands large reads on in the memory they were read into, and every one is its own', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const got: Buffer[] = [];
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const { server, port } = await serve((s) => {
      readAccepted(s, (d) => got.push(d));
      s.on('close', done);
    });
    const c = net.connect(port, '127.0.0.1', () => c.end(payload));
    await ended;
    server.close();
    assert.equal(sha(Buffer.concat(got)), sha(payload));
    // a read handed on uncopied is a view of a read buffer of its own (64–512 KiB); no two
    // share one
    const views = got.filter((d) => d.length >= 16 * 1024 && d.buffer.byteLength >= 64 * 1024);
    assert.ok(views.length > 0, 'no large read was handed on uncopied');
    assert.equal(new Set(views.map((d) => d.buffer)).size, views.length);
  });

  it('forward() pauses the reader while the writer is backed up and loses nothing', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    // sink: reads slowly at first, so the forwarder's writes back up
    const sinkChunks: Buffer[] = [];
    let sinkDone!: () => void;
    const sinkEnded = new Promise<void>((r) => (sinkDone = r));
    const sink = await serve((s) => {
      s.pause();
      setTimeout(() => s.resume(), 300);
      s.on('data', (d: Buffer) => sinkChunks.push(d));
      s.on('end', sinkDone);
    });
    let pausedSeen = false;
    const relay = await serve((src) => {
      const dst = net.connect(sink.port, '127.0.0.1');
      readAccepted(src, (d) => {
        forward(src, dst, d);
        if (src.isPaused()) pausedSeen = true;
      });
      src.on('end', () => dst.end());
    });
    const c = net.connect(relay.port, '127.0.0.1', () => c.end(payload));
    await sinkEnded;
    for (const s of [sink.server, relay.server]) s.close();
    assert.ok(pausedSeen, 'the reader was paused while the writer was full');
    assert.equal(sha(Buffer.concat(sinkChunks)), sha(payload));
  });
});
