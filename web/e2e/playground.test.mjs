// End to end: the release build of the site, served under a sub-path, in
// the system's Chromium. The page must agree with the CLI on every pod, show
// a located error for a bad edit while keeping the last good cluster, recover
// when the edit is fixed, and keep the text across a reload.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { serve } from './server.mjs';
import { guardedPage, launchChromium } from './guarded.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = process.env.PODPATH_BIN ?? join(ROOT, 'target/debug/podpath');
const DIST = process.env.PODPATH_DIST ?? join(ROOT, 'dist');
const OUT = process.env.PODPATH_OUT ?? join(ROOT, 'test-output');
const SCENARIO = join(ROOT, 'web/scenarios/shop.yaml');
const SHOP = readFileSync(SCENARIO, 'utf8');

// The CLI is the reference: what it says about the scenario, the page shows.
function cliJson(...args) {
  return JSON.parse(execFileSync(BIN, [...args, '-o', 'json', '-f', SCENARIO], { encoding: 'utf8' }));
}
// The line the CLI's linter reports for a text (it reads stdin as `-`).
function lintLine(text) {
  const r = spawnSync(BIN, ['lint', '-f', '-'], { input: text, encoding: 'utf8' });
  const m = r.stderr.match(/^<stdin>:(\d+):\d+: error:/m);
  assert.ok(m, `the CLI reports an error for the text:\n${r.stderr}`);
  return m[1];
}

let browser, site, page;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  site = await serve(DIST);
  browser = await launchChromium();
  // axe is injected as a script: this context lets it past the site's CSP
  // (the CSP test below opens its own context, with the policy enforced).
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, bypassCSP: true });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

// An error in the page fails the test it happened in.
const pageErrors = [];
afterEach(() => {
  const seen = pageErrors.splice(0);
  assert.deepEqual(seen, [], 'no error in the page');
});

after(async () => {
  await browser?.close();
  site?.server.close();
});

async function podsOnPage() {
  return page.$$eval('[data-testid=pod]', (els) =>
    els.map((e) => [e.dataset.pod, e.dataset.ip, e.closest('[data-testid=node]')?.dataset.node ?? null]).sort());
}

const asRows = (pods) => pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.status.podIP, p.spec.nodeName]).sort();

test('the default scenario is drawn as the CLI computes it', async () => {
  await page.goto(site.url);
  // By default the page shows the application's pods (the scenario's only
  // namespace is shop), as kubectl hides other namespaces.
  const pods = cliJson('get', 'pods', '-n', 'shop').items;
  const nodes = cliJson('get', 'nodes').items.map((n) => n.metadata.name);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=pod]').length === n, pods.length);
  assert.deepEqual(await podsOnPage(), asRows(pods));
  const drawn = await page.$$eval('[data-testid=node]', (els) => els.map((e) => e.dataset.node));
  assert.deepEqual(drawn, nodes);
  assert.equal(await page.inputValue('[data-testid=editor]'), SHOP);
  // The Services layer lists the application's Services.
  const services = cliJson('get', 'services', '-n', 'shop').items.map((s) => `shop/${s.metadata.name}`).sort();
  const drawnServices = await page.$$eval('[data-testid=service]', (els) => els.map((e) => e.dataset.service).sort());
  assert.deepEqual(drawnServices, services);
  await page.screenshot({ path: join(OUT, 'e2e-1-default.png'), fullPage: true });

  // With the platform's pods shown, the page has every pod of `get pods -A`.
  const all = cliJson('get', 'pods', '-A').items;
  assert.ok(all.length > pods.length);
  await page.check('[data-testid=system-toggle]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=pod]').length === n, all.length);
  assert.deepEqual(await podsOnPage(), asRows(all));
  await page.screenshot({ path: join(OUT, 'e2e-1-system-pods.png') });
  await page.uncheck('[data-testid=system-toggle]');
});

test('a bad edit shows a located error and keeps the last good cluster', async () => {
  const before = await podsOnPage();
  const broken = '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n';
  const editor = page.locator('[data-testid=editor]');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(broken);
  const line = lintLine(SHOP + broken);
  await page.waitForSelector(`[data-testid=diagnostic][data-line="${line}"]`);
  assert.deepEqual(await podsOnPage(), before, 'the topology still shows the last good cluster');
  await page.screenshot({ path: join(OUT, 'e2e-2-error.png') });
});

test('fixing the edit brings the topology up to date', async () => {
  const fixed = SHOP + '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: fixed\n  namespace: shop\nspec:\n  containers: [{name: c, image: busybox}]\n';
  await page.fill('[data-testid=editor]', fixed);
  await page.waitForSelector('[data-testid=pod][data-pod="shop/fixed"]');
  assert.equal(await page.locator('[data-testid=diagnostic]').count(), 0);
  const ip = await page.getAttribute('[data-testid=pod][data-pod="shop/fixed"]', 'data-ip');
  assert.match(ip, /^10\.244\.\d+\.\d+$/);
  await page.screenshot({ path: join(OUT, 'e2e-3-fixed.png') });
});

test('a reload restores the text the user typed', async () => {
  await page.reload();
  await page.waitForSelector('[data-testid=pod][data-pod="shop/fixed"]');
  assert.match(await page.inputValue('[data-testid=editor]'), /name: fixed/);
});

test('an unknown scenario name shows an error and the default scenario', async () => {
  await page.goto(site.url + '?scenario=no-such-thing');
  await page.waitForSelector('[data-testid=notice]');
  assert.match(await page.textContent('[data-testid=notice]'), /no scenario "no-such-thing"/);
  assert.ok((await page.locator('[data-testid=pod]').count()) > 0);
  await page.screenshot({ path: join(OUT, 'e2e-4-unknown-scenario.png') });
});

test('the policy matrix agrees with the CLI and a blocked cell explains itself', async () => {
  const file = join(ROOT, 'web/scenarios/policies.yaml');
  const cli = JSON.parse(execFileSync(BIN, ['matrix', '-n', 'shop', '--port', '80', '-o', 'json', '-f', file], { encoding: 'utf8' }));
  await page.goto(site.url + '?scenario=policies');
  await page.waitForSelector('[data-testid=matrix]');
  const cells = await page.$$eval('[data-testid=matrix-cell]', (els) =>
    els.map((e) => [e.dataset.from, e.dataset.to, e.dataset.allowed === 'true']));
  const onPage = new Map(cells.map(([f, t, a]) => [`${f} ${t}`, a]));
  let blocked = 0;
  cli.pods.forEach((src, i) => cli.pods.forEach((dst, j) => {
    assert.equal(onPage.get(`${src} ${dst}`), cli.allowed[i][j], `${src} -> ${dst}`);
    if (!cli.allowed[i][j]) blocked += 1;
  }));
  assert.ok(blocked > 0, 'the scenario blocks something');
  await page.screenshot({ path: join(OUT, 'e2e-5-matrix.png'), fullPage: true });

  // A red cell opens its trace: dropped, by a policy hop that names the policy.
  const cell = page.locator('[data-testid=matrix-cell][data-allowed=false]').first();
  const [from, to] = [await cell.getAttribute('data-from'), await cell.getAttribute('data-to')];
  await cell.click();
  await page.waitForSelector('[data-testid=verdict][data-verdict=dropped]');
  const actions = await page.$$eval('[data-testid=hop]', (els) => els.map((e) => e.dataset.action));
  assert.equal(actions.at(-1), 'policy denied', actions.join(', '));
  const trace = JSON.parse(execFileSync(BIN, ['trace', '--from', from, '--to', to, '--port', '80', '-o', 'json', '-f', file], { encoding: 'utf8' }));
  assert.equal(trace.verdict, 'dropped');
  assert.match(await page.textContent('[data-testid=verdict]'), new RegExp(trace.policy.ingress.by[0] ?? trace.policy.egress.by[0]));
  // Between nodes the hops show the tunnel around the packet.
  const crossNode = trace.hops.some((h) => h.packet.outer);
  assert.equal((await page.locator('[data-testid=hop-outer]').count()) > 0, crossNode);
  // The same packets can be downloaded as a pcap file.
  const href = await page.getAttribute('[data-testid=pcap-download]', 'href');
  assert.match(href, /^data:application\/vnd\.tcpdump\.pcap;base64,1MOyoQ/, 'a little-endian pcap');
  await page.screenshot({ path: join(OUT, 'e2e-5-trace.png'), fullPage: true });

  // Under Flannel the same policies do nothing, and the page says so.
  await page.selectOption('[data-testid=cni-select]', 'flannel');
  await page.waitForSelector('[data-testid=policy-warning]');
  assert.equal(await page.locator('[data-testid=matrix-cell][data-allowed=false]').count(), 0);
});

// The playground's own flow: a trace by URL and by clicks, the hop list as
// the CLI computes it, stepping, a switch that changes the verdict, and a
// share link that hands the scenario to a fresh page.
const POLICIES = join(ROOT, 'web/scenarios/policies.yaml');
function cliTrace(from, to, ...extra) {
  return JSON.parse(execFileSync(BIN, ['trace', '--from', from, '--to', to, '--port', '80', '-o', 'json', ...extra, '-f', POLICIES], { encoding: 'utf8' }));
}
async function hopActions() {
  return page.$$eval('[data-testid=hop]', (els) => els.map((e) => e.dataset.action));
}

test('a trace opened by URL lists the hops the CLI computes, and steps', async () => {
  const pods = JSON.parse(execFileSync(BIN, ['get', 'pods', '-n', 'shop', '-o', 'json', '-f', POLICIES], { encoding: 'utf8' })).items;
  const key = (p) => `shop/${p.metadata.name}`;
  const frontend = pods.find((p) => p.metadata.name.startsWith('frontend-'));
  const api = pods.find((p) => p.metadata.name.startsWith('api-') && p.spec.nodeName !== frontend.spec.nodeName);
  const [from, to] = [key(frontend), key(api)];
  await page.goto(site.url + `?scenario=policies&trace=${encodeURIComponent(`${from},${to}`)}`);
  await page.waitForSelector('[data-testid=verdict]');
  const cli = cliTrace(from, to);
  assert.equal(await page.getAttribute('[data-testid=verdict]', 'data-verdict'), cli.verdict);
  assert.deepEqual(await hopActions(), cli.hops.map((h) => h.action), 'the same hops, in order');
  assert.ok(cli.hops.some((h) => h.packet.outer), 'the pods are on different nodes: a tunnel on the way');

  // Step: the position, the highlighted hop and the packet follow.
  const total = cli.hops.length + cli.reply.length;
  assert.equal(await page.textContent('[data-testid=position]'), `hop 1 of ${total}`);
  await page.click('[data-testid=step-forward]');
  await page.click('[data-testid=step-forward]');
  assert.equal(await page.textContent('[data-testid=position]'), `hop 3 of ${total}`);
  assert.equal(await page.getAttribute('[data-testid=hop][aria-current=step]', 'data-index'), '2');
  await page.click('[data-testid=step-back]');
  assert.equal(await page.textContent('[data-testid=position]'), `hop 2 of ${total}`);
  await page.waitForFunction(() => getComputedStyle(document.querySelector('[data-testid=packet]')).visibility === 'visible');
  // A click on a hop jumps there; the hop's line opens in the node's rules.
  const ruled = cli.hops.findIndex((h) => h.rule && h.at.startsWith('nat '));
  await page.click(`[data-testid=hop][data-index="${ruled}"] button`);
  await page.click('[data-testid=show-rule]');
  await page.waitForSelector('[data-testid=rule-marked]');
  assert.equal((await page.textContent('[data-testid=rule-marked]')).trim(), cli.hops[ruled].rule);
  await page.screenshot({ path: join(OUT, 'e2e-7-rules.png') });
  // Playing runs to the end by itself (at the fastest speed).
  await page.$eval('[aria-label="hops per second"]', (el) => { el.value = '8'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.click('[data-testid=play]');
  await page.waitForFunction((t) => document.querySelector('[data-testid=position]').textContent === `hop ${t} of ${t}`, total, { timeout: 30000 });
  await page.screenshot({ path: join(OUT, 'e2e-7-played.png') });
});

test('clicking two pods traces between them, Flannel stops enforcing the policy and kindnet enforces it', async () => {
  await page.goto(site.url + '?scenario=policies');
  const debug = '[data-testid=pod][data-pod="tools/debug"]';
  await page.waitForSelector(debug);
  await page.click(debug);
  await page.click('[data-testid=pod][data-pod="shop/db"]');
  await page.waitForSelector('[data-testid=verdict]');
  const cli = cliTrace('tools/debug', 'shop/db');
  assert.equal(cli.verdict, 'dropped');
  assert.equal(await page.getAttribute('[data-testid=verdict]', 'data-verdict'), 'dropped');
  assert.deepEqual(await hopActions(), cli.hops.map((h) => h.action));
  await page.screenshot({ path: join(OUT, 'e2e-8-dropped.png') });

  // The switch re-runs the same trace: Flannel ignores NetworkPolicy.
  await page.selectOption('[data-testid=cni-select]', 'flannel');
  await page.waitForSelector('[data-testid=verdict][data-verdict=delivered]');
  const flannel = cliTrace('tools/debug', 'shop/db', '--cni', 'flannel');
  assert.equal(flannel.policy.ingress.verdict, 'not-enforced');
  assert.deepEqual(await hopActions(), flannel.hops.map((h) => h.action));
  await page.screenshot({ path: join(OUT, 'e2e-8-flannel.png') });

  // kindnet, kind's own plugin, enforces it again: kindnetd drops the
  // connection it was queued, at its nftables chain.
  await page.selectOption('[data-testid=cni-select]', 'kindnet');
  await page.waitForSelector('[data-testid=verdict][data-verdict=dropped]');
  const kindnet = cliTrace('tools/debug', 'shop/db', '--cni', 'kindnet');
  assert.equal(kindnet.verdict, 'dropped');
  assert.match(kindnet.hops.at(-1).at, /^inet kindnet-network-policies postrouting/);
  assert.deepEqual(await hopActions(), kindnet.hops.map((h) => h.action));
});

test('a share link opens the same scenario and switches in a fresh page', async () => {
  await page.goto(site.url + '?scenario=policies');
  await page.waitForSelector('[data-testid=pod]');
  const edited = (await page.inputValue('[data-testid=editor]')) + '---\napiVersion: v1\nkind: Pod\nmetadata: {name: shared, namespace: tools}\nspec:\n  containers: [{name: c, image: busybox}]\n';
  await page.fill('[data-testid=editor]', edited);
  await page.waitForSelector('[data-testid=pod][data-pod="tools/shared"]');
  await page.selectOption('[data-testid=cni-select]', 'cilium');
  await page.click('[data-testid=share]');
  const link = await page.inputValue('[data-testid=share-link]');
  assert.match(link, /#s=[A-Za-z0-9_-]+&cni=cilium$/);
  const before = await podsOnPage();

  const fresh = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await fresh.goto(link);
  await fresh.waitForSelector('[data-testid=pod][data-pod="tools/shared"]');
  const after = await fresh.$$eval('[data-testid=pod]', (els) =>
    els.map((e) => [e.dataset.pod, e.dataset.ip, e.closest('[data-testid=node]')?.dataset.node ?? null]).sort());
  assert.deepEqual(after, before, 'the same pods, addresses and nodes');
  assert.equal(await fresh.inputValue('[data-testid=editor]'), edited);
  // A damaged link (opened anew, as from a chat) says so and still shows a cluster.
  await fresh.goto('about:blank');
  await fresh.goto(link.slice(0, link.indexOf('#s=') + 20));
  await fresh.waitForSelector('[data-testid=notice]');
  assert.match(await fresh.textContent('[data-testid=notice]'), /damaged/);
  assert.ok((await fresh.locator('[data-testid=pod]').count()) > 0);
  await fresh.close();
});

// Accessibility: axe-core finds no serious or critical violation on the
// main views (the cluster, a trace being played, the node rules, dark).
const AXE = readFileSync(join(ROOT, 'web/node_modules/axe-core/axe.min.js'), 'utf8');
async function axeViolations(p) {
  await p.addScriptTag({ content: AXE });
  const result = await p.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

test('axe finds no serious accessibility problem on the main views', async () => {
  await page.goto(site.url + '?scenario=policies&trace=tools%2Fdebug%2Cshop%2Fdb');
  await page.waitForSelector('[data-testid=verdict]');
  const found = [];
  found.push(...(await axeViolations(page)).map((v) => `trace: ${v}`));
  await page.click('[data-testid=tab-rules]');
  await page.waitForSelector('[data-testid=node-rules]');
  found.push(...(await axeViolations(page)).map((v) => `rules: ${v}`));
  await page.click('[data-testid=tab-dns]');
  found.push(...(await axeViolations(page)).map((v) => `dns: ${v}`));
  await page.click('[data-testid=tab-capture]');
  await page.click('[data-testid=capture-row] button');
  found.push(...(await axeViolations(page)).map((v) => `capture: ${v}`));
  await page.click('[data-testid=tab-terminal]');
  await page.fill('[data-testid=terminal-input]', 'kubectl get pods -n shop');
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.fill('[data-testid=terminal-input]', 'kubectl get frobs');
  await page.press('[data-testid=terminal-input]', 'Enter');
  found.push(...(await axeViolations(page)).map((v) => `terminal: ${v}`));
  await page.click('[data-testid=theme]');
  found.push(...(await axeViolations(page)).map((v) => `dark: ${v}`));
  await page.click('[data-testid=theme]');
  assert.deepEqual(found, []);
});

test('a problem shows at its own line in the editor, and nodes show their plumbing', async () => {
  await page.goto(site.url + '?scenario=policies');
  await page.waitForSelector('[data-testid=pod]');
  const text = await page.inputValue('[data-testid=editor]');
  const bad = text.replace('replicas: 2', 'replicas: two');
  await page.fill('[data-testid=editor]', bad);
  const line = String(bad.split('\n').findIndex((l) => l.includes('replicas: two')) + 1);
  await page.waitForSelector(`[data-testid=inline-diagnostic][data-line="${line}"]`);
  assert.match(await page.textContent(`[data-testid=inline-diagnostic][data-line="${line}"]`), /invalid type: string "two"/);
  // The API server's own validation is marked at the field it names, not
  // at the object's first line (`apiVersion:`).
  const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: odd}\nspec:\n  selector: {app: odd}\n  clusterIP: 10.96.0.300\n  ports: [{port: 80}]\n';
  const semantic = text.replace(/\n*$/, '\n') + '---\n' + service;
  await page.fill('[data-testid=editor]', semantic);
  const field = String(semantic.split('\n').findIndex((l) => l.includes('clusterIP: 10.96.0.300')) + 1);
  assert.equal(lintLine(semantic), field, 'the CLI places it on the same line');
  await page.waitForSelector(`[data-testid=inline-diagnostic][data-line="${field}"]`);
  assert.match(await page.textContent(`[data-testid=inline-diagnostic][data-line="${field}"]`), /spec\.clusterIP: Invalid value: "10\.96\.0\.300"/);
  await page.screenshot({ path: join(OUT, 'e2e-9-field-mark.png') });
  // Calico's plumbing on every node: the IP-in-IP tunnel and kube-proxy.
  const plumbing = await page.$$eval('[data-testid=plumbing]', (els) => els.map((e) => e.textContent));
  assert.ok(plumbing.length > 0 && plumbing.every((p) => p.includes('tunl0 (IP-in-IP)') && p.includes('kube-proxy (iptables)')), plumbing.join(' | '));
  await page.fill('[data-testid=editor]', text);
  await page.waitForSelector('[data-testid=inline-diagnostic]', { state: 'detached', timeout: 5000 });
  await page.screenshot({ path: join(OUT, 'e2e-9-editor.png') });
});

test('a pod, then a Service: the trace goes by its name, DNS first', async () => {
  await page.goto(site.url);
  await page.waitForSelector('[data-testid=platform]');
  assert.match(await page.textContent('[data-testid=platform]'), /CoreDNS · kube-dns 10\.96\.0\.10/);
  const pods = JSON.parse(execFileSync(BIN, ['get', 'pods', '-n', 'shop', '-o', 'json', '-f', SCENARIO], { encoding: 'utf8' })).items;
  const from = `shop/${pods.find((p) => p.metadata.name.startsWith('frontend-')).metadata.name}`;
  await page.click(`[data-testid=pod][data-pod="${from}"]`);
  await page.click('[data-testid=service][data-service="shop/api"] [data-testid=service-target]');
  await page.waitForSelector('[data-testid=verdict]');
  const cli = JSON.parse(execFileSync(BIN, ['trace', '--from', from, '--to', 'api.shop', '--port', '80', '-o', 'json', '-f', SCENARIO], { encoding: 'utf8' }));
  assert.equal(await page.getAttribute('[data-testid=verdict]', 'data-verdict'), cli.verdict);
  assert.deepEqual(await hopActions(), cli.hops.map((h) => h.action));
  assert.equal(await page.inputValue('[data-testid=trace-to]'), 'api.shop');
  // ping: the same path as ICMP echo.
  await page.selectOption('[data-testid=trace-protocol]', 'icmp');
  await page.waitForFunction(() => document.querySelector('[data-testid=hop-detail]')?.textContent.includes('ICMP echo'));
  await page.screenshot({ path: join(OUT, 'e2e-10-service.png') });
});

test('a big cluster folds the nodes the trace does not touch', async () => {
  // 16 nodes, one Deployment spread over them, a client pod.
  let yaml = 'apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: big}\nspec: {cni: calico, nodes: 16}\n';
  yaml += '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  replicas: 16\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec: {containers: [{name: c, image: nginx}]}\n';
  yaml += '---\napiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: curl}]}\n';
  const fragment = 's=' + deflateRawSync(Buffer.from(yaml), { level: 9 }).toString('base64url');
  await page.goto('about:blank');
  await page.goto(site.url + '#' + fragment);
  await page.waitForSelector('[data-testid=node].folded');
  // Nothing traced yet: all 16 are folded to their headers.
  assert.equal(await page.locator('[data-testid=node]').count(), 16);
  assert.equal(await page.locator('[data-testid=node].folded').count(), 16);
  // A folded node draws no pods until opened: where each pod runs comes
  // from the CLI.
  assert.equal(await page.locator('[data-testid=pod]').count(), 0);
  const listed = JSON.parse(execFileSync(BIN, ['get', 'pods', '-o', 'json', '-f', '-'], { input: yaml, encoding: 'utf8' }));
  const pods = listed.items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.spec.nodeName]);
  const [client, clientNode] = pods.find(([p]) => p === 'default/client');
  const [target, targetNode] = pods.find(([p, n]) => p.startsWith('default/app-') && n !== clientNode);
  await page.fill('[data-testid=trace-from]', client);
  await page.fill('[data-testid=trace-to]', target);
  await page.click('[data-testid=trace-go]');
  await page.waitForSelector('[data-testid=verdict]');
  // The two nodes the packet crosses open; the other 14 stay folded.
  const open = await page.$$eval('[data-testid=node]:not(.folded)', (els) => els.map((e) => e.dataset.node).sort());
  assert.deepEqual(open, [clientNode, targetNode].sort());
  assert.ok(await page.isVisible(`[data-testid=pod][data-pod="${target}"]`));
  // Opening a folded node draws its pods.
  const folded = await page.$$eval('[data-testid=node].folded', (els) => els.map((e) => e.dataset.node));
  const other = folded.find((n) => pods.some(([, on]) => on === n));
  await page.click(`[data-testid=node][data-node="${other}"] .node-fold summary`);
  const inOther = pods.filter(([, n]) => n === other).map(([p]) => p).sort();
  await page.waitForSelector(`[data-testid=node][data-node="${other}"] [data-testid=pod]`);
  assert.deepEqual(await page.$$eval(`[data-testid=node][data-node="${other}"] [data-testid=pod]`, (els) => els.map((e) => e.dataset.pod).sort()), inOther);
  await page.screenshot({ path: join(OUT, 'e2e-11-folded.png') });
});

test('a lesson whose file cannot be fetched opens the learner\'s saved text for it, not the default', async () => {
  const context = await page.context().browser().newContext({ serviceWorkers: 'block' });
  const p = await context.newPage();
  await p.goto(site.url);
  await p.waitForSelector('[data-testid=pod]');
  const mine = 'apiVersion: v1\nkind: Pod\nmetadata: {name: mine}\nspec: {containers: [{name: c, image: nginx}]}\n';
  await p.evaluate((t) => localStorage.setItem('podpath.v1.text.pods-and-ips', JSON.stringify(t)), mine);
  await p.route('**/lessons/*.yaml', (route) => route.abort());
  await p.goto(site.url + '?scenario=pods-and-ips');
  await p.waitForSelector('[data-testid=notice]');
  assert.match(await p.textContent('[data-testid=notice]'), /could not be loaded.*your saved text for it is shown/);
  assert.equal(await p.inputValue('[data-testid=editor]'), mine);
  await p.waitForSelector('[data-testid=pod][data-pod="default/mine"]');
  await context.close();
});

test('a worker that cannot load leaves the page simulating by itself', async () => {
  const context = await page.context().browser().newContext();
  const p = await context.newPage();
  // The worker's script is refused: its error event hands the session to the page.
  await p.route('**/worker-*.js', (route) => route.abort());
  await p.goto(site.url + '?scenario=policies');
  await p.waitForSelector('[data-testid=pod]');
  assert.equal(p.workers().length, 0);
  const debug = await p.$eval('[data-testid=pod][data-pod^="tools/"]', (el) => el.dataset.pod);
  const db = await p.$eval('[data-testid=pod][data-pod*="/db"]', (el) => el.dataset.pod);
  await p.fill('[data-testid=trace-from]', debug);
  await p.fill('[data-testid=trace-to]', db);
  await p.click('[data-testid=trace-go]');
  await p.waitForSelector('[data-testid=verdict][data-verdict=dropped]');
  await context.close();
});

test('what is typed in the trace form stays while the page changes around it, and the suggestions follow it', async () => {
  await page.goto('about:blank');
  await page.goto(site.url);
  await page.waitForSelector('[data-testid=pod]');
  await page.fill('[data-testid=trace-to]', 'shop/api');
  // A change elsewhere draws the page again: the platform's pods shown.
  await page.click('[data-testid=system-toggle]');
  await page.waitForSelector('[data-testid=pod][data-pod^="kube-system/"]');
  assert.equal(await page.inputValue('[data-testid=trace-to]'), 'shop/api');
  // The pods suggested are those whose name holds what is typed.
  const pods = (await page.$$eval('#trace-sources option', (els) => els.map((e) => e.value)))
    .filter((v) => v !== 'external' && !v.startsWith('node/'));
  assert.ok(pods.length > 0 && pods.every((p) => p.startsWith('shop/api-')), pods.join(' '));
  await page.click('[data-testid=system-toggle]');
});

test('the simulation runs in a worker: a big edit shows progress while the editor keeps taking keys', async () => {
  // A shared link, so the edits are saved apart from the default scenario's.
  const fragment = 's=' + deflateRawSync(Buffer.from(SHOP), { level: 9 }).toString('base64url');
  await page.goto('about:blank');
  await page.goto(site.url + '#' + fragment);
  await page.waitForSelector('[data-testid=pod]');
  assert.equal(page.workers().length, 1, 'the page starts one simulation worker');
  // 10,000 pods on 100 nodes: long enough to simulate that the page can be
  // seen working meanwhile.
  let yaml = 'apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: big}\nspec: {cni: calico, nodes: 100}\n';
  yaml += '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  replicas: 10000\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec: {containers: [{name: c, image: nginx}]}\n';
  await page.fill('[data-testid=editor]', yaml);
  await page.waitForSelector('[data-testid=progress].busy');
  // While the worker simulates, a keystroke lands in the editor at once.
  await page.focus('[data-testid=editor]');
  await page.keyboard.press('End');
  await page.keyboard.type('# typed meanwhile\n');
  assert.ok((await page.inputValue('[data-testid=editor]')).endsWith('# typed meanwhile\n'));
  // The last text wins: its cluster comes, and the progress line clears.
  await page.waitForFunction(() => document.querySelector('[data-testid=summary]').textContent.startsWith('100 nodes'), null, { timeout: 30000 });
  await page.waitForSelector('[data-testid=progress]:not(.busy)', { state: 'attached', timeout: 30000 });
  assert.match(await page.textContent('[data-testid=summary]'), /^100 nodes · 10\d{3} pods/);
  assert.equal(await page.inputValue('[data-testid=editor]'), yaml + '# typed meanwhile\n');
});

test('the terminal: kubectl exec … curl prints the answer and plays its hops; the pcap decodes', async () => {
  await page.goto(site.url);
  await page.waitForSelector('[data-testid=pod]');
  await page.click('[data-testid=tab-terminal]');
  const pods = JSON.parse(execFileSync(BIN, ['get', 'pods', '-n', 'shop', '-o', 'json', '-f', SCENARIO], { encoding: 'utf8' })).items;
  const frontend = pods.find((p) => p.metadata.name.startsWith('frontend-')).metadata.name;
  // Tab completes as far as the names agree and lists the replicas.
  await page.fill('[data-testid=terminal-input]', 'kubectl exec -n shop fro');
  await page.press('[data-testid=terminal-input]', 'Tab');
  const replicas = pods.map((p) => p.metadata.name).filter((n) => n.startsWith('frontend-')).sort();
  assert.equal(replicas.length, 2);
  assert.equal(await page.inputValue('[data-testid=terminal-input]'), `kubectl exec -n shop ${replicas[0].slice(0, -5)}`);
  assert.equal(await page.textContent('[data-testid=terminal-hint]'), replicas.join('  '));
  await page.fill('[data-testid=terminal-input]', `kubectl exec -n shop ${frontend} -- curl -s http://api`);
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=terminal-output]').textContent.includes('Hostname: api-'));
  // The same command through the CLI prints the same answer.
  const cli = execFileSync(BIN, ['exec', `shop/${frontend}`, '-f', SCENARIO, '--', 'curl', '-s', 'http://api'], { encoding: 'utf8' });
  assert.ok((await page.textContent('[data-testid=terminal-output]')).includes(cli.trim()), cli);
  // Its trace is shown and plays: the hops the CLI traces for the URL.
  const trace = JSON.parse(execFileSync(BIN, ['trace', '--from', `shop/${frontend}`, '--to', 'http://api', '--seed', '1', '-o', 'json', '-f', SCENARIO], { encoding: 'utf8' }));
  assert.deepEqual(await hopActions(), trace.hops.map((h) => h.action));
  await page.waitForFunction(() => !/^hop 1 of/.test(document.querySelector('[data-testid=position]').textContent));
  await page.screenshot({ path: join(OUT, 'e2e-12-terminal.png') });
  // The capture of what curl did, decoded by tshark: the GET and the 200.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=pcap-download]')]);
  const file = join(OUT, 'terminal-curl.pcap');
  await download.saveAs(file);
  const decoded = execFileSync('tshark', ['-r', file, '-Y', 'http', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.response.code'], { encoding: 'utf8' });
  assert.match(decoded, /^GET/m);
  assert.match(decoded, /^\t200/m);

  // The capture tab reads the same packets as Wireshark lays them out.
  await page.click('[data-testid=tab-capture]');
  const rows = await page.$$eval('[data-testid=capture-row]', (els) => els.map((r) => [...r.cells].map((c) => c.textContent)));
  const frames = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(rows.length, frames.length, 'one row per frame of the pcap');
  assert.deepEqual(rows[0].slice(0, 2), ['1', '0.000000']);
  const get = rows.findIndex((r) => r[4] === 'HTTP' && r[6] === 'GET / HTTP/1.1');
  assert.ok(get >= 0, JSON.stringify(rows.slice(0, 5)));
  assert.ok(rows.some((r) => r[4] === 'DNS' && r[6].startsWith('Standard query response')), 'the lookup first');
  await page.click(`[data-testid=capture-row]:nth-child(${get + 1}) button`);
  assert.match(await page.textContent('[data-testid=capture-tree]'), /Hypertext Transfer Protocol.*GET \/ HTTP\/1\.1\\r\\n/s);
  assert.match(await page.textContent('[data-testid=capture-hex]'), /^0000  [0-9a-f]{2} /);
  await page.screenshot({ path: join(OUT, 'e2e-14-capture.png') });
  // One interface: fewer rows, and the download holds just those.
  const options = await page.$$eval('[data-testid=capture-interface] option', (els) => els.map((o) => o.value).filter(Boolean));
  await page.selectOption('[data-testid=capture-interface]', options[0]);
  const few = await page.locator('[data-testid=capture-row]').count();
  assert.ok(few > 0 && few < rows.length, `${few} of ${rows.length}`);
  const [one] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=capture-download]')]);
  const part = join(OUT, 'capture-one-interface.pcap');
  await one.saveAs(part);
  assert.equal(execFileSync('tshark', ['-r', part, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length, few);
});

test('nslookup under a default-deny egress policy times out as on a real cluster', async () => {
  const yaml = 'apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: {cni: calico}\n---\n'
    + 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n'
    + 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: busybox}]}\n---\n'
    + 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}\n';
  const fragment = 's=' + deflateRawSync(Buffer.from(yaml), { level: 9 }).toString('base64url');
  // A new document (a hash change alone would not reload the page).
  await page.goto('about:blank');
  await page.goto(site.url + '#' + fragment);
  await page.waitForSelector('[data-testid=pod]');
  await page.click('[data-testid=tab-terminal]');
  await page.fill('[data-testid=terminal-input]', 'kubectl exec -it -n x a -- sh');
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.fill('[data-testid=terminal-input]', 'nslookup kubernetes.default');
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=terminal-output]').textContent.includes('no servers could be reached'));
  const out = await page.textContent('[data-testid=terminal-output]');
  // A busybox image: BusyBox's ash prompt, and its nslookup's words for a
  // query nobody answers (networking/nslookup.c prints BIND's line).
  assert.ok(out.includes('/ # nslookup kubernetes.default\n;; connection timed out; no servers could be reached'), out);
  // The query's own trace: dropped by the policy on the way out.
  assert.equal(await page.getAttribute('[data-testid=verdict]', 'data-verdict'), 'dropped');
  // ↑ brings the line back.
  await page.press('[data-testid=terminal-input]', 'ArrowUp');
  assert.equal(await page.inputValue('[data-testid=terminal-input]'), 'nslookup kubernetes.default');
  await page.screenshot({ path: join(OUT, 'e2e-13-nslookup-timeout.png') });
});

test('kubectl run in the terminal: the recipes\' alpine pod joins the cluster, BusyBox wget times out under the deny, --rm removes it', async () => {
  const yaml = 'apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: {cni: calico}\n---\n'
    + 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}\n---\n'
    + 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\n'
    + 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web-deny-all}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: []}\n';
  const fragment = 's=' + deflateRawSync(Buffer.from(yaml), { level: 9 }).toString('base64url');
  await page.goto('about:blank');
  await page.goto(site.url + '#' + fragment);
  await page.waitForSelector('[data-testid=pod]');
  await page.click('[data-testid=tab-terminal]');
  const type = async (line, shows) => {
    await page.fill('[data-testid=terminal-input]', line);
    await page.press('[data-testid=terminal-input]', 'Enter');
    await page.waitForFunction((t) => document.querySelector('[data-testid=terminal-output]').textContent.includes(t), shows);
  };
  await type('kubectl run --rm -i -t --image=alpine test-4821 -- sh', "If you don't see a command prompt, try pressing enter.");
  await page.waitForSelector('[data-testid=pod][data-pod="default/test-4821"]');
  await type('wget -qO- --timeout=2 http://web', 'wget: download timed out');
  const out = await page.textContent('[data-testid=terminal-output]');
  assert.ok(out.includes('/ # wget -qO- --timeout=2 http://web\nwget: download timed out'), out);
  await type('exit', 'pod "test-4821" deleted');
  await page.waitForSelector('[data-testid=pod][data-pod="default/test-4821"]', { state: 'detached' });
});

test('a lesson by URL: goals checked live, completed by editing the YAML, kept across a reload', async () => {
  await page.goto('about:blank');
  await page.goto(site.url + '?scenario=pods-and-ips');
  await page.waitForSelector('[data-testid=lesson][data-lesson=pods-and-ips]');
  const passed = () => page.$$eval('[data-testid=goal]', (els) => els.map((e) => e.dataset.passed));
  assert.deepEqual(await passed(), ['false', 'true']);
  // The same verdicts as the CLI's check of the lesson's start.
  const lessonFile = join(ROOT, 'web/lessons/01-pods-and-ips.yaml');
  const cli = JSON.parse(spawnSync(BIN, ['lesson', 'check', lessonFile, '-o', 'json'], { encoding: 'utf8' }).stdout);
  assert.deepEqual(await passed(), cli.goals.map((g) => String(g.passed)));
  await page.screenshot({ path: join(OUT, 'e2e-15-lesson.png') });
  const text = await page.inputValue('[data-testid=editor]');
  await page.fill('[data-testid=editor]', text.replace('replicas: 1', 'replicas: 3'));
  await page.waitForSelector('[data-testid=lesson-complete]');
  assert.deepEqual(await passed(), ['true', 'true']);
  // The share link carries the lesson and the learner's text: the
  // instructor opens it and sees the same goals met.
  await page.click('[data-testid=share]');
  const link = await page.inputValue('[data-testid=share-link]');
  assert.match(link, /\?scenario=pods-and-ips#s=/);
  const other = await browser.newContext({ bypassCSP: true });
  const fresh = await other.newPage();
  await fresh.goto(link);
  await fresh.waitForSelector('[data-testid=lesson-complete]');
  await other.close();
  // Progress is the text, saved as typed: a reload finds the lesson done.
  await page.goto(site.url + '?scenario=pods-and-ips');
  await page.waitForSelector('[data-testid=lesson-complete]');
  // The menu marks it finished; a workshop's set numbers it and leads on.
  const option = await page.textContent('[data-testid=lesson-select] option[value=pods-and-ips]');
  assert.match(option, /^✓ 1\. Pods and their addresses/);
  await page.goto(site.url + '?scenario=pods-and-ips&lessons=pods-and-ips,services-clusterip');
  await page.waitForSelector('[data-testid=lesson-complete]');
  assert.match(await page.textContent('.lesson-topic'), /^Lesson 1 of 2/);
  await page.click('[data-testid=lesson-next]');
  await page.waitForSelector('[data-testid=lesson][data-lesson=services-clusterip]');
  assert.match(await page.textContent('.lesson-topic'), /^Lesson 2 of 2/);
  assert.equal(await page.$$eval('[data-testid=lesson-select] option[value]:not([value=""])', (o) => o.length), 2);
  await page.goto(site.url + '?scenario=pods-and-ips');
  await page.waitForSelector('[data-testid=lesson-complete]');
  // Printed, the lesson is a page of its own with its hints spelled out.
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.isVisible('.lesson .print-only'));
  assert.ok(!(await page.isVisible('[data-testid=topology]')));
  await page.screenshot({ path: join(OUT, 'e2e-16-lesson-print.png') });
  await page.emulateMedia({ media: 'screen' });
  // Starting over brings the starting scenario back.
  await page.click('[data-testid=lesson-reset]');
  await page.waitForFunction(() => document.querySelector('[data-testid=goal]').dataset.passed === 'false');
  assert.equal(await page.inputValue('[data-testid=editor]'), text);
});

test('the site runs under its strict CSP with no violation, asks nothing of other sites, and works offline', async () => {
  const { context, page: p, elsewhere, violations, errors } = await guardedPage(browser, site.url);
  await p.goto(site.url + '?scenario=policies&trace=tools%2Fdebug%2Cshop%2Fdb');
  await p.waitForSelector('[data-testid=verdict]');
  // The page's own policy: scripts from the site only, none inline.
  const csp = await p.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
  const scripts = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(scripts, "script-src 'self' 'wasm-unsafe-eval'");
  assert.equal(await p.$$eval('script:not([src])', (s) => s.length), 0, 'no inline script');
  for (const tab of ['rules', 'dns', 'capture', 'terminal']) await p.click(`[data-testid=tab-${tab}]`);
  await p.fill('[data-testid=terminal-input]', 'kubectl get pods -A');
  await p.press('[data-testid=terminal-input]', 'Enter');
  assert.deepEqual(await violations(), []);
  // Offline: the service worker cached the site on this first visit.
  await p.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await p.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await context.setOffline(true);
  await p.goto(site.url + '?scenario=shop');
  await p.waitForSelector('[data-testid=pod]');
  assert.ok((await p.locator('[data-testid=pod]').count()) > 0, 'the topology draws with no network');
  // A lesson's file is fetched when it is opened: the service worker has it
  // precached, so a lesson never opened before still opens offline.
  await p.goto(site.url + '?scenario=headless-statefulset');
  await p.waitForSelector('[data-testid=lesson][data-lesson=headless-statefulset]');
  assert.ok((await p.locator('[data-testid=goal]').count()) > 0, 'its goals are checked');
  assert.deepEqual(await violations(), []);
  assert.deepEqual(elsewhere, [], 'no request left the site');
  assert.deepEqual(errors, [], 'no error in the page');
  await p.screenshot({ path: join(OUT, 'e2e-17-offline.png') });
  await context.close();
});

test('a request through a Gateway in the browser: NGINX Gateway Fabric\'s data plane answers for a route that attached to no listener', async () => {
  await page.goto('about:blank');
  await page.goto(site.url + '?scenario=gateway-first-route');
  await page.waitForSelector('[data-testid=pod][data-pod="default/client"]');
  await page.click('[data-testid=tab-terminal]');
  const run = async (line, until) => {
    await page.fill('[data-testid=terminal-input]', line);
    await page.press('[data-testid=terminal-input]', 'Enter');
    await page.waitForFunction((u) => document.querySelector('[data-testid=terminal-output]').textContent.includes(u), until);
  };
  // The controller gave the Gateway its data plane's address.
  await run('kubectl get gateway', 'PROGRAMMED');
  let out = await page.textContent('[data-testid=terminal-output]');
  assert.match(out, /gateway\s+nginx\s+172\.18\.255\.\d+\s+True/);
  // The route names a listener the Gateway does not have.
  await run('kubectl get httproute cafe -o yaml', 'NoMatchingParent');
  // So nginx answers the request itself: its 404 page, its own hop.
  await run("kubectl exec client -- curl -s -H 'Host: cafe.example.com' http://gateway-nginx/coffee", '404 Not Found');
  await page.waitForSelector('[data-testid=verdict]');
  const actions = await hopActions();
  assert.ok(actions.includes('answered'), actions.join(','));
  out = await page.textContent('[data-testid=terminal-output]');
  assert.ok(out.includes('<hr><center>nginx</center>'), out);
  await page.screenshot({ path: join(OUT, 'e2e-16-gateway.png') });
});

test('the Gateway layer: the route across namespaces answers 500 until a ReferenceGrant, and the rule that took the request lights up', async () => {
  await page.goto('about:blank');
  await page.goto(site.url + '?scenario=gateway-canary-and-grants');
  await page.waitForSelector('[data-testid=gateway][data-gateway="infra/shared"]');
  // The store team's route is drawn under the platform team's Gateway, with its rules.
  const rules = await page.$$eval('[data-testid=route][data-route="store/store"] [data-testid=route-rule]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(rules, ['PathPrefix / → web-v1:80', 'PathPrefix /pay → payments/payments:8080']);
  await page.click('[data-testid=tab-terminal]');
  await page.fill('[data-testid=terminal-input]', 'curl -s http://store.example.com/pay/checkout');
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.waitForSelector('[data-testid=verdict]');
  await page.waitForSelector('[data-testid=gateway][data-active=true]');
  const active = await page.$$eval('[data-testid=route-rule][data-active=true]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(active, ['PathPrefix /pay → payments/payments:8080']);
  const http = await page.textContent('[data-testid=http-status]');
  assert.match(http, /HTTP 500 .* via Gateway infra\/shared/);
  // The data plane's hop, opened: the rule that matched, as the route writes it.
  await page.click('[data-testid=hop][data-action=answered] .hop-head');
  const rule = await page.textContent('[data-testid=hop-rule]');
  assert.ok(rule.includes('store/store rules[1].matches[0] (PathPrefix /pay → payments/payments:8080)'), rule);
  await page.locator('[data-testid=gateway][data-gateway="infra/shared"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUT, 'e2e-18-gateway-layer.png') });
});

test('migrating off ingress-nginx in the browser: ingress2gateway prints the Gateway and routes, and the trace says where the Gateway would send the request', async () => {
  await page.goto('about:blank');
  await page.goto(site.url + '?scenario=ingress-nginx-to-gateway');
  await page.waitForSelector('[data-testid=service][data-service="shop/api"]');
  await page.click('[data-testid=tab-terminal]');
  await page.fill('[data-testid=terminal-input]', 'ingress2gateway print --providers=ingress-nginx -n shop');
  await page.press('[data-testid=terminal-input]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=terminal-output]').textContent.includes('kind: HTTPRoute'));
  const out = await page.textContent('[data-testid=terminal-output]');
  assert.ok(out.includes('name: shop-shop-example-com'), out);
  assert.ok(out.includes('replacePrefixMatch: /'), out);
  assert.ok(out.includes('# warning: ingress shop/shop: an Ingress for this host has use-regex or rewrite-target'), out);
  await page.screenshot({ path: join(OUT, 'e2e-19-ingress2gateway.png') });
});
