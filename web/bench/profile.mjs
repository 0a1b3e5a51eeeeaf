// Where the page's main thread spends an edit of a big scenario: a CPU
// profile (Chrome DevTools Protocol) from the edit to the new cluster on
// screen, summed by function (self time). Needs a build whose Wasm keeps
// its function names (scripts/profile-page.sh builds one into dist-profile/).
// Prints the top functions and the share of the Wasm's own code.
import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { serve } from '../e2e/server.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIST = process.env.PODPATH_DIST ?? join(ROOT, 'dist-profile');
const TOP = Number(process.env.TOP ?? 30);

// The page bench's big scenario: 190 Deployments x 100 replicas on 200
// Calico nodes, with a trace open (it is traced again on the new cluster).
const big = ['apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: kind}\nspec: {cni: calico, nodes: 200}\n',
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n'];
for (let i = 0; i < 190; i++) {
  big.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app${i}, namespace: big}\nspec:\n  replicas: 100\n  selector: {matchLabels: {app: app${i}}}\n  template:\n    metadata: {labels: {app: app${i}}}\n    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n`);
  big.push(`apiVersion: v1\nkind: Service\nmetadata: {name: app${i}, namespace: big}\nspec: {selector: {app: app${i}}, ports: [{port: 80}]}\n`);
}
const text = big.join('---\n');

const site = await serve(DIST);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
await page.goto(site.url + '?scenario=shop');
await page.waitForSelector('[data-testid=pod]');
const pods = await page.$$eval('[data-testid=pod]', (els) => els.map((e) => e.dataset.pod));
await page.fill('[data-testid=trace-from]', pods[0]);
await page.fill('[data-testid=trace-to]', pods.at(-1));
await page.click('[data-testid=trace-go]');
await page.waitForSelector('[data-testid=verdict]');

// Two edits: the first builds the big cluster, the second changes one
// replica count (the case the page bench measures); the second is profiled.
const edit = (t) => page.evaluate(async (t) => {
  const t0 = performance.now();
  const editor = document.querySelector('[data-testid=editor]');
  editor.value = t;
  editor.dispatchEvent(new InputEvent('input', { bubbles: true }));
  const before = document.querySelector('[data-testid=summary]').textContent;
  await new Promise((done) => {
    const poll = () => (document.querySelector('[data-testid=summary]').textContent !== before ? done() : setTimeout(poll, 20));
    poll();
  });
  await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - t0;
}, t);
console.log(`first edit (the big cluster): ${(await edit(text)).toFixed(0)} ms`);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
const ms = await edit(text.replace('name: app7, namespace: big}\nspec:\n  replicas: 100', 'name: app7, namespace: big}\nspec:\n  replicas: 99'));
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
site.server.close();

// Self time per function: samples x their intervals.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  const f = node.callFrame;
  const name = f.functionName || `(${f.url.split('/').pop() || 'program'})`;
  self.set(name, (self.get(name) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`second edit (one replica count): ${ms.toFixed(0)} ms; profiled ${total.toFixed(0)} ms`);
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]);
console.log('self time:');
for (const [name, t] of rows.slice(0, TOP)) console.log(`${t.toFixed(1).padStart(8)} ms  ${name.slice(0, 150)}`);

// Time with callees, for podpath's own functions: which phase costs what.
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const name = byId.get(id).callFrame.functionName;
    if (name.includes('podpath') && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
  }
}
console.log("with callees (podpath's functions):");
for (const [name, t] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`${t.toFixed(1).padStart(8)} ms  ${name.slice(0, 150)}`);
}
