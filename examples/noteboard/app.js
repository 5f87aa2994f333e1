// noteboard: POST a name and message, GET lists the notes. It keeps the flaw of the tutorial's
// app on purpose: on first boot it marks itself installed *before* migrating, so a migration that
// fails (database not up yet) is never retried, and the app later serves without a schema.
// compose.yaml avoids that with depends_on conditions; compose.broken.yaml reproduces it.
import { createServer } from 'node:http';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { dbConfig, describeDb, migrate } from './lib/db.js';
import { BadRequest, readNote, renderPage, wantsJson } from './lib/http.js';

const config = dbConfig();
const stateDir = process.env.NOTEBOARD_STATE_DIR ?? './.data/state';
const stateFile = join(stateDir, 'installed');

if (!existsSync(stateFile)) {
  console.log('First run, setting up...');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stateFile, `${new Date().toISOString()}\n`); // the flaw: written before migrating
  try {
    await migrate(config);
  } catch (err) {
    console.error(`Migration failed: ${err.message}`);
    process.exit(1);
  }
} else {
  console.log('Already installed, skipping migrations');
}

const pool = new pg.Pool(config);
// An idle connection dropped by a restarting database must not crash the app.
pool.on('error', (err) => console.error(`Database connection lost: ${err.message}`));
try {
  await pool.query('SELECT 1');
} catch (err) {
  console.error(`Database not ready (${describeDb(config)}): ${err.message}`);
  process.exit(1);
}

async function listNotes(req, res) {
  const { rows } = await pool.query(
    'SELECT id, name, message, created_at FROM notes ORDER BY id DESC LIMIT 100',
  );
  if (wantsJson(req)) send(res, 200, 'application/json', JSON.stringify(rows));
  else send(res, 200, 'text/html; charset=utf-8', renderPage(rows));
}

async function addNote(req, res) {
  const note = await readNote(req);
  const { rows } = await pool.query(
    'INSERT INTO notes (name, message) VALUES ($1, $2) RETURNING id, name, message, created_at',
    [note.name, note.message],
  );
  if (wantsJson(req) || req.headers['content-type']?.startsWith('application/json')) {
    send(res, 201, 'application/json', JSON.stringify(rows[0]));
  } else {
    res.writeHead(303, { location: '/' }).end();
  }
}

async function health(_req, res) {
  try {
    await pool.query('SELECT 1');
    send(res, 200, 'text/plain', 'ok\n');
  } catch (err) {
    send(res, 503, 'text/plain', `database unreachable: ${err.message}\n`);
  }
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const routes = { 'GET /': listNotes, 'POST /': addNote, 'GET /health': health };

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://noteboard').pathname;
  const route = routes[`${req.method} ${path}`];
  if (!route) {
    const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
    send(res, known ? 405 : 404, 'text/plain', known ? 'method not allowed\n' : 'not found\n');
    return;
  }
  try {
    await route(req, res);
  } catch (err) {
    if (err instanceof BadRequest) {
      send(res, err.status, 'text/plain', `${err.message}\n`);
      return;
    }
    // Like the tutorial's app: a failing query kills the handler and the client gets an empty
    // reply; only this log line says why (e.g. 'relation "notes" does not exist').
    console.error(
      `Exception occurred during processing of request from ${req.socket.remoteAddress}: ${err.message}`,
    );
    res.destroy();
  }
});

const port = Number(process.env.PORT ?? 5000);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => console.log(`Serving on ${host}:${port}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeIdleConnections();
    pool.end().finally(() => process.exit(0));
  });
}
