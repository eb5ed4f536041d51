import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChangeInput } from '../factories/change.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase } from '../support/db.ts';
import { press, startSlackHarness, waitFor, waitForCard, type SlackHarness, workspaceUsers } from '../support/slack.ts';

describe('an author known only by email', () => {
  let slack: SlackStandin;
  let h: SlackHarness;
  beforeAll(async () => {
    slack = await startFakeSlack({ usergroups: { S0PAYSENIORS: [] }, users: [...workspaceUsers(), { id: 'U0OUTSIDE', name: 'sam', email: 'sam@example.com' }] });
    h = await startSlackHarness({ database: await createTestDatabase(), slack });
  });
  afterAll(async () => {
    await h?.stop();
    await slack?.stop();
  });

  it('when their change is decided, then the DM finds them with users.lookupByEmail; an unknown email sends nothing and is not retried', async () => {
    const known = (await h.app.api('POST', '/api/changes', buildChangeInput({ author: { email: 'sam@example.com' } }))).body.key as string;
    const unknown = (await h.app.api('POST', '/api/changes', buildChangeInput({ author: { email: 'nobody@example.com' } }))).body.key as string;
    for (const key of [known, unknown]) await press(h, structuredClone(await waitForCard(slack, 'C0PAYSEN', key)), 'Approve', 'U0ALICE');
    const dm = await waitFor(() => slack.dmsTo('U0OUTSIDE')[0], 8_000, 'DM by email');
    expect(dm.text).toContain(`*${known}*`);
    const looked = () => slack.callsTo('users.lookupByEmail').map((c) => c.args.email);
    await waitFor(() => looked().includes('nobody@example.com'), 8_000, 'the unknown email looked up too');
    expect(looked()).toEqual(expect.arrayContaining(['sam@example.com', 'nobody@example.com']));
    await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 8_000, 'nothing left failing');
    expect(slack.dmsTo('U0OUTSIDE')).toHaveLength(1);
  });
});
