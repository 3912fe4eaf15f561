import { Page } from '@playwright/test';
import { test, expect } from './fixtures';

// One story, in order: a fresh installation is set up, its admin adds an operator and a marketer,
// and each of them sees only what their roles allow.
test.describe.configure({ mode: 'serial' });

import { admin, operator, marketer } from './people';
import { signIn, waitForHydration } from './session';

const everyArea = [
  'Dashboard', 'Signatures', 'Templates', 'Review', 'Bulk SMS', 'Delivery Records',
  'Statistics', 'Applications', 'API reference', 'Settings', 'Users', 'Audit log',
];

async function navigation(page: Page) {
  const links = page.getByRole('navigation', { name: 'Console' }).getByRole('link');
  return (await links.allTextContents()).map((t) => t.replace(/soon$/, '').trim());
}

// The first page a new user sees, loaded again and again (a bookmark, F5): the server sends
// every visit to set-up before rendering, and the page hydrates each time and answers.
test('the first-run set-up page hydrates on 50 direct loads', async ({ page }) => {
  for (let i = 0; i < 50; i++) {
    const response = await page.goto(i % 2 === 0 ? '/' : '/setup');
    expect(response?.status()).toBe(200);
    await expect(page).toHaveURL(/\/setup$/);
    await waitForHydration(page);
  }
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.getByRole('heading', { name: '欢迎使用 Herald' })).toBeVisible();
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome to Herald' })).toBeVisible();
});

test('first run: the console asks for the organisation and its first admin', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await waitForHydration(page);
  await page.getByLabel('Organisation name').fill('Acme Retail');
  await page.getByLabel('Verified organisation').check();
  await page.getByLabel('E-mail').fill(admin.email);
  await page.getByLabel('Name', { exact: true }).fill('Ada Admin');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Repeat password').fill('different');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page.getByText('Use at least 10 characters.')).toBeVisible();
  await expect(page.getByText('The passwords do not match.')).toBeVisible();

  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByLabel('Repeat password').fill(admin.password);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('.topbar .org')).toHaveText('Acme Retail');

  // The new admin's dashboard says what the first message needs, nothing of it done yet.
  const checklist = page.locator('[data-getting-started]');
  await expect(checklist.getByRole('heading', { name: 'Getting started' })).toBeVisible();
  await expect(checklist.locator('li')).toHaveCount(5);
  await expect(checklist.locator('li[data-done="true"]')).toHaveCount(0);
  await expect(checklist.getByRole('link', { name: 'Add an SMS package' })).toHaveAttribute('href', '/settings/packages');
});

test('the admin creates an operator and a marketer', async ({ browser }) => {
  const page = await signIn(browser, admin);
  expect(await navigation(page)).toEqual(['Dashboard', 'Review', 'Settings', 'Users', 'Audit log']);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();

  for (const [who, role] of [[operator, 'Operator'], [marketer, 'Marketer']] as const) {
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Create user' }) });
    await form.getByLabel('E-mail').fill(who.email);
    await form.getByLabel('Name').fill(who.name);
    await form.getByLabel('Initial password').fill(who.password);
    await form.getByLabel(role).check();
    await form.getByRole('button', { name: 'Create user' }).click();
    await expect(page.locator(`tr[data-email="${who.email}"]`)).toBeVisible();
  }
  await expect(page.locator(`tr[data-email="${operator.email}"]`)).toContainText('Active');

  // Someone now holds each role the first message needs: the checklist ticks that step.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Dashboard' }).click();
  const roles = page.locator('[data-getting-started] li', { hasText: 'Operator and Marketer roles' });
  await expect(roles).toHaveAttribute('data-done', 'true');
  await expect(page.locator('[data-getting-started] li[data-done="true"]')).toHaveCount(1);

  // The audit log shows who did it.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.locator('table.audit tbody tr').first()).toContainText('user.create');
  await expect(page.locator('table.audit tbody tr').first()).toContainText(admin.email);
});

test('an operator sees only the operator areas and is refused admin pages', async ({ browser, browserProblems }) => {
  browserProblems.refusalOf('/users');
  const page = await signIn(browser, operator);
  expect(await navigation(page)).toEqual(['Dashboard', 'Signatures', 'Templates', 'Statistics', 'Applications', 'API reference']);
  const response = await page.goto('/users');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'No access' })).toBeVisible();
  await expect(page.getByText(admin.email)).toHaveCount(0);

  // Calling the admin's server function directly is refused by the server itself.
  const direct = await page.request.post('/api/list_users', { form: {} });
  expect(direct.status()).toBe(403);
  const create = await page.request.post('/api/create_user', {
    form: { email: 'intruder@acme.example', display_name: 'Intruder', password: 'intruder password', role_admin: 'on' },
  });
  expect(create.status()).toBe(403);
});

test('a marketer sees only the marketing areas', async ({ browser, browserProblems }) => {
  browserProblems.refusalOf('/audit');
  const page = await signIn(browser, marketer);
  expect(await navigation(page)).toEqual(['Dashboard', 'Bulk SMS', 'Delivery Records', 'Statistics']);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Bulk SMS' }).click();
  await expect(page.getByRole('heading', { name: 'Create a bulk SMS task' })).toBeVisible();
  const response = await page.goto('/audit');
  expect(response?.status()).toBe(403);
  for (const area of everyArea) {
    if (!['Dashboard', 'Bulk SMS', 'Delivery Records', 'Statistics'].includes(area)) {
      await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: area, exact: true })).toHaveCount(0);
    }
  }
});

test('a wrong password gets one generic message, for known and unknown accounts alike', async ({ page }) => {
  await page.goto('/login');
  await waitForHydration(page);
  for (const email of [operator.email, 'nobody@acme.example']) {
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill('not my password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Incorrect e-mail or password.');
  }
});

test('signing out ends the session', async ({ browser }) => {
  const page = await signIn(browser, marketer);
  await page.locator('.user-menu summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  const direct = await page.request.post('/api/get_session', { form: {} });
  expect(await direct.json()).toBe('SignedOut');
});

test.describe('before the front end has loaded', () => {
  test.use({ javaScriptEnabled: false });

  test('pages read and forms submit as plain HTML', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('E-mail').fill(admin.email);
    await page.getByLabel('Password').fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Incorrect e-mail or password.')).toBeVisible();

    await page.getByLabel('E-mail').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
    await page.goto('/users');
    await expect(page.locator(`tr[data-email="${operator.email}"]`)).toBeVisible();
  });
});
