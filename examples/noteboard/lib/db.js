// How noteboard reaches its database, and its one-table schema.
// herd sets DB_SERVICE_HOST/DB_SERVICE_PORT for a service with a stable address (here the
// internal balancer of `db`, which has `expose: ["5432"]`); PGHOST/PGPORT work without herd.
import pg from 'pg';

export function dbConfig(env = process.env) {
  return {
    host: env.DB_SERVICE_HOST ?? env.PGHOST ?? '127.0.0.1',
    port: Number(env.DB_SERVICE_PORT ?? env.PGPORT ?? 5432),
    user: env.PGUSER ?? 'app',
    password: env.PGPASSWORD ?? 'app',
    database: env.PGDATABASE ?? 'app',
    // Fail fast like psycopg2 does instead of waiting for a server that is not there.
    connectionTimeoutMillis: 3000,
  };
}

export function describeDb(config) {
  return `${config.user}@${config.host}:${config.port}/${config.database}`;
}

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS notes (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`;

/** Runs the migration in one transaction on a fresh connection. */
export async function migrate(config) {
  const client = new pg.Client(config);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(SCHEMA);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
