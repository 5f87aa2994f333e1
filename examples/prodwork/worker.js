// A queue worker with the reliable-queue pattern: each job is moved atomically from `jobs` to
// this worker's own processing list, removed from it only once done, and whatever the list still
// holds when the worker starts (it was killed mid-job) goes back to the queue — nothing is lost.
import { createClient, redisAddress } from './lib/resp.js';

const me = `worker-${process.env.HERD_REPLICA ?? '1'}`;
const processing = `processing:${me}`;
const workMs = Number(process.env.WORK_MS ?? 200);

const redis = await createClient(redisAddress()).catch((err) => {
  console.error(`${me} cannot reach redis: ${err.message}`);
  process.exit(1);
});

// Jobs this worker held when it died go back to the front of the queue.
let requeued = 0;
while ((await redis.command('LMOVE', processing, 'jobs', 'RIGHT', 'LEFT')) !== null) requeued++;
console.log(`${me} ready${requeued ? `, re-queued ${requeued} unfinished job(s)` : ''}`);

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  // A job in progress finishes; a worker waiting for one just leaves (nothing is held).
  setTimeout(() => process.exit(0), workMs + 500).unref();
});

while (!stopping) {
  // Wait at most 1 s so a stop request is noticed between jobs.
  const job = await redis.command('BLMOVE', 'jobs', processing, 'LEFT', 'RIGHT', 1);
  if (job === null) continue;
  await new Promise((r) => setTimeout(r, workMs));
  await redis.command('SADD', 'done', job);
  await redis.command('INCR', 'processed');
  await redis.command('LREM', processing, 1, job);
  console.log(`${me} processed job ${job}`);
}
redis.close();
