import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { admin, operator } from './people';
import { signIn, waitForHydration } from './session';

// Runs after tasks.spec.ts (the application "Acme Shop" and the signature 【Acme商城】 exist).
// The seed's login demo on Herald: an operator writes a verification template, an admin
// approves it, the operator sets the application's verification codes up and logs in with a
// code read from the console's log of codes sent; then a login page outside the console does
// the same with the public key.
test.describe.configure({ mode: 'serial' });

const codeIn = async (page: Page, phone: string): Promise<string> => {
  const row = page.getByRole('table', { name: 'Codes sent' }).locator('tr', { hasText: phone }).first();
  await expect(row.locator('[data-sms]')).toContainText('【Acme商城】您的登录验证码为');
  const text = await row.locator('[data-sms]').textContent();
  return /(\d{6})/.exec(text ?? '')![1];
};

test('an operator writes a verification template and an admin approves it', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/templates/new');
  await waitForHydration(page);
  await page.getByLabel('Name', { exact: true }).fill('Login code');
  await page.getByLabel('SMS type').selectOption({ label: 'Verification code' });
  await page.getByLabel('Content').fill('您的登录验证码为{1}，{2}分钟内有效，请勿泄露。');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByRole('heading', { name: 'Login code' })).toBeVisible();

  const adminPage = await signIn(browser, admin);
  await adminPage.goto('/review');
  await adminPage.locator('tr[data-title="Login code"]').getByRole('link').click();
  await waitForHydration(adminPage);
  await adminPage.getByRole('button', { name: 'Approve' }).click();
  await expect(adminPage).toHaveURL(/\/review$/);
});

test('the operator sets up verification codes and logs in with the demo', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/applications');
  await page.getByRole('link', { name: 'Acme Shop' }).click();
  await expect(page.getByRole('heading', { name: 'Verification codes' })).toBeVisible();
  await waitForHydration(page);
  const template = await page.locator('#verify-template option', { hasText: 'Login code' }).getAttribute('value');
  await page.locator('#verify-template').selectOption(template!);
  await page.locator('#verify-signature').selectOption({ label: 'Acme商城' });
  await page.getByLabel('Valid for (minutes)').fill('10');
  await page.getByRole('button', { name: 'Save verification settings' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();

  const getCode = page.getByRole('form', { name: 'Get a code' });
  await getCode.getByLabel('Mobile number').fill('8613800000077');
  await getCode.getByRole('button', { name: 'Get code' }).click();
  await expect(getCode.locator('[data-verify-code]')).toHaveAttribute('data-verify-code', 'Ok');
  const code = await codeIn(page, '+8613800000077');
  await expect(page.getByRole('table', { name: 'Codes sent' })).toContainText('10分钟内有效');

  const logIn = page.getByRole('form', { name: 'Log in with the code' });
  await logIn.getByLabel('Mobile number').fill('8613800000077');
  await logIn.getByLabel('Code').fill(code === '000000' ? '000001' : '000000');
  await logIn.getByRole('button', { name: 'Log in' }).click();
  await expect(logIn.locator('[data-verify-code]')).toHaveAttribute('data-verify-code', 'CodeIsError');
  await logIn.getByLabel('Code').fill(code);
  await logIn.getByRole('button', { name: 'Log in' }).click();
  await expect(logIn.locator('[data-verify-code]')).toHaveAttribute('data-verify-code', 'Ok');
  await logIn.getByRole('button', { name: 'Log in' }).click();
  await expect(logIn.locator('[data-verify-code]')).toHaveAttribute('data-verify-code', 'CodeHasValid');
});

test('a login page outside the console uses the public key', async ({ browser }) => {
  const console = await signIn(browser, operator);
  await console.goto('/applications');
  await console.getByRole('link', { name: 'Acme Shop' }).click();
  const key = (await console.locator('[data-public-key]').textContent())!.trim();
  expect(key).toMatch(/^pk_[0-9a-f]{32}$/);

  const page = await browser.newPage();
  await page.goto(`/verify-demo.html?key=${key}`);
  await page.getByLabel('Mobile number (country code and number)').fill('8613800000078');
  await page.getByRole('button', { name: 'Get code' }).click();
  await expect(page.locator('#reply')).toHaveAttribute('data-code', 'Ok');

  await console.reload();
  const code = await codeIn(console, '+8613800000078');
  await page.getByLabel('Code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('#reply')).toHaveAttribute('data-code', 'Ok');
  await expect(page.locator('#reply')).toContainText('Logged in.');
});

test('an admin of the organisation account changes the shop’s frequency limits', async ({ browser }) => {
  const page = await signIn(browser, admin);
  await page.goto('/settings');
  // Each section of Settings has an address of its own behind its tab, and Settings stays the
  // current area in the side navigation.
  const tabs = page.getByRole('navigation', { name: 'Settings sections' });
  await expect(tabs.getByRole('link', { name: 'Organisation' })).toHaveAttribute('aria-current', 'page');
  for (const [tab, address, heading] of [
    ['SMS packages', '/settings/packages', 'SMS packages'],
    ['Marketing rules', '/settings/content', 'Marketing hours'],
    ['Carriers', '/settings/carriers', 'Carriers'],
    ['Alarm contacts', '/settings/alarms', 'Alarm contacts'],
    ['Opt-out list', '/settings/opt-outs', 'Opt-out list'],
  ]) {
    await tabs.getByRole('link', { name: tab }).click();
    await expect(page).toHaveURL(new RegExp(`${address}$`));
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    await expect(tabs.getByRole('link', { name: tab })).toHaveAttribute('aria-current', 'page');
    await expect(tabs.getByRole('link', { name: 'Organisation' })).not.toHaveAttribute('aria-current', 'page');
    await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Settings' }))
      .toHaveAttribute('aria-current', 'page');
  }
  await tabs.getByRole('link', { name: 'Frequency limits' }).click();
  const row = page.locator('tr[data-application="Acme Shop"]');
  await expect(row).toContainText('10');
  await row.getByRole('link', { name: 'Change' }).click();
  await waitForHydration(page);
  await page.getByLabel('Messages per number per hour').fill('30');
  await page.getByRole('button', { name: 'Save limits' }).click();
  await expect(page.getByText('An hourly cap above the daily one would never apply; lower it.')).toBeVisible();
  await page.getByLabel('Messages per number per hour').fill('5');
  await page.getByLabel('Messages per number per day').fill('20');
  await page.getByRole('button', { name: 'Save limits' }).click();
  await expect(page.getByText('Limits saved; they apply to the next message.')).toBeVisible();

  const operatorPage = await signIn(browser, operator);
  await operatorPage.goto('/applications');
  await operatorPage.getByRole('link', { name: 'Acme Shop' }).click();
  const limits = operatorPage.locator('dl[aria-label="Frequency limits"]');
  await expect(limits).toContainText('20');
  await expect(limits).toContainText('once per 30 s');
});
