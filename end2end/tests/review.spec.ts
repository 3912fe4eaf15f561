import { test, expect } from './fixtures';
import { admin, operator } from './people';
import { signIn, waitForHydration } from './session';

// An operator submits a signature (with its certificate) and a marketing template; an admin
// rejects the template with a reason; the operator fixes it; the admin approves both.
test.describe.configure({ mode: 'serial' });

// A real 1×1 PNG, so the reviewer's inline view shows an image.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

test('an operator submits a signature with its certificate', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/signatures/new');
  await waitForHydration(page);

  // A file that is not an image is refused with a clear message and nothing is stored.
  await page.setInputFiles('#certificate', { name: 'licence.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.getByRole('button', { name: 'Upload documents' }).click();
  await expect(page.getByText('Upload a PNG, JPEG or PDF file.')).toBeVisible();

  await page.setInputFiles('#certificate', { name: 'licence.png', mimeType: 'image/png', buffer: png });
  await page.getByRole('button', { name: 'Upload documents' }).click();
  await expect(page.getByText('Certificate uploaded')).toBeVisible();
  await waitForHydration(page);

  // Every problem shows as it is typed, each refused character named once, a space as "space".
  const signatureContent = page.getByLabel('Signature content');
  const liveProblems = page.locator('.field ul.problems');
  await signatureContent.fill('【Acme 商城-旗舰 店】');
  await expect(liveProblems).toContainText('Leave out 【 and 】: the console puts them around the signature itself.');
  await expect(liveProblems).toContainText('not allowed: space, “-”.');

  // The server's refusal says the same, and goes once the text is changed.
  await signatureContent.fill('这是十三个字的签名内容啊啊');
  await expect(liveProblems).toContainText('this one has 13');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.locator('.field-error')).toHaveText('A signature has 2 to 12 characters (this one has 13).');
  await expect(page.getByText('A signature has 2 to 12 characters (this one has 13).')).toBeVisible();

  await signatureContent.fill('Acme商城');
  await expect(page.locator('.field-error')).toHaveCount(0);
  await expect(liveProblems.locator('li')).toHaveCount(0);
  await page.getByLabel('Signature type').selectOption({ label: 'Company' });
  await page.getByLabel('Certificate type').selectOption({ label: 'Business licence' });
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByRole('heading', { name: '【Acme商城】' })).toBeVisible();
  await expect(page.locator('.status')).toHaveText(/Under review/);
});

test('an operator writes a marketing template and watches the preview', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await page.goto('/templates/new');
  await waitForHydration(page);
  await page.getByLabel('Name', { exact: true }).fill('Spring sale');
  await page.getByLabel('SMS type').selectOption({ label: 'Marketing' });

  // No signature is approved yet: the preview counts the one the operator types.
  await expect(page.getByText('No signature is approved yet')).toBeVisible();
  const previewSignature = page.getByLabel('Signature', { exact: true });
  await previewSignature.fill('Acme商城');

  const content = page.getByLabel('Content');
  const segmentsShown = page.locator('.preview .segments');
  await content.pressSequentially('{1}您好，春节大促');
  await expect(segmentsShown).toHaveAttribute('data-segments', '1');
  await expect(page.locator('.preview .problems')).toContainText('unsubscribe phrase');
  await page.locator('.preview input.sample').first().fill('张先生');
  await expect(page.locator('.sms-bubble')).toHaveText('【Acme商城】张先生您好，春节大促');

  await content.pressSequentially('，会员全场五折起，满三百再减五十，活动仅限本周末两天，欢迎到店选购，详情请咨询门店导购。拒收请回复R');
  await expect(page.locator('.preview .chars')).toHaveText('68 characters');
  await expect(segmentsShown).toHaveAttribute('data-segments', '1');
  // A longer signature takes it past 70 characters: billed in parts of 67.
  await previewSignature.fill('Acme商城旗舰店');
  await expect(page.locator('.preview .chars')).toHaveText('71 characters');
  await expect(segmentsShown).toHaveAttribute('data-segments', '2');
  await expect(page.locator('.preview .rules-ok')).toBeVisible();

  // Markup never runs: it is refused, and shown as text meanwhile.
  await content.fill('<script>window.pwned=1</script>{1}您好。拒收请回复R');
  await expect(page.locator('.preview .problems')).toContainText('HTML');
  await expect(page.locator('.sms-bubble')).toContainText('<script>');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  const contentError = page.locator('.field-error').filter({ hasText: 'Remove HTML' });
  await expect(contentError).toBeVisible();
  expect(await page.evaluate(() => (window as any).pwned)).toBeUndefined();

  // Once the text is fixed the server's refusal of the old text goes, as the preview agrees.
  await content.fill('{1}您好，春节大促，会员全场五折起，满三百再减五十，活动仅限本周末两天，欢迎到店选购。拒收请回复R');
  await expect(contentError).toHaveCount(0);
  await expect(page.locator('.preview .rules-ok')).toBeVisible();
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByRole('heading', { name: 'Spring sale' })).toBeVisible();
});

test('an admin rejects the template with a reason', async ({ browser }) => {
  const page = await signIn(browser, admin);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Review' }).click();
  await expect(page.locator('tr[data-title="Acme商城"]')).toBeVisible();
  await page.locator('tr[data-title="Spring sale"]').getByRole('link').click();
  await expect(page.getByText('拒收请回复R')).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByText('Say why it is rejected; the submitter reads this.')).toBeVisible();
  await page.getByLabel('Reason for rejection').fill('Please name the shop in the text.');
  await page.getByRole('button', { name: 'Reject' }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.locator('tr[data-title="Spring sale"]')).toHaveCount(0);
});

test('the operator reads the reason, edits and resubmits', async ({ browser }) => {
  const page = await signIn(browser, operator);
  await expect(page.locator('.bell .count')).toHaveText('1');
  await page.locator('.bell').click();
  await page.getByRole('link', { name: 'Template “Spring sale” was rejected' }).click();
  await expect(page.locator('.reason')).toHaveText('Please name the shop in the text.');
  await waitForHydration(page);
  await page.getByLabel('Content').fill('{1}您好，Acme商城春节大促，会员全场五折起，欢迎到店选购。拒收请回复R');
  await page.getByRole('button', { name: 'Resubmit for review' }).click();
  await expect(page.getByText('Resubmitted for review.')).toBeVisible();
  await expect(page.locator('dl.facts .status')).toHaveText(/Under review/);
});

test('an admin approves both and the operator sees it', async ({ browser }) => {
  const page = await signIn(browser, admin);
  for (const title of ['Acme商城', 'Spring sale']) {
    await page.goto('/review');
    await page.locator(`tr[data-title="${title}"]`).getByRole('link').click();
    await waitForHydration(page);
    if (title === 'Acme商城') {
      await expect(page.locator('img.document')).toBeVisible();
    }
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page).toHaveURL(/\/review$/);
  }
  await expect(page.getByText('Nothing is waiting for review.')).toBeVisible();

  const operatorPage = await signIn(browser, operator);
  await operatorPage.goto('/templates');
  await expect(operatorPage.locator('tr[data-template="Spring sale"] .status')).toHaveText(/Approved \(0\)/);
  await operatorPage.goto('/signatures');
  await expect(operatorPage.locator('tr[data-signature="Acme商城"] .status')).toHaveText(/Approved \(0\)/);
  await operatorPage.locator('.bell').click();
  await expect(operatorPage.getByText('Template “Spring sale” was approved')).toBeVisible();
  await expect(operatorPage.getByText('Signature “Acme商城” was approved')).toBeVisible();
});
