// A tiny web app for the load-balancing example: says which replica answered.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 5000);
const who = `${process.env.HERD_PROJECT ?? 'herd'}-web-${process.env.HERD_REPLICA ?? '0'}`;

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`Hello from ${who} (pid ${process.pid})\n`);
});

server.listen(port, '127.0.0.1', () => console.log(`${who} listening on 127.0.0.1:${port}`));

// Finish in-flight requests, then exit, when herd stops this replica.
process.on('SIGTERM', () => {
  console.log(`${who} shutting down`);
  server.close(() => process.exit(0));
});
