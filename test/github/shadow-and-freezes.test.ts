import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { watchFreezes } from '../../src/use-cases/watch-freezes.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { deliver, protectionRuleEvent, pullRequestEvent, WEBHOOK_SECRET } from '../factories/github.ts';
import { fakeClock, ONCALL_TOKEN } from '../support/app.ts';
import { truncateAll } from '../support/db.ts';
import { useFakeGitHub } from '../support/github.ts';
import { cardsFor, press, startSlackHarness, textOf, waitFor, waitForCard, type SlackHarness } from '../support/slack.ts';

/**
 * Rolling the gate out: shadow mode (everything happens, the gate never blocks) and freeze windows
 * (the gate answers 403 frozen, GitHub deployments are held until the freeze ends), end to end over
 * real HTTP: the API, signed Slack requests to the fake Slack, signed webhooks and the real Octokit
 * against the fake GitHub. The clock is the app's injected clock.
 */

const REPO = 'acme/shop';
const INSTALLATION = 4242;
const PAY = 'C0PAYSEN';
const PLAT = 'C0PLATSEN';
const ESCALATE = 'C0ESCALATE';
const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';


const world = useFakeGitHub({ installation: INSTALLATION, repo: REPO });
const { keys } = world;

const githubEnv = () => ({ GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GITHUB_APP_ID: '123', GITHUB_APP_PRIVATE_KEY: keys.privateKeyPem, GITHUB_API_URL: world.gh.baseUrl });

/** One harness per describe: each has its own config (shadow teams, freezes) and clock. */
function harness(config: Record<string, unknown>, clock = fakeClock()) {
  const ctx = { h: undefined as unknown as SlackHarness, clock };
  beforeAll(async () => {
    ctx.h = await startSlackHarness({ database: world.db, clock, keepDatabase: true, config: buildConfig({ github: { repos: [{ repo: REPO, service: 'checkout' }] }, ...config }), env: githubEnv() });
  });
  afterAll(async () => {
    await ctx.h?.stop();
  });
  beforeEach(async () => {
    await waitFor(async () => (await ctx.h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
    await truncateAll(world.db);
    world.gh.reset();
    ctx.h.slack.reset();
  });
  return ctx;
}

const register = async (h: SlackHarness, overrides: Record<string, unknown> = {}) => {
  const res = await h.app.api('POST', '/api/changes', buildChangeInput(overrides));
  expect(res.status).toBe(201);
  return res.body as { key: string; status: string };
};
/** A senior's change with no AI involvement: the policy needs no sign-off. */
const lowRisk = { author: { github: 'alice' }, ai_assisted: false, ai_tool: undefined, diff: { files_changed: 1, additions: 3, deletions: 1, paths: ['README.md'] } };

function seedPullRequest(number: number, files: string[], sha = SHA1) {
  world.gh.setPullRequest(REPO, number, {
    files: files.map((filename) => ({ filename, additions: 10, deletions: 2 })),
    commits: [{ message: 'Tighten session checks\n\nAssisted-by: Claude <noreply@anthropic.com>', sha }],
    pr: { head_sha: sha, user: 'alice' },
  });
}

describe('shadow mode', () => {
  // Payments is in shadow mode; platform is enforced (the top-level default).
  const ctx = harness({
    teams: [
      { name: 'payments', channel: PAY, seniors: ['U0ALICE', 'U0BOB'], seniors_usergroup: 'S0PAYSENIORS', enforcement: 'shadow' },
      { name: 'platform', channel: PLAT, seniors: ['U0CAROL', 'U0DAVE'] },
      { name: 'search', seniors: ['U0ERIN'] },
    ],
  });

  it('when a risky change of a shadow team arrives, then its card is posted as usual, says shadow mode first, and the gate answers 200 with would_allow false', async () => {
    const { h } = ctx;
    const change = await register(h);
    expect(change.status).toBe('pending');
    const card = await waitForCard(h.slack, PAY, change.key);
    expect(textOf({ blocks: [card.blocks![0]] })).toContain('Shadow mode: not blocking deploys yet');
    const gate = await h.app.api('GET', `/api/changes/${change.key}/gate`);
    expect(gate.status).toBe(200);
    expect(gate.body).toMatchObject({ key: change.key, status: 'pending', allowed: true, enforced: false, would_allow: false });

    // Sign-off still works and is recorded; then enforce mode would allow it too.
    await press(h, card, 'Approve', 'U0BOB');
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${change.key}/gate`)).body.would_allow === true, 5_000, 'would allow after sign-off');
  });

  it('when a change of an enforced team asks the gate, then it answers as before, with enforced true and would_allow equal to allowed', async () => {
    const { h } = ctx;
    const change = await register(h, { service: 'infra' });
    const gate = await h.app.api('GET', `/api/changes/${change.key}/gate`);
    expect(gate.status).toBe(202);
    expect(gate.body).toMatchObject({ allowed: false, enforced: true, would_allow: false });
    expect(textOf(await waitForCard(h.slack, PLAT, change.key))).not.toContain('Shadow mode');
  });

  it('when a shadow change is deployed before sign-off, then no ungated alert goes out, and stats count it as a deploy the gate would have blocked', async () => {
    const { h } = ctx;
    const waiting = await register(h);
    await register(h, lowRisk);
    const deployed = await h.app.api('POST', `/api/changes/${waiting.key}/deployments`, { environment: 'production', status: 'succeeded' });
    expect(deployed.status).toBe(201);
    await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
    expect(h.slack.messagesIn(ESCALATE).filter((m) => textOf(m).includes('without sign-off'))).toHaveLength(0);

    const stats = await h.app.api('GET', '/api/stats?days=7');
    expect(stats.body.shadow).toEqual({ changes: 2, would_have_waited: 1, would_have_blocked_deploys: 1 });
    expect(stats.body.deployments).toMatchObject({ total: 1, ungated: 1 });
    const reply = await h.slack.sendCommand(h.events, { command: '/change', text: 'stats 7', user_id: 'U0ALICE', channel_id: PAY });
    expect(textOf(JSON.parse(reply.body))).toContain('*Shadow mode:* 2 changes · 1 would have waited for sign-off · 1 deploy would have been blocked');
  });

  it('when a shadow team’s pull request needs sign-off, then the check run completes neutral with the shadow title, and a deployment protection rule is approved saying it would have waited', async () => {
    const { h } = ctx;
    seedPullRequest(21, ['src/auth/session.ts']);
    const opened = await deliver(h.app.url, 'pull_request', pullRequestEvent('opened', { number: 21, login: 'alice', labels: [], sha: SHA1, installation: INSTALLATION }));
    expect(opened.status).toBe(201);
    const key = opened.body.change;
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}`)).body.risk.level === 'high', 10_000, 'read and decided');
    const run = await waitFor(() => world.gh.checkRuns(REPO).find((r) => r.conclusion === 'neutral'), 10_000, 'neutral check run');
    expect(run.output.title).toBe('Shadow mode: would wait for sign-off');
    expect(run.output.summary).toContain('Waiting for senior sign-off');

    const rule = await deliver(h.app.url, 'deployment_protection_rule', protectionRuleEvent({ sha: SHA1, callbackUrl: world.gh.deploymentCallbackUrl(REPO, 301), installation: INSTALLATION, pullRequests: [21] }));
    expect(rule.body).toMatchObject({ outcome: 'approved', change: key });
    const [answer] = await waitFor(() => world.gh.protectionRuleAnswers(REPO).filter((a) => a.runId === 301).length === 1 && world.gh.protectionRuleAnswers(REPO).filter((a) => a.runId === 301), 10_000, 'answer');
    expect(answer).toMatchObject({ state: 'approved', comment: `Shadow mode: ${key} would have waited for sign-off; Countersign is not blocking deploys yet` });
  });
});

describe('freeze windows', () => {
  const FROM = '2026-11-02T12:00:00Z';
  const UNTIL = '2026-11-02T14:00:00Z';
  const clock = fakeClock(new Date('2026-11-02T10:00:00Z'));
  const ctx = harness(
    {
      freezes: [
        { name: 'black-friday', reason: 'peak traffic: <!channel> stays out', environments: ['production'], services: ['checkout', 'payments-api'], from: FROM, to: UNTIL },
        { name: 'weekend', reason: 'nobody on call', environments: ['production'], cron: '0 18 * * 5', duration: '62h', timezone: 'Europe/Berlin' },
      ],
      break_glass: { allowed: ['U0CAROL'], review_within: '24h' },
    },
    clock,
  );
  beforeEach(() => clock.set(new Date('2026-11-02T10:00:00Z')));
  const gate = (key: string) => ctx.h.app.api('GET', `/api/changes/${key}/gate`);

  it('when a freeze holds, then the gate answers 403 frozen for an approved change from its first second to its last, and opens at its end', async () => {
    const { h } = ctx;
    const change = await register(h, lowRisk);
    expect(change.status).toBe('approved');
    clock.set(new Date('2026-11-02T11:59:59Z'));
    expect((await gate(change.key)).status).toBe(200);
    clock.set(new Date(FROM));
    const frozen = await gate(change.key);
    expect(frozen.status).toBe(403);
    expect(frozen.body).toMatchObject({ error: 'frozen', key: change.key, status: 'approved', allowed: false, enforced: true, would_allow: false, freeze: { name: 'black-friday', reason: 'peak traffic: <!channel> stays out', until: '2026-11-02T14:00:00.000Z' } });
    expect(frozen.body.message).toContain('break-glass');
    clock.set(new Date('2026-11-02T13:59:59Z'));
    expect((await gate(change.key)).status).toBe(403);
    clock.set(new Date(UNTIL));
    expect((await gate(change.key)).body).toMatchObject({ allowed: true, enforced: true, would_allow: true });
  });

  it('when a freeze holds, then other environments and services are not frozen, and break-glass opens the gate (audited)', async () => {
    const { h } = ctx;
    clock.set(new Date('2026-11-02T13:00:00Z'));
    const staging = await register(h, { ...lowRisk, environment: 'staging' });
    const search = await register(h, { ...lowRisk, service: 'search-api' });
    expect((await gate(staging.key)).status).toBe(200);
    expect((await gate(search.key)).status).toBe(200);

    const pending = await register(h);
    expect((await gate(pending.key)).body).toMatchObject({ error: 'frozen', status: 'pending' });
    const glass = await h.app.api('POST', `/api/changes/${pending.key}/breakglass`, { by: 'U0CAROL', reason: 'fixing the outage' }, { authorization: `Bearer ${ONCALL_TOKEN}` });
    expect(glass.status).toBe(200);
    expect((await gate(pending.key)).body).toMatchObject({ status: 'approved_breakglass', allowed: true });
    const history = (await h.app.api('GET', `/api/changes/${pending.key}`)).body.history;
    expect(history.find((e: { action: string }) => e.action === 'break_glass')).toMatchObject({ actor: 'U0CAROL', via: 'token:oncall' });
  });

  it('when a freeze starts and ends, then the escalation channel is told once each, even when the watcher runs on two replicas at once, and the waiting card shows the freeze meanwhile', async () => {
    const { h } = ctx;
    const waiting = await register(h);
    const card = await waitForCard(h.slack, PAY, waiting.key);
    expect(textOf(card)).not.toContain('Freeze:');

    clock.set(new Date(FROM));
    const passes = await Promise.all([watchFreezes(h.app.deps), watchFreezes(h.app.deps), watchFreezes(h.app.deps)]);
    expect(passes.flatMap((p) => p.started)).toEqual([`black-friday@2026-11-02T12:00:00.000Z`]);
    await watchFreezes(h.app.deps);
    const notices = () => h.slack.messagesIn(ESCALATE).filter((m) => textOf(m).includes('black-friday'));
    const started = await waitFor(() => notices().length > 0 && notices(), 10_000, 'start notice');
    await waitFor(() => textOf(cardsFor(h.slack, PAY, waiting.key)[0]).includes('Freeze: black-friday until'), 10_000, 'card shows the freeze');
    expect(started).toHaveLength(1);
    expect(textOf(started[0])).toContain('Freeze *black-friday* started');
    // The reason is escaped wherever it is shown.
    expect(textOf(cardsFor(h.slack, PAY, waiting.key)[0])).toContain('&lt;!channel&gt;');

    clock.set(new Date(UNTIL));
    const ends = await Promise.all([watchFreezes(h.app.deps), watchFreezes(h.app.deps)]);
    expect(ends.flatMap((p) => p.ended)).toEqual([`black-friday@2026-11-02T12:00:00.000Z`]);
    await waitFor(() => h.slack.messagesIn(ESCALATE).some((m) => textOf(m).includes('Freeze *black-friday* ended')), 10_000, 'end notice');
    await waitFor(() => !textOf(cardsFor(h.slack, PAY, waiting.key)[0]).includes('Freeze:'), 10_000, 'card without the freeze');
    await watchFreezes(h.app.deps);
    await waitFor(async () => (await h.app.api('GET', '/api/outbox/stats')).body.pending === 0, 10_000, 'outbox drained');
    expect(notices()).toHaveLength(2);
  });

  it('when a GitHub deployment of an approved change is requested during a freeze, then it is held and approved exactly once when the freeze ends; a rejected change’s is rejected at once', async () => {
    const { h } = ctx;
    const answers = (run: number) => world.gh.protectionRuleAnswers(REPO).filter((a) => a.runId === run);
    world.gh.setPullRequest(REPO, 31, { files: [{ filename: 'README.md', additions: 1, deletions: 0 }], commits: [{ message: 'Typo', sha: SHA1 }], pr: { head_sha: SHA1, user: 'alice' } });
    const key = (await deliver(h.app.url, 'pull_request', pullRequestEvent('opened', { number: 31, login: 'alice', labels: [], sha: SHA1, installation: INSTALLATION }))).body.change;
    await waitFor(async () => (await h.app.api('GET', `/api/changes/${key}`)).body.status === 'approved', 10_000, 'approved on read');

    clock.set(new Date('2026-11-02T12:30:00Z'));
    const held = await deliver(h.app.url, 'deployment_protection_rule', protectionRuleEvent({ sha: SHA1, callbackUrl: world.gh.deploymentCallbackUrl(REPO, 401), installation: INSTALLATION, pullRequests: [31] }));
    expect(held.body).toMatchObject({ outcome: 'held', change: key });
    await watchFreezes(h.app.deps);
    await new Promise((r) => setTimeout(r, 300));
    expect(answers(401)).toHaveLength(0);

    clock.set(new Date(UNTIL));
    const [a, b] = await Promise.all([watchFreezes(h.app.deps), watchFreezes(h.app.deps)]);
    expect(a.answered + b.answered).toBe(1);
    const [answer] = await waitFor(() => answers(401).length === 1 && answers(401), 10_000, 'answered when the freeze ended');
    expect(answer).toMatchObject({ state: 'approved', comment: `${key} needs no sign-off` });
    await watchFreezes(h.app.deps);
    await new Promise((r) => setTimeout(r, 300));
    expect(answers(401)).toHaveLength(1);

    // Another freeze period: a waiting change's deployment is held, then rejected as soon as a senior rejects it.
    clock.set(new Date('2026-11-06T18:00:00Z'));
    seedPullRequest(32, ['src/auth/session.ts'], SHA2);
    const risky = (await deliver(h.app.url, 'pull_request', pullRequestEvent('opened', { number: 32, login: 'alice', labels: [], sha: SHA2, installation: INSTALLATION }))).body.change;
    const card = await waitForCard(h.slack, PAY, risky);
    expect((await deliver(h.app.url, 'deployment_protection_rule', protectionRuleEvent({ sha: SHA2, callbackUrl: world.gh.deploymentCallbackUrl(REPO, 402), installation: INSTALLATION, pullRequests: [32] }))).body.outcome).toBe('held');
    await press(h, card, 'Reject', 'U0BOB');
    const modal = await waitFor(() => h.slack.views.find((v) => !v.closed), 5_000, 'reject modal');
    await h.slack.sendViewSubmission(h.events, { user_id: 'U0BOB', view: { callback_id: String(modal.view.callback_id), private_metadata: String(modal.view.private_metadata), state: { values: { reject_reason: { reason: { type: 'plain_text_input', value: 'unsafe' } } } } } });
    const [rejected] = await waitFor(() => answers(402).length === 1 && answers(402), 10_000, 'rejected during the freeze');
    expect(rejected).toMatchObject({ state: 'rejected', comment: expect.stringContaining('rejected by U0BOB: unsafe') });
  });

  it('when a recurring freeze is configured, then GET /api/freezes and /change freezes list the active one and those starting in the next 30 days', async () => {
    const { h } = ctx;
    clock.set(new Date('2026-11-02T13:00:00Z'));
    const res = await h.app.api('GET', '/api/freezes');
    expect(res.status).toBe(200);
    expect(res.body.active).toEqual([{ name: 'black-friday', reason: 'peak traffic: <!channel> stays out', until: '2026-11-02T14:00:00.000Z', from: '2026-11-02T12:00:00.000Z', active: true, environments: ['production'], services: ['checkout', 'payments-api'] }]);
    // Fridays 18:00 in Berlin (17:00 UTC in November) for 62 hours: four within the next 30 days.
    expect(res.body.upcoming.map((p: { from: string; until: string }) => [p.from, p.until])).toEqual([
      ['2026-11-06T17:00:00.000Z', '2026-11-09T07:00:00.000Z'],
      ['2026-11-13T17:00:00.000Z', '2026-11-16T07:00:00.000Z'],
      ['2026-11-20T17:00:00.000Z', '2026-11-23T07:00:00.000Z'],
      ['2026-11-27T17:00:00.000Z', '2026-11-30T07:00:00.000Z'],
    ]);
    const reply = await h.slack.sendCommand(h.events, { command: '/change', text: 'freezes', user_id: 'U0ALICE', channel_id: PAY });
    const text = textOf(JSON.parse(reply.body));
    expect(text).toContain('*black-friday* until');
    expect(text).toContain('upcoming *weekend* from');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
  });
});
