// Issue 10 in real headless Chromium (playwright-core driving /usr/bin/chromium): GET /docs
// renders Swagger UI over /openapi.json under the server's CSP with no console error, lists
// the compatibility routes, and "Try it out" calls this server, through Authorize when a
// token is set; the dashboard's Workers panel Start / Resize / Stop buttons run and stop
// slots in the dashboard's process (checked through `queuectl status` and a job that runs),
// and a refused count shows the server's error. Screenshots go to OUT_DIR.
//
// usage: Q=queuectl H=queuectl-host node compat_test.mjs OUT_DIR
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const fail = (msg) => {
  console.error('FAIL: ' + msg);
  process.exit(1);
};
const ok = (msg) => console.log('ok: ' + msg);

const Q = process.env.Q;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = process.argv[2] || process.cwd();
if (!Q) fail('Q must point at queuectl');
if (!fs.existsSync(CHROMIUM))
  fail(`Chromium not found at ${CHROMIUM}: install the Debian package 'chromium' (scripts/install-deps.sh does)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  fail(`playwright-core is not installed (${e.code || e.message}): run 'npm ci --prefix tests/web/browser' ` +
       '(scripts/install-deps.sh does)');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'queuectl-compat-'));
const env = { ...process.env, QUEUECTL_HOME: path.join(tmp, 'home'), QUEUECTL_DB: path.join(tmp, 'home', 'queue.db') };
delete env.QUEUECTL_TOKEN;
fs.mkdirSync(env.QUEUECTL_HOME);
const children = [];
let context = null;
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!process.env.KEEP_T) fs.rmSync(tmp, { recursive: true, force: true });
});

const cli = (...args) => execFileSync(Q, args, { env, encoding: 'utf8' });
const stateOf = (id) => JSON.parse(cli('show', id, '--json')).state;
const activeSlots = () => JSON.parse(cli('status', '--json')).workers.active;

/** Polls `check` every 100 ms until it returns true; fails with `what` after `ms`. */
async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    let last;
    try {
      if (check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) fail(`timed out waiting for ${what}` + (last ? ': ' + last.message : ''));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `queuectl dashboard` on a free port; resolves to its URL (first stdout line). */
function startDashboard(extra = []) {
  const p = spawn(Q, ['dashboard', '--bind', '127.0.0.1:0', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dashboard did not start: ' + stderr)), 20000);
    readline.createInterface({ input: p.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /serving (http:\/\/\S+?)\/? /.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error('unexpected first line: ' + line + ' ' + stderr));
    });
  });
}

/** Collects console errors and warnings (CSP refusals are console errors), page errors, failed requests. */
function watch(page, allow = () => false) {
  const problems = [];
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !allow(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    const m = `request failed: ${r.url()} ${r.failure() && r.failure().errorText}`;
    if (!allow(m)) problems.push(m);
  });
  page.on('dialog', async (d) => {
    problems.push(`dialog opened (${d.type()}): ${d.message()}`);
    await d.dismiss();
  });
  return problems;
}

/** Expands one Swagger UI operation, "Try it out", "Execute"; resolves to the status shown. */
async function tryItOut(page, opId) {
  const op = page.locator(`[id$="-${opId}"]`).first();
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  return (await status.textContent()).trim();
}

try {
  const url = await startDashboard();
  fs.mkdirSync(OUT, { recursive: true });
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);

  // ---- /docs: Swagger UI, every route of /openapi.json, under the CSP ------------------------------
  const docsProblems = watch(page);
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:')) external.push(r.url()); });
  const res = await page.goto(url + '/docs', { waitUntil: 'load' });
  const csp = res.headers()['content-security-policy'] || '';
  if (!/default-src 'self'/.test(csp) || /unsafe|script-src/.test(csp)) fail('/docs is served without the CSP: ' + csp);
  await page.waitForSelector('#swagger-ui .opblock');
  const doc = JSON.parse(await (await page.request.get(url + '/openapi.json')).text());
  let expected = 0;
  for (const item of Object.values(doc.paths)) expected += Object.keys(item).filter((m) => m !== 'parameters').length;
  const shown = await page.evaluate(() => [...document.querySelectorAll('#swagger-ui .opblock')].map((o) =>
    o.querySelector('.opblock-summary-method').textContent + ' ' + o.querySelector('.opblock-summary-path').getAttribute('data-path')));
  // An operation with two tags is shown under each.
  const distinct = new Set(shown).size;
  if (distinct !== expected) fail(`Swagger UI shows ${distinct} operations, /openapi.json has ${expected}`);
  for (const want of ['POST /enqueue', 'GET /list', 'GET /status', 'GET /dlq/list', 'POST /dlq/retry', 'POST /config/set',
                      'GET /config/get', 'GET /worker/start', 'POST /worker/start', 'GET /worker/stop', 'POST /worker/stop',
                      'GET /docs', 'POST /api/jobs'])
    if (!shown.includes(want)) fail(`Swagger UI does not show ${want}: ${shown.join(', ')}`);
  if (!(await page.locator('#operations-tag-compatibility').count())) fail('no "compatibility" tag section');
  ok(`/docs renders Swagger UI with all ${expected} operations, the compatibility routes among them`);

  cli('enqueue', JSON.stringify({ id: 'docs-job', command: 'echo from docs' }));
  const st = await tryItOut(page, 'compatGetStatus');
  if (st !== '200') fail('Try it out GET /status answered ' + st);
  const bodyText = await page.locator('[id$="-compatGetStatus"] .live-responses-table .response-col_description pre').first().textContent();
  if (JSON.parse(bodyText).counts.pending !== 1) fail('Try it out GET /status body: ' + bodyText);
  ok('Try it out: GET /status answered 200 from this server with the queue\'s counts');
  await page.screenshot({ path: path.join(OUT, 'docs.png') });
  if (external.length) fail('/docs fetched from elsewhere: ' + external.join(', '));
  if (docsProblems.length) fail('problems on /docs:\n  ' + docsProblems.join('\n  '));
  ok('no console error (no CSP refusal), no failed request, nothing fetched from elsewhere');

  // ---- the Workers panel: Start / Resize / Stop ------------------------------------------------------
  const dash = await context.newPage();
  const dashProblems = watch(dash, (t) => /status of 400/.test(t));
  await dash.goto(url + '/', { waitUntil: 'load' });
  await dash.waitForSelector('#workers p.muted');  // "No worker is running"
  if (activeSlots() !== 0) fail('workers before Start');
  await dash.fill('#worker-count', '2');
  await dash.click('#worker-start');
  await dash.waitForFunction(() => /Running 2 slots/.test(document.getElementById('worker-msg').textContent));
  await until('2 active slots after Start', () => activeSlots() === 2);
  await until('docs-job completed', () => stateOf('docs-job') === 'completed');
  await dash.waitForFunction(() => [...document.querySelectorAll('#workers td.num')].some((td) => td.textContent === '2'));
  ok('Start with 2: the dashboard runs 2 slots (queuectl status), a job ran, the panel lists them');

  await dash.fill('#worker-count', '1');
  await dash.click('#worker-resize');
  await dash.waitForFunction(() => /Running 1 slot\b/.test(document.getElementById('worker-msg').textContent));
  await until('1 active slot after Resize', () => activeSlots() === 1);
  await dash.fill('#worker-count', '5000');
  await dash.click('#worker-resize');
  await dash.waitForSelector('#worker-msg.bad');
  const err = await dash.textContent('#worker-msg');
  if (!/Resize failed: num_workers: '5000' is not an integer from 1 to 1024/.test(err)) fail('error shown: ' + err);
  if (activeSlots() !== 1) fail('a refused resize changed the slots');
  ok('Resize to 1 applied; 5000 refused with the server\'s message shown');

  await dash.click('#worker-stop');
  await dash.waitForFunction(() => /Stopping 1 slot of this process/.test(document.getElementById('worker-msg').textContent));
  await until('no active slot after Stop', () => activeSlots() === 0);
  await dash.waitForSelector('#workers p.muted');
  cli('enqueue', JSON.stringify({ id: 'after-stop', command: 'true' }));
  await new Promise((r) => setTimeout(r, 800));
  if (stateOf('after-stop') !== 'pending') fail('a job ran after Stop');
  await dash.screenshot({ path: path.join(OUT, 'dashboard-workers.png'), fullPage: true });
  if (dashProblems.length) fail('problems on the dashboard:\n  ' + dashProblems.join('\n  '));
  ok('Stop: no slot left, nothing runs; no console error');

  // ---- with a token: Authorize, then Try it out ------------------------------------------------------
  const tokUrl = await startDashboard(['--token', 'docs-secret']);
  const tpage = await context.newPage();
  const tokProblems = watch(tpage, (t) => /status of 401/.test(t));
  await tpage.goto(tokUrl + '/docs', { waitUntil: 'load' });
  await tpage.waitForSelector('#swagger-ui .opblock');
  const denied = await tryItOut(tpage, 'getStatus');
  if (denied !== '401') fail('without Authorize GET /api/status answered ' + denied);
  await tpage.click('.auth-wrapper button.authorize');
  await tpage.fill('.modal-ux input[type="text"], .modal-ux input[type="password"]', 'docs-secret');
  await tpage.click('.modal-ux .auth-btn-wrapper button.authorize');
  await tpage.click('.modal-ux button.btn-done');
  await tpage.locator('[id$="-getStatus"] button.execute').click();
  await tpage.waitForFunction(() => {
    const s = document.querySelector('[id$="-getStatus"] .live-responses-table .response .response-col_status');
    return s && s.textContent.trim() === '200';
  });
  ok('with --token: Try it out answers 401, and 200 after Authorize with the token');
  // A token the dashboard keeps for this tab (sessionStorage) is used without Authorize.
  await tpage.evaluate(() => sessionStorage.setItem('queuectl.token', 'docs-secret'));
  await tpage.goto('about:blank');  // a fresh load, without the #operation deep link of before
  await tpage.goto(tokUrl + '/docs', { waitUntil: 'load' });
  await tpage.waitForSelector('#swagger-ui .opblock');
  const pre = await tryItOut(tpage, 'getStatus');
  if (pre !== '200') fail('with the dashboard\'s token in sessionStorage GET /api/status answered ' + pre);
  if (tokProblems.length) fail('problems on the tokened /docs:\n  ' + tokProblems.join('\n  '));
  ok('the dashboard\'s token in this tab authorizes Try it out');

  await context.close();
  context = null;
  console.log('all compat browser checks passed');
  process.exit(0);
} catch (e) {
  if (context) {
    for (const p of context.pages()) await p.screenshot({ path: path.join(OUT, 'compat-failure.png') }).catch(() => {});
    await context.close().catch(() => {});
  }
  fail(e.stack || String(e));
}
