import { test, expect } from './fixtures';
import { admin, operator } from './people';
import { signIn, waitForHydration } from './session';

// The console in Chinese: the operator switches language and writes a template (the choice is
// remembered, in the browser and in the account); an admin whose browser asks for Chinese reviews
// it in Chinese; the operator, signing in from another browser, finds the console in Chinese and
// the review's notification written in it.
test.describe.configure({ mode: 'serial' });

test('the operator switches to Chinese and writes a template', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await waitForHydration(page);
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.getByRole('heading', { name: '概览' })).toBeVisible();
  await expect(page.getByText('签名、正文模板、应用、API 密钥、业务统计')).toBeVisible();
  const nav = page.getByRole('navigation', { name: '控制台' });
  await nav.getByRole('link', { name: '正文模板' }).click();
  await expect(page.getByRole('heading', { name: '正文模板' })).toBeVisible();

  // Remembered: the next page load is in Chinese from the server on.
  await page.reload();
  await expect(page.getByRole('heading', { name: '正文模板' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');

  await page.getByRole('link', { name: '创建正文模板' }).click();
  await waitForHydration(page);
  // The server's refusal reads in Chinese too.
  await page.getByLabel('模板名称').fill('促销');
  await page.getByLabel('短信类型').selectOption({ label: '营销短信' });
  await page.getByLabel('模板内容').fill('全场五折，欢迎光临。');
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.locator('.field-error').first()).toContainText('营销短信模板');
  await expect(page.locator('.alert-error')).toHaveText('请更正标出的字段。');

  await page.getByLabel('模板名称').fill('发货通知');
  await page.getByLabel('短信类型').selectOption({ label: '通知短信' });
  await page.getByLabel('模板内容').fill('您的订单{1}已发货，请注意查收。');
  await expect(page.locator('.preview .rules-ok')).toHaveText('符合全部规则。');
  await expect(page.locator('.preview .segments')).toHaveText('1 条计费短信');
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.getByRole('heading', { name: '发货通知' })).toBeVisible();
});

test('an admin whose browser asks for Chinese reviews it in Chinese', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: '登录 Herald' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('邮箱').fill(admin.email);
  await page.getByLabel('密码').fill(admin.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('navigation', { name: '控制台' }).getByRole('link', { name: '审核' }).click();
  await expect(page.getByRole('heading', { name: '审核' })).toBeVisible();
  const row = page.locator('tr[data-title="发货通知"]');
  await expect(row).toContainText('正文模板');
  await row.getByRole('link').click();

  await expect(page.getByRole('heading', { name: '审核正文模板' })).toBeVisible();
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText('模板名称');
  await expect(facts).toContainText('通知短信');
  await expect(facts.locator('.status')).toHaveText(/待审核/);
  await expect(page.getByLabel('驳回原因')).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: '通过' }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByText('暂无待审核的申请。')).toBeVisible();

  // Back to English with one click; nothing else changes.
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
});

test('the operator signs in from another browser and the console is in Chinese', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in to Herald' })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel('E-mail').fill(operator.email);
  await page.getByLabel('Password').fill(operator.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: '概览' })).toBeVisible();
  await page.goto('/notifications');
  await expect(page.getByText('正文模板“发货通知”已通过审核')).toBeVisible();

  // Back to English, for this account too.
  await waitForHydration(page);
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Notifications' })).toBeVisible();

  // Marking them read empties the bell at once, without leaving the page.
  await expect(page.locator('.bell .count')).toBeVisible();
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(page.locator('ul.notifications li.unread')).toHaveCount(0);
  await expect(page.locator('.bell .count')).toHaveCount(0);
});
