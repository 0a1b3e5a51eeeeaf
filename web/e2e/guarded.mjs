// Shared by the end-to-end tests: the system's Chromium, and a page that
// watches the site's promises.
import { chromium } from 'playwright-core';

// Chromium as root in a container, quiet on a closed network.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
}

// A page that watches the site's promises while a test drives it: every
// Content-Security-Policy violation the browser reports, and every request
// that leaves the site. Its own context enforces the CSP (no bypass).
export async function guardedPage(browser, siteUrl) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const origin = new URL(siteUrl).origin;
  const elsewhere = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    context,
    page,
    errors,
    elsewhere,
    violations: () => page.evaluate(() => window.__csp),
  };
}
