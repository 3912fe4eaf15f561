import { test as base, expect, BrowserContext, Page } from '@playwright/test';

// Every spec imports `test` from here: every page any test opens (in its own context or in one it
// makes with browser.newContext) is watched, and the test fails on any error the browser reports —
// a hydration panic, an exception, a failed script or stylesheet, a missing favicon. Allowed are
// only refusals (4xx) the test expects: a server function's (forms show those as field errors;
// the browser logs each as a failed load), or a page the test opens to see it refused
// (`browserProblems.refusalOf(path)`).
type Problem = { url: string; kind: string; text: string };

const refusal = /^Failed to load resource: the server responded with a status of 4\d\d/;

class Problems {
  readonly seen: Problem[] = [];
  private readonly refusedPages = new Set<string>();

  /// The test opens `path` to see it refused.
  refusalOf(path: string) {
    this.refusedPages.add(path);
  }

  expected(text: string, source: string): boolean {
    const path = new URL(source, 'http://x').pathname;
    return refusal.test(text) && (path.startsWith('/api/') || this.refusedPages.has(path));
  }
}

function watch(page: Page, problems: Problems) {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const source = message.location().url ?? '';
    if (problems.expected(message.text(), source)) return;
    problems.seen.push({ url: page.url(), kind: 'console', text: `${message.text()} (${source})` });
  });
  page.on('pageerror', (error) => problems.seen.push({ url: page.url(), kind: 'page error', text: String(error) }));
}

function watchContext(context: BrowserContext, problems: Problems) {
  context.pages().forEach((page) => watch(page, problems));
  context.on('page', (page) => watch(page, problems));
}

export const test = base.extend<{ browserProblems: Problems }>({
  browserProblems: [
    async ({ browser, context }, use) => {
      const problems = new Problems();
      watchContext(context, problems);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args: Parameters<typeof newContext>) => {
        const made = await newContext(...args);
        watchContext(made, problems);
        return made;
      };
      await use(problems);
      browser.newContext = newContext;
      expect(problems.seen, 'errors the browser reported').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
