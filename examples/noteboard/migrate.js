// One-shot migration for compose.yaml's `migrate` service: creates the schema and exits 0, or
// exits 1 with the reason. It runs only once `db` is healthy, so it does not retry.
import { dbConfig, describeDb, migrate } from './lib/db.js';

const config = dbConfig();
try {
  await migrate(config);
  console.log(`Migration done on ${describeDb(config)}`);
} catch (err) {
  console.error(`Migration failed on ${describeDb(config)}: ${err.message}`);
  process.exit(1);
}
