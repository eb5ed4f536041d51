import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
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
    app = await startTestApp({ database: await createTestDatabase(), env: { COUNTERSIGN_SANDBOX: 'on' } });
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

  async function submitPreset(preset: string): Promise<string> {
    await page.click('#submit-change-open');
    await page.selectOption('#preset', preset);
    await page.click('#fresh-id');
    const result = page.locator('#submit-result');
    const before = (await result.textContent()) ?? '';
    await page.click('#submit-change');
    await expect.poll(async () => { const t = (await result.textContent()) ?? ''; return t !== before && /CHG-\d+/.test(t) ? t : ''; }, { timeout: 10_000 }).toMatch(/CHG-\d+/);
    const key = /CHG-\d+/.exec((await result.textContent())!)![0];
    await page.click('#submit-change-close');
    return key;
  }

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
