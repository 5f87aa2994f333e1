// The producer: a form to submit jobs, POST /jobs to queue them in Redis, GET /stats to watch.
import { createServer } from 'node:http';
import { URL, URLSearchParams } from 'node:url';
import { createClient, redisAddress } from './lib/resp.js';

const port = Number(process.env.PORT ?? 5000);
const host = process.env.HOST ?? '127.0.0.1';
const MAX_JOBS = 10_000;

const redis = await createClient(redisAddress()).catch((err) => {
  console.error(`producer cannot reach redis: ${err.message}`);
  process.exit(1);
});

const page = `<!doctype html><title>prodwork</title>
<h1>prodwork</h1>
<form method="post" action="/jobs"><label>Jobs <input name="count" value="10"></label>
<button>Submit</button></form><p><a href="/stats">stats</a></p>`;

async function stats() {
  const keys = await redis.command('KEYS', 'processing:*');
  let processing = 0;
  for (const k of keys) processing += await redis.command('LLEN', k);
  return {
    queued: await redis.command('LLEN', 'jobs'),
    processing,
    done: await redis.command('SCARD', 'done'),
    processed: Number((await redis.command('GET', 'processed')) ?? 0),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => {
      body += d;
      if (body.length > 64 * 1024) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** `count=5` (form) or `{"count": 5}` (JSON) → 5; undefined when it is not 1…MAX_JOBS. */
function countOf(req, body) {
  let raw;
  if ((req.headers['content-type'] ?? '').includes('json')) {
    try {
      raw = JSON.parse(body).count;
    } catch {
      return undefined;
    }
  } else {
    raw = new URLSearchParams(body).get('count');
  }
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= MAX_JOBS ? n : undefined;
}

function send(res, status, type, text) {
  res.writeHead(status, { 'content-type': type });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/') return send(res, 200, 'text/html', page);
    if (req.method === 'GET' && url.pathname === '/stats')
      return send(res, 200, 'application/json', JSON.stringify(await stats()) + '\n');
    if (req.method === 'POST' && url.pathname === '/jobs') {
      const n = countOf(req, await readBody(req));
      if (n === undefined)
        return send(res, 400, 'text/plain', `count must be a whole number from 1 to ${MAX_JOBS}\n`);
      const last = await redis.command('INCRBY', 'job:seq', n);
      const ids = Array.from({ length: n }, (_, i) => last - n + 1 + i);
      await redis.command('RPUSH', 'jobs', ...ids);
      console.log(`producer queued jobs ${ids[0]}..${ids.at(-1)}`);
      return send(res, 201, 'application/json', JSON.stringify({ queued: ids }) + '\n');
    }
    send(res, 404, 'text/plain', 'not found\n');
  } catch (err) {
    send(res, 500, 'text/plain', `error: ${err.message}\n`);
  }
});

server.listen(port, host, () => console.log(`producer listening on ${host}:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
