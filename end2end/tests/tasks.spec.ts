import { test, expect } from './fixtures';
import { ChildProcess } from 'node:child_process';
import { addGateway, ledger } from './gateway';
import { admin, operator, marketer } from './people';
import { signIn, waitForHydration } from './session';

// Runs after review.spec.ts: the signature 【Acme商城】 and the marketing template "Spring sale"
// are approved. An operator registers the shop's application, an admin buys SMS units, and a
// marketer sends the Spring Festival greeting to a small member list: downloads the standard
// template, fills it (one bad number, one duplicate), reads the report, confirms the fee,
// schedules for tomorrow 10:00:00 China time, then cancels and gets the units back.
test.describe.configure({ mode: 'serial' });

// The 1,000-recipient task goes to an external carrier: `herald simulator` as a process of its
// own behind an HTTP gateway; its ledger is what the handsets got.
let gateway: ChildProcess | undefined;
test.afterAll(() => gateway?.kill());

function tomorrowInShanghai(): string {
  const now = new Date(Date.now() + 24 * 3600 * 1000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/// The same day as the console writes it in English ("4 Dec 2026").
function tomorrowInShanghaiWords(): string {
  const [year, month, day] = tomorrowInShanghai().split('-').map(Number);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${day} ${months[month - 1]} ${year}`;
}

/// A figure as the console shows it ("1,000").
const figure = (text: string | null) => Number((text ?? '').replace(/,/g, ''));

test('an operator registers the application and an admin adds SMS units', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/applications');
  await waitForHydration(page);
  await page.getByLabel('Name', { exact: true }).fill('Acme Shop');
  await page.getByRole('button', { name: 'Create application' }).click();
  await expect(page.getByText('Acme Shop').first()).toBeVisible();

  const adminPage = await signIn(browser, admin);
  await adminPage.goto('/settings/packages');
  await waitForHydration(adminPage);
  await adminPage.getByLabel('Units (one per billable segment)').fill('1000');
  await adminPage.getByRole('button', { name: 'Add package' }).click();
  await expect(adminPage.locator('[data-available="1000"]')).toBeVisible();

  // Everything the first message needs is there: the getting-started checklist is gone.
  await adminPage.goto('/');
  await expect(adminPage.locator('[data-figure="balance"]')).toHaveText('1,000');
  await expect(adminPage.locator('[data-getting-started]')).toHaveCount(0);
});

test('the operator makes an API key for the application and sees its SecretKey once', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/applications');
  await page.getByRole('link', { name: 'Acme Shop' }).click();
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secretId = page.locator('[data-secret-id]');
  await expect(secretId).toHaveText(/^AKID[A-Za-z0-9]{32}$/);
  await expect(page.locator('[data-secret-key]')).toHaveText(/^[A-Za-z0-9]{32}$/);
  const id = await secretId.textContent();
  await expect(page.locator(`tr[data-key="${id}"]`)).toContainText('never');

  await page.reload();
  await expect(page.locator(`tr[data-key="${id}"]`)).toBeVisible();
  await expect(page.locator('[data-secret-key]')).toHaveCount(0);
});

test('the operator reads the API reference and jumps to SendSms', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API reference' }).click();
  await expect(page.getByRole('heading', { name: 'Herald API reference' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'SDK examples' })).toBeVisible();
  await page.getByRole('link', { name: 'SendSms', exact: true }).first().click();
  await expect(page).toHaveURL(/#sendsms$/);
  await expect(page.locator('#sendsms')).toBeInViewport();
  // The fields of the action, as a table.
  await expect(page.locator('table').filter({ hasText: 'PhoneNumberSet' }).first()).toBeVisible();
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
  // Before anything is submitted, the moment reads in China time.
  await expect(page.locator('[data-china-time]')).toHaveText(`That is ${tomorrowInShanghaiWords()}, 10:00:00, China time.`);

  // Without consent nothing starts.
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/bulk\?upload=/);
  await page.getByLabel(/I confirm sending to 3 recipients/).check();
  await page.getByRole('button', { name: 'Start task' }).click();

  await expect(page.getByRole('heading', { name: 'Spring Festival greetings' })).toBeVisible();
  await expect(page.locator('[data-status]').first()).toHaveText('Scheduled');
  await expect(page.getByRole('row', { name: 'Send time (China time)' })).toContainText(`${tomorrowInShanghaiWords()}, 10:00:00`);
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
  // Cancelling a campaign asks first.
  await row.locator('summary', { hasText: 'Cancel' }).click();
  await expect(row.getByText('Cancel this task for good?')).toBeVisible();
  await row.getByRole('button', { name: 'Cancel task' }).click();
  await expect(row.locator('[data-status]')).toHaveText('Cancelled');
  await expect(row.locator('summary', { hasText: 'Cancel' })).toHaveCount(0);
  await expect(page.locator('[data-balance]')).toHaveAttribute('data-balance', '1000');

  await page.getByLabel('Status').selectOption('scheduled');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No tasks match.')).toBeVisible();
});

// The greeting goes out for real: 1,000 members, sent now through the built-in simulator (which
// posts Tencent-format receipts back), then the marketer reads the task's analytics and exports
// every recipient's record.
test('a 1,000-recipient task is sent, its analytics add up and its records export', async ({ browser }) => {
  test.setTimeout(180_000);
  const adminPage = await signIn(browser, admin);
  await adminPage.goto('/settings/packages');
  await waitForHydration(adminPage);
  await adminPage.getByLabel('Units (one per billable segment)').fill('3000');
  await adminPage.getByRole('button', { name: 'Add package' }).click();
  await expect(adminPage.locator('[data-available="4000"]')).toBeVisible();
  // Marketing may go out at any hour of this test run.
  await adminPage.goto('/settings/content');
  await waitForHydration(adminPage);
  await adminPage.locator('#field-start').fill('00:00');
  await adminPage.locator('#field-end').fill('23:59');
  await adminPage.getByRole('button', { name: 'Save hours' }).click();
  await expect(adminPage.getByText('Saved.').first()).toBeVisible();
  await adminPage.reload();
  await expect(adminPage.locator('#field-end')).toHaveValue('23:59');

  const added = await addGateway(adminPage, {
    name: 'Gateway simulator', rateLimit: 1000,
    simulatorArgs: ['--accept-rate', '0.97', '--delivery-rate', '0.9', '--seed', '2026'],
  });
  gateway = added.carrier;
  const port = added.port;

  const page = await signIn(browser, marketer);
  await page.goto('/bulk');
  await waitForHydration(page);
  const rows = ['Mobile number,SMS content variable 1 ({1})'];
  for (let i = 0; i < 1000; i++) rows.push(`1390000${String(i).padStart(4, '0')},会员${i % 10}`);
  await page.setInputFiles('#bulk-file', { name: 'all-members.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
  await page.getByRole('button', { name: 'Upload and check' }).click();
  const confirm = page.getByRole('region', { name: 'Confirm and send' });
  await expect(confirm.locator('[data-figure="recipients"]')).toHaveText('1,000');
  await waitForHydration(page);
  await page.getByLabel('Task name').fill('Greetings to every member');
  await page.locator('#field-carrier_id').selectOption({ label: 'Gateway simulator (http)' });
  await page.getByLabel(/I confirm sending to 1,000 recipients/).check();
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page.getByRole('heading', { name: 'Greetings to every member' })).toBeVisible();

  // The analytics are read when the page loads: reload until every recipient has an outcome
  // (nothing awaiting a receipt is also true before the first message goes out).
  const analytics = async (key: string) => figure(await page.locator(`[data-analytics="${key}"]`).textContent());
  await expect
    .poll(async () => {
      await page.reload();
      const status = await page.locator('[data-status]').first().textContent();
      return `${status}, ${await analytics('delivered') + await analytics('failed')} outcomes, ${await analytics('awaiting')} awaiting`;
    }, { timeout: 120_000, intervals: [1000] })
    .toBe('Completed, 1000 outcomes, 0 awaiting');
  const [recipients, submitted, delivered, failed] = [
    await analytics('recipients'), await analytics('submitted'), await analytics('delivered'), await analytics('failed'),
  ];
  expect(recipients).toBe(1000);
  expect(delivered + failed).toBe(1000);
  expect(delivered).toBeGreaterThan(800);
  expect(submitted).toBeGreaterThanOrEqual(delivered);
  await expect(page.locator('[data-analytics="success-rate"]')).toHaveText(`${(delivered * 100 / 1000).toFixed(1)}%`);

  // The figures are the carrier's: what it accepted and refused, and the receipts it sent.
  const carrier = await ledger(port);
  expect(carrier.accepted + carrier.refused).toBe(1000);
  expect(carrier.duplicates).toBe(0);
  expect(submitted).toBe(carrier.accepted);
  expect(delivered).toBe(carrier.receipts_delivered);
  expect(failed).toBe(carrier.refused + carrier.receipts_failed);

  // Sent within seconds: the chart draws its few steps as bars, and they show something.
  const timeline = page.locator('figure[data-chart="Sends and receipts over time"]');
  await expect(timeline.locator('svg rect.bar').first()).toBeVisible();
  const tallest = await timeline.locator('svg rect.bar').evaluateAll((bars) => Math.max(...bars.map((b) => Number(b.getAttribute('height')))));
  expect(tallest).toBeGreaterThan(10);
  await expect(timeline.locator('.legend li')).toHaveCount(4);
  await expect(timeline.locator('svg text.tick').first()).toBeVisible();
  const latency = page.locator('figure[data-chart^="Delivery latency"]');
  await expect(latency.locator('svg rect.bar')).toHaveCount(9);
  await expect(page.getByRole('cell', { name: 'China Mobile' })).toBeVisible();

  // Every record, exported; its delivered rows agree with the figures.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#records').getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  let csv = '';
  for await (const chunk of await download.createReadStream()) csv += chunk.toString('utf8');
  const lines = csv.replace(/^\uFEFF/, '').trim().split('\n');
  expect(lines[0]).toBe('mobile number,state,code,serial,units,submitted (China time),outcome at (China time)');
  expect(lines.length - 1).toBe(1000);
  expect(lines.filter((l) => l.split(',')[1] === 'Delivered').length).toBe(delivered);
  // No receipt before its send: an outcome time is never earlier than the submission time.
  const inverted = lines.slice(1).map((l) => l.split(',')).filter((f) => f[5] && f[6] && f[6] < f[5]);
  expect(inverted).toEqual([]);

  // Searching a number finds its one record.
  await page.locator('#records').getByLabel('Number').fill('13900000042');
  await page.locator('#records').getByRole('button', { name: 'Search' }).click();
  await expect(page.locator('#records tbody tr')).toHaveCount(1);
  await expect(page.locator('#records tbody tr')).toContainText('+8613900000042');
});
