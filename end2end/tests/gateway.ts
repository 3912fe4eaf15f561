import { expect, Page } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { waitForHydration } from './session';

// An external carrier for the end-to-end stories: `herald simulator` as a process of its own,
// behind an HTTP gateway an admin adds in Settings; its ledger is what the handsets got.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export type Ledger = { accepted: number; duplicates: number; refused: number; receipts_delivered: number; receipts_failed: number };

export async function ledger(port: number): Promise<Ledger> {
  return (await fetch(`http://127.0.0.1:${port}/ledger`)).json();
}

/// The admin adds the gateway (sending at most `rateLimit` messages a second), then the carrier
/// behind it starts, posting receipts to the path Settings shows for it.
export async function addGateway(
  adminPage: Page,
  options: { name: string; rateLimit: number; simulatorArgs: string[] },
): Promise<{ port: number; carrier: ChildProcess }> {
  const port = await freePort();
  const secret = `${options.name} secret`;
  await adminPage.goto('/settings/carriers');
  await waitForHydration(adminPage);
  const form = adminPage.locator('section.panel', { has: adminPage.getByRole('heading', { name: 'Add an HTTP gateway' }) });
  await form.locator('input[name="name"]').fill(options.name);
  await form.locator('input[name="endpoint"]').fill(`http://127.0.0.1:${port}/send`);
  await form.locator('input[name="secret"]').fill(secret);
  await form.locator('input[name="rate_limit"]').fill(String(options.rateLimit));
  await form.getByRole('button', { name: 'Add carrier' }).click();
  await expect(form.getByText('Carrier added.')).toBeVisible();
  await adminPage.reload();
  const receiptPath = await adminPage.locator('tr', { hasText: options.name }).locator('code').textContent();
  const carrier = spawn(process.env.HERALD_BIN ?? 'herald', [
    'simulator', '--listen', `127.0.0.1:${port}`, '--secret', secret,
    '--receipts-url', new URL(receiptPath ?? '', adminPage.url()).href,
    ...options.simulatorArgs,
  ], { stdio: 'inherit' });
  await expect.poll(() => ledger(port).then(() => true, () => false)).toBe(true);
  return { port, carrier };
}
