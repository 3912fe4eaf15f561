import { test, expect } from '@playwright/test';
import { admin, operator, marketer } from './people';
import { signIn, waitForHydration } from './session';

// Runs after review.spec.ts: the signature 【Acme商城】 and the marketing template "Spring sale"
// are approved. An operator registers the shop's application, an admin buys SMS units, and a
// marketer sends the Spring Festival greeting to a small member list: downloads the standard
// template, fills it (one bad number, one duplicate), reads the report, confirms the fee,
// schedules for tomorrow 10:00:00 China time, then cancels and gets the units back.
test.describe.configure({ mode: 'serial' });

function tomorrowInShanghai(): string {
  const now = new Date(Date.now() + 24 * 3600 * 1000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

test('an operator registers the application and an admin adds SMS units', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/applications');
  await waitForHydration(page);
  await page.getByLabel('Name', { exact: true }).fill('Acme Shop');
  await page.getByRole('button', { name: 'Create application' }).click();
  await expect(page.getByText('Acme Shop').first()).toBeVisible();

  const adminPage = await signIn(browser, admin);
  await adminPage.goto('/settings');
  await waitForHydration(adminPage);
  await adminPage.getByLabel('Units (one per billable segment)').fill('1000');
  await adminPage.getByRole('button', { name: 'Add package' }).click();
  await expect(adminPage.locator('[data-available="1000"]')).toBeVisible();
});

test('a marketer uploads the member list, confirms the fee and schedules the task', async ({ browser }) => {
  const page = await signIn(browser, marketer);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Bulk SMS' }).click();
  await expect(page.getByRole('heading', { name: 'Create a bulk SMS task' })).toBeVisible();
  await waitForHydration(page);
  await expect(page.locator('#bulk-template option:checked')).toHaveText(/Spring sale/);
  await expect(page.locator('.template-text')).toContainText('拒收请回复R');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'CSV', exact: true }).click(),
  ]);
  const stream = await download.createReadStream();
  let template = '';
  for await (const chunk of stream) template += chunk.toString('utf8');
  const [header] = template.replace(/^\uFEFF/, '').split(/\r?\n/);
  expect(header).toBe('Mobile number,SMS content variable 1 ({1})');

  const filled = [
    header,
    '13800138001,张先生',
    '13800138002,李女士',
    '1380013800,王先生', // one digit short
    '13800138001,张先生', // the same member twice
    '+86 139-0013-8003,赵女士',
  ].join('\n');
  await page.setInputFiles('#bulk-file', { name: 'members.csv', mimeType: 'text/csv', buffer: Buffer.from(filled) });
  await page.getByRole('button', { name: 'Upload and check' }).click();

  const report = page.getByRole('region', { name: 'Validation report' });
  await expect(report).toBeVisible();
  await expect(report.locator('[data-figure="total"]')).toHaveText('5');
  await expect(report.locator('[data-figure="accepted"]')).toHaveText('3');
  await expect(report.locator('[data-figure="duplicates"]')).toHaveText('1');
  await expect(report.locator('[data-figure="rejected"]')).toHaveText('1');
  await expect(report.getByText('invalid mobile number')).toBeVisible();

  const confirm = page.getByRole('region', { name: 'Confirm and send' });
  await expect(confirm.locator('[data-figure="recipients"]')).toHaveText('3');
  await expect(confirm.locator('[data-figure="units"]')).toHaveText('3');
  await expect(confirm.locator('[data-figure="balance-after"]')).toHaveText('997');
  await waitForHydration(page);
  await page.getByLabel('Task name').fill('Spring Festival greetings');
  await page.getByLabel('Send at a scheduled time').check();
  await page.locator('#field-send_at').fill(`${tomorrowInShanghai()}T10:00:00`);
  await page.getByLabel('Time zone').selectOption('Asia/Shanghai');

  // Without consent nothing starts.
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/bulk\?upload=/);
  await page.getByLabel(/I confirm sending to 3 recipients/).check();
  await page.getByRole('button', { name: 'Start task' }).click();

  await expect(page.getByRole('heading', { name: 'Spring Festival greetings' })).toBeVisible();
  await expect(page.locator('[data-status]').first()).toHaveText('Scheduled');
  await expect(page.getByText(`${tomorrowInShanghai()} 10:00:00 (Asia/Shanghai)`)).toBeVisible();
  await expect(page.locator('[data-figure="reserved"]')).toHaveText('3');
});

test('the marketer cancels the scheduled task and the units come back', async ({ browser }) => {
  const page = await signIn(browser, marketer);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Delivery Records' }).click();
  const row = page.locator('tr[data-task="Spring Festival greetings"]');
  await expect(row.locator('[data-status]')).toHaveText('Scheduled');
  await expect(row).toContainText('3');
  await expect(page.locator('[data-balance]')).toHaveAttribute('data-balance', '997');
  await waitForHydration(page);
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('[data-status]')).toHaveText('Cancelled');
  await expect(row.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
  await expect(page.locator('[data-balance]')).toHaveAttribute('data-balance', '1000');

  await page.getByLabel('Status').selectOption('scheduled');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No tasks match.')).toBeVisible();
});
