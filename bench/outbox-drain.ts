import { WebClient } from '@slack/web-api';
import { openPostgres } from '../src/db/client.ts';
import { enqueue } from '../src/db/repositories/outbox.ts';
import { createLogger } from '../src/logger.ts';
import { SlackStandin } from '../src/sandbox/slack-standin.ts';
import { webClientOptions } from '../src/slack/app.ts';
import { outboxMessage } from '../src/delivery/messages.ts';
import { OutboxSender } from '../src/slack/outbox-sender.ts';
import { freshDatabase, type Figure } from './lib.ts';

const CHANNELS = 20;
const PER_CHANNEL = 5;

/** Outbox drain: 20 channels × 5 posts with the production pacing of 1 post/s per channel. */
export async function benchOutboxDrain(): Promise<Figure> {
  const db = await freshDatabase('outbox');
  const database = openPostgres(db.url);
  const slack = new SlackStandin();
  await slack.start();
  try {
    await database.migrate();
    const channels = Array.from({ length: CHANNELS }, (_, i) => `C0BENCH${i}`);
    await enqueue(database.db, channels.flatMap((channel) => Array.from({ length: PER_CHANNEL }, (_, j) => outboxMessage('message', `chan:${channel}`, channel, { text: `post ${j}` }))));
    const sender = new OutboxSender({ database, client: new WebClient('xoxb-bench', webClientOptions(slack.apiUrl)), logger: createLogger('silent', { pretty: false }), render: async () => null, batchSize: 200 });
    const t0 = Date.now();
    sender.start();
    while (slack.callsTo('chat.postMessage').filter((c) => c.status === 200).length < CHANNELS * PER_CHANNEL) await new Promise((r) => setTimeout(r, 50));
    const seconds = (Date.now() - t0) / 1000;
    await sender.stop();
    let minGap = Infinity;
    for (const ch of channels) {
      const at = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === ch && c.status === 200).map((c) => c.at);
      for (let i = 1; i < at.length; i++) minGap = Math.min(minGap, at[i] - at[i - 1]);
    }
    const total = CHANNELS * PER_CHANNEL;
    return {
      figure: `outbox drain, ${CHANNELS} channels × ${PER_CHANNEL} posts`,
      value: `${total} posts in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(1)}/s overall); smallest gap between two posts to one channel ${minGap} ms`,
      baseline: `${PER_CHANNEL} posts per channel at 1/s ⇒ ≥ ${PER_CHANNEL - 1} s; one channel at a time would take ≥ ${total - 1} s`,
      goal: '1 post/s per channel, channels in parallel',
      met: minGap >= 950 && seconds < total / 2,
    };
  } finally {
    await database.close();
    await slack.stop();
    await db.drop();
  }
}
