import { SlackStandin, type StandinOptions } from '../../src/sandbox/slack-standin.ts';

export * from '../../src/sandbox/slack-standin.ts';

/** A started Slack stand-in on 127.0.0.1 (ephemeral port); point WebClient at `.apiUrl` and `stop()` it after. */
export async function startFakeSlack(opts?: StandinOptions): Promise<SlackStandin> {
  const slack = new SlackStandin(opts);
  await slack.start(0, '127.0.0.1');
  return slack;
}
