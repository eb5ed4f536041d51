// The baseline for the RSS benchmark (bench/rss.ts): the smallest app on the same stack, a Bolt App with an
// HTTPReceiver and a postgres.js client, listening. Plain JavaScript, so it runs on `node` with no loader,
// like dist/main.js. GET /readyz answers 200 once the database answers `select 1`.
import bolt from '@slack/bolt';
import postgres from 'postgres';

const { App, HTTPReceiver } = bolt;
const sql = postgres(process.env.DATABASE_URL, { max: 10, onnotice: () => {}, idle_timeout: 30 });
const receiver = new HTTPReceiver({
  signingSecret: 'bench-signing-secret',
  customRoutes: [
    {
      path: '/readyz',
      method: 'GET',
      handler: (_req, res) => {
        sql`select 1`.then(
          () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
          () => res.writeHead(503).end(),
        );
      },
    },
  ],
});
// botId and botUserId: Bolt skips auth.test at construction, so no Slack is needed.
const app = new App({ token: 'xoxb-bench', botId: 'B0BENCH', botUserId: 'U0BENCH', receiver });
app.action(/.*/, async ({ ack }) => ack());

const server = await receiver.start(Number(process.env.PORT ?? 0));
const address = server.address();
process.stdout.write(`{"url":"http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}"}\n`);
process.once('SIGTERM', async () => {
  await receiver.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
});
