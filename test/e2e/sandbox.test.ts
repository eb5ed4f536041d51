import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadConfigFile } from '../../src/config/load.ts';
import { createTestDatabase } from '../support/db.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { haveChromium, launchChromium, screenshotDir } from '../support/browser.ts';

// In CI a missing browser is a failure (.ci/run installs it); on a laptop without Chromium the test is skipped.
const run = haveChromium() || !!process.env.CI;

describe.runIf(run)('the sandbox in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir('sandbox');

  beforeAll(async () => {
    // The demo organisation, as `npm start` shows it: people have names (Bob Reyes, not U0BOB).
    app = await startTestApp({ database: await createTestDatabase(), config: loadConfigFile(fileURLToPath(new URL('../../countersign.yml', import.meta.url))), env: { COUNTERSIGN_SANDBOX: 'on' } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(app.url + '/');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const who = (id: string) => page.selectOption('#whoami', id);
  const openChannel = (id: string) => page.click(`.channel[data-channel-id="${id}"]`);
  const card = (key: string) => page.locator('#messages .message:not(.ephemeral)', { hasText: `${key} · ` });

  /** Submits a preset from the form; a change that needs sign-off closes the panel and shows its card's channel. */
  async function submitPreset(preset: string, cardChannel = 'C0PAYSEN'): Promise<string> {
    await page.click('#submit-change-open');
    await page.selectOption('#preset', preset);
    await page.click('#fresh-id');
    await page.click('#submit-change');
    await page.locator('#submit-panel').waitFor({ state: 'hidden', timeout: 10_000 });
    const key = /CHG-\d+/.exec((await page.locator('#toast').textContent()) ?? '')?.[0];
    expect(key, 'the toast names the new change').toBeDefined();
    expect(await page.locator('.channel.selected').getAttribute('data-channel-id')).toBe(cardChannel);
    return key!;
  }

  const homeText = async () => (await page.locator('#home').textContent()) ?? '';
  /** The Approve/Reject/Claim buttons under a change's line in the App Home. */
  const homeButton = (key: string, label: string) =>
    page.locator('#home .bk-section', { hasText: new RegExp(`${key}\\b`) }).locator('xpath=following-sibling::div[1]').locator('.bk-btn', { hasText: label });

  it('takes a change from submission to approval, and another through rejection, with no Slack workspace', async () => {
    // The page shows the sandbox notice and the configured channels.
    await expect.poll(() => page.locator('.channel').count()).toBeGreaterThan(3);

    // 1. A junior submits an AI-assisted change from the form.
    await who('U0JUNIOR');
    const key = await submitPreset('ai-junior');

    // 2. The card arrives in the payments seniors' channel.
    await openChannel('C0PAYSEN');
    await expect.poll(() => card(key).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await card(key).textContent()) ?? '').toContain('AI-assisted');
    await page.screenshot({ path: `${shots}1-card.png` });

    // 3. The author presses Approve and is refused.
    await card(key).locator('.bk-btn', { hasText: 'Approve' }).click();
    await expect.poll(async () => (await page.locator('#messages .ephemeral').allTextContents()).join(' '), { timeout: 10_000 }).toContain('you are the author');
    await page.screenshot({ path: `${shots}2-refused.png` });

    // 4. A senior approves; the card turns approved and loses its buttons.
    await who('U0ALICE');
    await openChannel('C0PAYSEN');
    await card(key).locator('.bk-btn', { hasText: 'Approve' }).click();
    await expect.poll(async () => (await card(key).textContent()) ?? '', { timeout: 10_000 }).toContain('Approved by');
    expect(await card(key).locator('.bk-btn').count()).toBe(0);
    expect((await app.api('GET', `/api/changes/${key}/gate`)).status).toBe(200);
    await page.screenshot({ path: `${shots}3-approved.png` });

    // 5. The author has a DM saying so.
    await who('U0JUNIOR');
    await openChannel('DU0JUNIOR');
    await expect.poll(async () => (await page.locator('#messages').textContent()) ?? '', { timeout: 10_000 }).toContain(`${key} Retry payment capture on gateway timeout was signed off`);

    // 6. Another change is rejected through the modal, with a reason.
    const second = await submitPreset('ai-junior');
    await who('U0BOB');
    await openChannel('C0PAYSEN');
    await expect.poll(() => card(second).count(), { timeout: 10_000 }).toBe(1);
    await card(second).locator('.bk-btn', { hasText: 'Reject' }).click();
    await page.locator('#modal').waitFor({ state: 'visible', timeout: 10_000 });
    await page.click('#modal-submit');
    await expect.poll(async () => (await page.locator('#modal').textContent()) ?? '', { timeout: 10_000 }).toContain('Please say why');
    await page.locator('#modal textarea').fill('Retries need an idempotency key <script>alert(1)</script>');
    await page.screenshot({ path: `${shots}4-modal.png` });
    await page.click('#modal-submit');
    await page.locator('#modal').waitFor({ state: 'hidden', timeout: 10_000 });
    await expect.poll(async () => (await card(second).textContent()) ?? '', { timeout: 10_000 }).toContain('Rejected by');
    // The hostile reason is shown as text, never run.
    expect(await card(second).textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('#messages script').count()).toBe(0);

    // 7. /change list answers in the channel, only for me.
    await page.fill('#composer', '/change list');
    await page.press('#composer', 'Enter');
    await expect.poll(async () => (await page.locator('#messages .ephemeral').allTextContents()).join(' '), { timeout: 10_000 }).toMatch(/Nothing is waiting for sign-off|waiting for sign-off/);
    await page.screenshot({ path: `${shots}5-change-list.png` });
  }, 90_000);

  it('follows a submit to its card, signs off from the App Home, and shows names instead of ids', async () => {
    // 1. A junior submits from the form while looking at another channel: the panel closes and the
    //    page shows the payments seniors' channel, where the new card arrives.
    await who('U0JUNIOR');
    await openChannel('C0ESCALATE');
    const key = await submitPreset('ai-junior', 'C0PAYSEN');
    expect(await page.locator('#channel-title').textContent()).toBe('#payments-seniors');
    await expect.poll(() => card(key).count(), { timeout: 10_000 }).toBe(1);

    // 2. A change that needs no sign-off stays in the panel, with a notice saying so.
    await page.click('#submit-change-open');
    await page.selectOption('#preset', 'senior-low-risk');
    await page.click('#fresh-id');
    await page.click('#submit-change');
    await expect.poll(async () => (await page.locator('#submit-result').textContent()) ?? '', { timeout: 10_000 }).toContain('needed no sign-off');
    expect(await page.locator('#submit-result').textContent()).toContain('approved on arrival');
    expect(await page.locator('#submit-panel').isVisible()).toBe(true);
    await page.click('#submit-change-close');

    // 3. A senior opens the Countersign app's Home tab: the change waits for their sign-off.
    await who('U0BOB');
    await openChannel('DU0BOB');
    await page.click('#tab-home');
    await expect.poll(homeText, { timeout: 10_000 }).toContain('Waiting for your sign-off');
    await expect.poll(homeText, { timeout: 10_000 }).toContain(`${key} Retry payment capture`);
    expect(await homeText()).toContain('Your changes');
    expect(await page.locator('#messages').isVisible()).toBe(false);
    await page.screenshot({ path: `${shots}6-home.png` });

    // 4. Approve in the Home: the app re-publishes it without the change, and the card turns approved.
    await homeButton(key, 'Approve').click();
    await expect.poll(homeText, { timeout: 10_000 }).not.toContain(`${key} Retry payment capture`);
    expect(await homeText()).toContain('Waiting for your sign-off');
    expect((await app.api('GET', `/api/changes/${key}/gate`)).status).toBe(200);
    await openChannel('C0PAYSEN');
    await expect.poll(async () => (await card(key).textContent()) ?? '', { timeout: 10_000 }).toContain('Approved by @Bob Reyes');

    // 5. Mentions show people's names, never their ids.
    const mentions = await card(key).locator('.mention').allTextContents();
    expect(mentions).toEqual(expect.arrayContaining(['@Jordan Doe', '@Bob Reyes']));
    expect(await page.locator('#messages').textContent()).not.toMatch(/\bU0[A-Z]+\b/);
    await card(key).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}7-approved-card.png` });

    // 6. The author's Home lists the change as approved; the DM's Messages tab is one click away.
    await who('U0JUNIOR');
    await openChannel('DU0JUNIOR');
    await expect.poll(homeText, { timeout: 10_000 }).toMatch(new RegExp(`${key} Retry payment capture on gateway timeout · ✅ approved`));
    expect(await homeText()).not.toContain('Waiting for your sign-off');
    await page.click('#tab-messages');
    await expect.poll(async () => (await page.locator('#messages').textContent()) ?? '', { timeout: 10_000 }).toContain(`${key} Retry payment capture on gateway timeout was signed off`);
  }, 90_000);

  it('shows a hostile title as text in the page', async () => {
    const res = await app.api('POST', '/api/changes', {
      source: 'e2e', external_id: 'hostile-1', title: 'Fix <!channel> <img src=x onerror=alert(1)> <https://evil.example|docs>',
      service: 'checkout', environment: 'production', author: { github: 'jdoe' }, ai_assisted: true,
    });
    expect(res.status).toBe(201);
    await who('U0ALICE');
    await openChannel('C0PAYSEN');
    await expect.poll(() => card(res.body.key).count(), { timeout: 10_000 }).toBe(1);
    const text = (await card(res.body.key).textContent()) ?? '';
    expect(text).toContain('<!channel>');
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(await card(res.body.key).locator('img').count()).toBe(0);
    expect(await card(res.body.key).locator('a[href^="https://evil"]').count()).toBe(0);
  });
});
