// Runs the app as its own process for multi-process tests (restarts, kill -9, replicas).
// Prints `READY <url>` once listening. Configured through the environment like `npm start`.
import { start } from '../../src/main.ts';

const app = await start({
  port: 0,
  // A short lease: rows a killed process had leased are taken over within seconds (production: 60 s).
  outbox: { pollMs: 50, backoffBaseMs: 100, backoffMaxMs: 500, postIntervalMs: 20, leaseMs: 5_000 },
  recovery: { everyMs: 500, olderThanMs: 1_000 },
  githubOutbox: { pollMs: 50, backoffBaseMs: 100, backoffMaxMs: 500, leaseMs: 5_000 },
});
process.stdout.write(`READY ${app.url}\n`);
const stop = async () => {
  await app.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
