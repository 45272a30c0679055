// The dashboard in real headless Chromium (playwright-core driving the system's
// /usr/bin/chromium): the page loads with no console error, shows a job enqueued through
// the CLI, renders a job whose output is <script>alert(1)</script> as text (no dialog
// ever opens), a click on Retry moves a dead job to pending, Escape closes the job
// detail, the token prompt works, and the layout fits a phone. Screenshots go to the
// build directory given as the first argument.
//
// usage: Q=queuectl H=queuectl-host node dashboard_test.mjs OUT_DIR
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
const H = process.env.H;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = process.argv[2] || process.cwd();
if (!Q || !H) fail('Q and H must point at queuectl and queuectl-host');
if (!fs.existsSync(CHROMIUM))
  fail(`Chromium not found at ${CHROMIUM}: install the Debian package 'chromium' (scripts/install-deps.sh does)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  fail(`playwright-core is not installed (${e.code || e.message}): run 'npm ci --prefix tests/web/browser' ` +
       '(scripts/install-deps.sh does)');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'queuectl-browser-'));
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

/** Starts `queuectl dashboard` on a free port; resolves to its URL (first stdout line). */
function startDashboard(extra = [], extraEnv = {}) {
  const p = spawn(Q, ['dashboard', '--bind', '127.0.0.1:0', ...extra], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dashboard did not start: ' + stderr)), 20000);
    readline.createInterface({ input: p.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /serving (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error('unexpected first line: ' + line + ' ' + stderr));
    });
  });
}

/** Collects console errors, page errors, failed requests and dialogs of a page. */
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

const XSS = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(2)>';

try {
  // ---- data, made through the CLI and the host --------------------------------------------------
  cli('enqueue', JSON.stringify({ id: 'dead-job', command: 'echo about to fail; exit 1', max_retries: 1 }));
  cli('enqueue', JSON.stringify({ id: 'xss-job', command: `echo '${XSS}'; echo '${IMG}'` }));
  for (let i = 0; i < 4; i++) cli('enqueue', JSON.stringify({ id: `done-${i}`, command: `echo finished ${i}` }));
  execFileSync(H, ['--plugin', 'shell', '--workers', '2', '--drain'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (stateOf('dead-job') !== 'dead') fail('dead-job is not dead after the drain');
  cli('enqueue', JSON.stringify({ id: 'cli-visible-job', command: 'echo enqueued from the CLI', queue: 'reports' }));
  ok('jobs prepared: one dead, one with markup in its output, one pending');

  const url = await startDashboard();
  const profile = path.join(tmp, 'profile');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = watch(page);
  page.setDefaultTimeout(15000);

  // ---- loads, shows the CLI's job and live counts ------------------------------------------------
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#jobs-body button[data-action="open"][data-id="cli-visible-job"]');
  ok('page shows the job enqueued through the CLI');
  await page.waitForFunction(() => document.querySelector('#counts .count[data-state="dead"] .n').textContent === '1');
  await page.waitForFunction(() => document.querySelector('#counts .count[data-state="completed"] .n').textContent === '5');
  await page.waitForSelector('#chart svg rect.bar-ok');
  if (await page.locator('#chart svg rect.bar-failed').count() < 1) fail('chart shows no failed attempt');
  await page.waitForSelector('#config input#cfg-max-retries');
  ok('counts, chart and config rendered');

  // Counts follow the queue without a reload (short poll).
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  cli('enqueue', JSON.stringify({ id: 'late-job', command: 'true' }));
  await page.waitForFunction(() => document.querySelector('#counts .count[data-state="pending"] .n').textContent === '2');
  await page.waitForSelector('#jobs-body button[data-id="late-job"]');
  if (navigations.length) fail('the page navigated: ' + navigations.join(', '));
  ok('live update without a page reload');

  // No host is running: the pending shell jobs wait for an executor no live host has.
  await page.waitForSelector('#missing-executors:not([hidden])');
  const missingText = await page.textContent('#missing-executors');
  if (!/shell \(2 jobs\)/.test(missingText)) fail('missing-executor note: ' + missingText);
  ok('the page says which executor the waiting jobs lack');

  // ---- markup in output stays text ---------------------------------------------------------------
  await page.click('#jobs-body button[data-action="open"][data-id="xss-job"]');
  await page.waitForSelector('#detail[open]');
  const pre = page.locator('#detail-attempts pre').first();
  await pre.waitFor();
  const text = await pre.textContent();
  if (!text.includes(XSS) || !text.includes(IMG)) fail('output not shown as text: ' + JSON.stringify(text));
  const injected = await page.evaluate(() => ({
    scripts: document.querySelectorAll('script').length,
    imgs: document.querySelectorAll('img').length,
    preChildren: document.querySelector('#detail-attempts pre').children.length,
  }));
  // The page's own scripts are app.js and workers.js.
  if (injected.scripts !== 2 || injected.imgs !== 0 || injected.preChildren !== 0)
    fail('markup from job output became elements: ' + JSON.stringify(injected));
  ok('job output <script>/<img onerror> rendered as text, no element created');
  await page.screenshot({ path: path.join(OUT, 'dashboard-detail.png') });

  // Escape closes the detail; focus returns to the link that opened it.
  await page.keyboard.press('Escape');
  await page.waitForSelector('#detail', { state: 'hidden' });
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.id);
  if (focused !== 'xss-job') fail('focus did not return to the job link, but to ' + focused);
  ok('Escape closes the job detail and focus goes back');

  // ---- keyboard: the detail opens with Enter, actions are real buttons ---------------------------
  await page.focus('#jobs-body button[data-action="open"][data-id="dead-job"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail[open] #detail-actions button[data-action="retry"]');
  const attempts = await page.locator('#detail-attempts li').count();
  if (attempts !== 1) fail(`dead-job detail shows ${attempts} attempts`);
  const head = await page.locator('#detail-attempts .attempt-head').first().textContent();
  if (!/exit code 1/.test(head) || !/duration/.test(head)) fail('attempt header lacks exit code/duration: ' + head);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#detail', { state: 'hidden' });
  ok('detail by keyboard: attempt with exit code and duration');

  // ---- retry from the table ------------------------------------------------------------------------
  await page.click('#jobs-body button[data-action="retry"][data-id="dead-job"]');
  await page.waitForSelector('#jobs-body tr[data-id="dead-job"] .badge.pending');
  if (stateOf('dead-job') !== 'pending') fail('dead-job is not pending in storage after Retry');
  await page.waitForFunction(() => document.querySelector('#counts .count[data-state="dead"] .n').textContent === '0');
  ok('Retry moved the dead job to pending');

  // ---- search and state filter -----------------------------------------------------------------------
  await page.fill('#f-q', 'from the cli');
  await page.press('#f-q', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-body tr').length === 1);
  if ((await page.locator('#jobs-body tr').first().getAttribute('data-id')) !== 'cli-visible-job') fail('search result');
  await page.fill('#f-q', '');
  await page.click('#counts .count[data-state="completed"]');  // takes the search box as it is now
  await page.waitForFunction(() => document.querySelectorAll('#jobs-body tr').length === 5);
  await page.click('#counts .count[data-state=""]');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-body tr').length === 8);
  ok('search and state filter');

  // A couple of polls with nothing going wrong, then the screenshots (without the toast).
  await page.waitForTimeout(2500);
  await page.waitForSelector('#toast:not(.show)');
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(OUT, 'dashboard-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) fail(`the page is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: path.join(OUT, 'dashboard-phone.png'), fullPage: true });
  ok('screenshots in ' + OUT);
  if (problems.length) fail('problems on the page:\n  ' + problems.join('\n  '));
  ok('no console error, no failed request, no dialog');

  // ---- Edit in the job detail (PATCH /api/jobs/{id}, issue 10) ---------------------------------------
  // Its own page: refused PATCHes log "status of 400" in the console, which is expected here.
  const epage = await context.newPage();
  const editProblems = watch(epage, (t) => /status of 40[09]/.test(t));
  epage.setDefaultTimeout(15000);
  await epage.goto(url, { waitUntil: 'load' });
  await epage.click('#jobs-body button[data-action="open"][data-id="late-job"]');
  await epage.click('#detail[open] #detail-actions button[data-action="edit"]');
  await epage.waitForSelector('#edit-form:not([hidden])');
  if ((await epage.inputValue('#edit-command')) !== 'true') fail('the edit form is not filled from the job');
  const moves = await epage.$$eval('#edit-state option', (os) => os.map((o) => o.value));
  if (JSON.stringify(moves) !== JSON.stringify(['', 'canceled'])) fail('moves offered for a pending job: ' + moves);
  await epage.fill('#edit-command', 'echo edited in the browser');
  await epage.fill('#edit-priority', '9');
  await epage.fill('#edit-env', '{"FROM": "browser"}');
  await epage.click('#edit-save');
  await epage.waitForSelector('#edit-form', { state: 'hidden' });
  await epage.waitForFunction(() => /echo edited in the browser/.test(document.querySelector('#detail-fields').textContent));
  const edited = JSON.parse(cli('show', 'late-job', '--json'));
  if (edited.command !== 'echo edited in the browser' || edited.priority !== 9 || edited.env.FROM !== 'browser' ||
      edited.max_retries !== 3)
    fail('Edit did not store exactly the changed fields: ' + JSON.stringify(edited));
  ok('Edit in the job detail saves the changed fields (PATCH), the detail shows them');

  // Refused by the server: its one-line reason under the form, nothing stored.
  await epage.click('#detail-actions button[data-action="edit"]');
  await epage.fill('#edit-max_retries', '5000');
  await epage.click('#edit-save');
  await epage.waitForSelector('#edit-error:not([hidden])');
  const reason = await epage.textContent('#edit-error');
  if (!/max_retries/.test(reason)) fail('the error line does not give the server\'s reason: ' + reason);
  if (JSON.parse(cli('show', 'late-job', '--json')).max_retries !== 3) fail('a refused edit changed the job');
  // Bad JSON is caught before any request.
  await epage.fill('#edit-max_retries', '3');
  await epage.fill('#edit-payload', '{not json');
  await epage.click('#edit-save');
  await epage.waitForFunction(() => /payload: not valid JSON/.test(document.querySelector('#edit-error').textContent));
  await epage.click('#edit-cancel');
  await epage.waitForSelector('#edit-form', { state: 'hidden' });
  await epage.keyboard.press('Escape');
  await epage.waitForSelector('#detail', { state: 'hidden' });
  // A completed job can go back to pending (and only there).
  await epage.click('#jobs-body button[data-action="open"][data-id="done-0"]');
  await epage.click('#detail[open] #detail-actions button[data-action="edit"]');
  const doneMoves = await epage.$$eval('#edit-state option', (os) => os.map((o) => o.value));
  if (JSON.stringify(doneMoves) !== JSON.stringify(['', 'pending'])) fail('moves offered for a completed job: ' + doneMoves);
  await epage.selectOption('#edit-state', 'pending');
  await epage.fill('#edit-run_at', '2099-01-01T00:00:00Z');
  await epage.click('#edit-save');
  await epage.waitForSelector('#edit-form', { state: 'hidden' });
  const again = JSON.parse(cli('show', 'done-0', '--json'));
  if (again.state !== 'pending' || again.attempts !== 0) fail('completed -> pending through Edit: ' + JSON.stringify(again));
  ok('Edit shows the server\'s error line and changes nothing on a refusal; offers only the moves the state allows');
  await epage.close();
  if (editProblems.length) fail('problems on the edit page:\n  ' + editProblems.join('\n  '));

  // ---- with a token: the page asks once, keeps it for the tab ----------------------------------------
  const tokUrl = await startDashboard(['--token', 'browser-secret']);
  const tpage = await context.newPage();
  // The first API call is refused with 401 (that is how the page learns it needs a token);
  // the reload below cancels the poll in flight.
  const tokProblems = watch(tpage, (t) => /status of 401/.test(t) || /ERR_ABORTED/.test(t));
  await tpage.goto(tokUrl, { waitUntil: 'load' });
  await tpage.waitForSelector('#token-dialog[open]');
  await tpage.fill('#token-input', 'wrong');
  await tpage.press('#token-input', 'Enter');
  await tpage.waitForSelector('#token-error:not([hidden])');
  await tpage.fill('#token-input', 'browser-secret');
  await tpage.press('#token-input', 'Enter');
  await tpage.waitForSelector('#jobs-body button[data-id="cli-visible-job"]');
  const stored = await tpage.evaluate(() => sessionStorage.getItem('queuectl.token'));
  if (stored !== 'browser-secret') fail('token not kept in sessionStorage');
  await tpage.reload({ waitUntil: 'load' });
  await tpage.waitForSelector('#jobs-body button[data-id="cli-visible-job"]');
  if (await tpage.locator('#token-dialog[open]').count()) fail('asked for the token again after a reload');
  if (tokProblems.length) fail('problems on the token page:\n  ' + tokProblems.join('\n  '));
  ok('token asked once, wrong token refused, kept in sessionStorage');

  await context.close();
  context = null;
  console.log('all browser checks passed');
  process.exit(0);
} catch (e) {
  if (context) {
    // What the page looked like when it went wrong.
    for (const p of context.pages()) await p.screenshot({ path: path.join(OUT, 'dashboard-failure.png') }).catch(() => {});
    await context.close().catch(() => {});
  }
  fail(e.stack || String(e));
}
