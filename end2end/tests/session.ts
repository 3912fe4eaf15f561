import { expect, Page, Browser } from '@playwright/test';

export async function waitForHydration(page: Page) {
  // The front end marks the document once it has taken over from the server-rendered HTML, or
  // `failed` when it stopped (a panic): a dead page fails at once instead of timing out.
  await page.waitForFunction(() => ['true', 'failed'].includes(document.documentElement.dataset.hydrated ?? ''));
  expect(await page.evaluate(() => document.documentElement.dataset.hydrated), 'the page hydrated').toBe('true');
}

export async function signIn(browser: Browser, who: { email: string; password: string }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  return page;
}
