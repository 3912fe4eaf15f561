import { Browser, BrowserContext, Page } from '@playwright/test';
import { ChildProcess } from 'node:child_process';
import { test, expect } from './fixtures';
import { addGateway } from './gateway';
import { admin, operator, marketer } from './people';
import { signIn, waitForHydration } from './session';

// Every console page loaded directly (a bookmark, F5), as a user would, in both languages, while
// a greeting is going out: each must come from the server and hydrate without an error (the
// fixture fails the test on any the browser reports), then answer a click. The pages most often
// reloaded while waiting — a sending task's, an application's, the dashboard — fifty times each.
test.describe.configure({ mode: 'serial' });

let gateway: ChildProcess | undefined;
test.afterAll(() => gateway?.kill());

const LOADS = 50;

/// Loads `path` directly and checks the page took over from the server's HTML: hydrated, and a
/// client-side link in the navigation works.
async function loadDirectly(page: Page, path: string, clickThrough = false) {
  const response = await page.goto(path);
  expect(response?.status(), `${path} answers`).toBeLessThan(400);
  await waitForHydration(page);
  if (clickThrough) {
    // Somewhere else through the navigation, and back: the router answers.
    const links = page.getByRole('navigation', { name: /Console|控制台/ }).getByRole('link');
    const hrefs = await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')));
    const elsewhere = hrefs.findIndex((href) => href !== path);
    await links.nth(elsewhere).click();
    await expect(page).toHaveURL((url) => url.pathname === hrefs[elsewhere]);
    await page.goBack();
    await expect(page).toHaveURL((url) => url.pathname === path);
  }
}

async function inChinese(page: Page) {
  const context: BrowserContext = page.context();
  await context.addCookies([{ name: 'i18n_pref_locale', value: 'zh-CN', url: page.url() }]);
}

async function firstLinkTo(page: Page, list: string, pattern: RegExp): Promise<string> {
  await page.goto(list);
  const hrefs = await page.locator('main a[href]').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  const href = hrefs.find((h) => pattern.test(h));
  expect(href, `a link on ${list} matching ${pattern}`).toBeTruthy();
  return href!;
}

/// A greeting to `recipients` members through the slow gateway, started now; its page's path.
async function startSlowTask(browser: Browser, recipients: number): Promise<string> {
  const page = await signIn(browser, marketer);
  await page.goto('/bulk');
  await waitForHydration(page);
  const template = await page.locator('#bulk-template option', { hasText: 'Spring sale' }).getAttribute('value');
  await page.locator('#bulk-template').selectOption(template!);
  const rows = ['Mobile number,SMS content variable 1 ({1})'];
  for (let i = 0; i < recipients; i++) rows.push(`1370000${String(i).padStart(4, '0')},会员${i}`);
  await page.setInputFiles('#bulk-file', { name: 'slow-members.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
  await page.getByRole('button', { name: 'Upload and check' }).click();
  const confirm = page.getByRole('region', { name: 'Confirm and send' });
  await expect(confirm.locator('[data-figure="recipients"]')).toHaveText(recipients.toLocaleString('en'));
  await waitForHydration(page);
  await page.getByLabel('Task name').fill('Slow greeting');
  await page.locator('#field-carrier_id').selectOption({ label: 'Slow gateway (http)' });
  await page.getByLabel(/I confirm sending to/).check();
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page.getByRole('heading', { name: 'Slow greeting' })).toBeVisible();
  return new URL(page.url()).pathname;
}

let taskPath = '';

test('while a greeting goes out, every console page loads directly in both languages', async ({ browser }) => {
  test.setTimeout(300_000);
  const adminPage = await signIn(browser, admin);
  // Four messages a second: the task is still sending while the pages are walked.
  ({ carrier: gateway } = await addGateway(adminPage, {
    name: 'Slow gateway', rateLimit: 4, simulatorArgs: ['--delivery-rate', '0.9', '--seed', '7'],
  }));
  taskPath = await startSlowTask(browser, 900);

  const operatorPage = await signIn(browser, operator);
  const marketerPage = await signIn(browser, marketer);
  const walks: [Page, string[]][] = [
    [adminPage, [
      '/', '/account', '/users', '/settings', '/settings/packages', '/settings/content', '/settings/carriers',
      '/settings/alarms', '/settings/opt-outs', '/settings/limits', '/audit', '/notifications', '/review',
      await firstLinkTo(adminPage, '/settings/limits', /^\/settings\/limits\/\d+$/),
    ]],
    [operatorPage, [
      '/signatures', '/signatures/new', '/templates', '/templates/new', '/applications', '/statistics',
      '/api-reference',
      await firstLinkTo(operatorPage, '/signatures', /^\/signatures\/\d+$/),
      await firstLinkTo(operatorPage, '/templates', /^\/templates\/\d+$/),
      await firstLinkTo(operatorPage, '/applications', /^\/applications\/\d+$/),
    ]],
    [marketerPage, ['/bulk', '/records', taskPath, '/statistics']],
  ];
  for (const chinese of [false, true]) {
    for (const [page, paths] of walks) {
      if (chinese) await inChinese(page);
      for (const path of paths) await loadDirectly(page, path, true);
    }
  }
  await marketerPage.goto(taskPath);
  await expect(marketerPage.locator('[data-status]').first()).toHaveAttribute('data-status', 'sending');
});

test(`a sending task's page hydrates on ${LOADS} direct loads, and after it completed`, async ({ browser }) => {
  test.setTimeout(600_000);
  const page = await signIn(browser, marketer);
  for (let i = 0; i < LOADS; i++) await loadDirectly(page, taskPath, i % 10 === 0);
  await page.goto(taskPath);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'sending');

  // The page follows the task by itself to its end.
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'completed', { timeout: 240_000 });
  for (let i = 0; i < 5; i++) await loadDirectly(page, taskPath, i === 0);
  await expect(page.locator('.progress span').first()).toContainText('Done');
});

test(`the dashboard and an application's page hydrate on ${LOADS} direct loads each`, async ({ browser }) => {
  test.setTimeout(300_000);
  const adminPage = await signIn(browser, admin);
  for (let i = 0; i < LOADS; i++) await loadDirectly(adminPage, '/', i % 10 === 0);
  const operatorPage = await signIn(browser, operator);
  const application = await firstLinkTo(operatorPage, '/applications', /^\/applications\/\d+$/);
  for (let i = 0; i < LOADS; i++) await loadDirectly(operatorPage, application, i % 10 === 0);
});
