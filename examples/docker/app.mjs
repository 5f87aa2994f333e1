// Counts visits in Redis (reached by service name on the project network) and says which
// replica answered. Node built-ins only: speaks just enough RESP for INCR.
import http from 'node:http';
import net from 'node:net';

const replica = `${process.env.HERD_SERVICE ?? 'web'}-${process.env.HERD_REPLICA ?? '?'}`;
const cache = {
  host: process.env.CACHE_SERVICE_HOST ?? 'cache',
  port: Number(process.env.CACHE_SERVICE_PORT ?? 6379),
};

function incr(key) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(cache, () =>
      sock.write(`*2\r\n$4\r\nINCR\r\n$${key.length}\r\n${key}\r\n`),
    );
    sock.once('data', (d) => {
      sock.end();
      const m = /^:(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
      else reject(new Error(d.toString().trim()));
    });
    sock.once('error', reject);
  });
}

const server = http.createServer(async (_req, res) => {
  try {
    res.end(`Hello from ${replica}: visit ${await incr('visits')}\n`);
  } catch (err) {
    res.statusCode = 503;
    res.end(`cache unavailable: ${err.message}\n`);
  }
});
// PORT is the container port (8000, the target in `ports:`), not a host port.
server.listen(Number(process.env.PORT ?? 8000), '0.0.0.0', () =>
  console.log(`${replica} listening`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
