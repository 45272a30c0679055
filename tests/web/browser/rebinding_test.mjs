// DNS rebinding, as a browser lives it (issue: a page whose name resolves to 127.0.0.1
// must not drive the dashboard). Chromium maps rebind.evil to 127.0.0.1
// (--host-resolver-rules): the attacker's page is served for http://rebind.evil:PORT/
// (the moment before the rebinding), then its script talks to "its own" origin, which
// now is the dashboard. Every request must be refused (421) and nothing stored. The
// control run with --allowed-host rebind.evil shows the same script succeeding, so the
// test would catch the hole.
//
// usage: Q=queuectl H=queuectl-host node rebinding_test.mjs
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
if (!Q) fail('Q must point at queuectl');
if (!fs.existsSync(CHROMIUM)) fail(`Chromium not found at ${CHROMIUM} (scripts/install-deps.sh installs it)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  fail(`playwright-core is not installed (${e.code || e.message}): run 'npm ci --prefix tests/web/browser'`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'queuectl-rebind-'));
const env = { ...process.env, QUEUECTL_HOME: path.join(tmp, 'home'), QUEUECTL_DB: path.join(tmp, 'home', 'queue.db') };
delete env.QUEUECTL_TOKEN;
delete env.QUEUECTL_ALLOWED_HOSTS;
fs.mkdirSync(env.QUEUECTL_HOME);
const children = [];
let browser = null;
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!process.env.KEEP_T) fs.rmSync(tmp, { recursive: true, force: true });
});

const jobExists = (id) => {
  try {
    execFileSync(Q, ['show', id, '--json'], { env, stdio: 'pipe' });
    return true;
  } catch (e) {
    if (e.status === 3) return false;
    throw e;
  }
};

function startDashboard(extra = []) {
  const p = spawn(Q, ['dashboard', '--bind', '127.0.0.1:0', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dashboard did not start: ' + stderr)), 20000);
    readline.createInterface({ input: p.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (m) resolve({ proc: p, port: Number(m[1]) });
      else reject(new Error('unexpected first line: ' + line + ' ' + stderr));
    });
  });
}

// The attacker's page: it creates a job, changes a setting and reads the job list,
// all on its own origin, and records what it got.
const attackPage = (jobId) => `<!doctype html><title>cute cats</title><script>
window.results = (async () => {
  const out = {};
  const post = (p, body) => fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  out.enqueue = (await post('/api/jobs', { id: ${JSON.stringify(jobId)}, command: 'id > /dev/null' })).status;
  out.config = (await post('/api/config/max-retries', { value: 9 })).status;
  const list = await fetch('/api/jobs');
  out.list = list.status;
  out.listBody = await list.text();
  out.page = (await fetch('/')).status;
  out.openapi = (await fetch('/openapi.json')).status;
  return out;
})();
</script>`;

async function attack(port, jobId) {
  const page = await browser.newPage();
  const origin = `http://rebind.evil:${port}`;
  // Only the document comes from the "attacker's server"; every fetch goes to the network.
  await page.route(origin + '/', (route) =>
    route.request().resourceType() === 'document'
      ? route.fulfill({ status: 200, contentType: 'text/html', body: attackPage(jobId) })
      : route.continue());
  await page.goto(origin + '/', { waitUntil: 'load' });
  const r = await page.evaluate(() => window.results);
  await page.close();
  return r;
}

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--host-resolver-rules=MAP rebind.evil 127.0.0.1',
           // Chromium's own Local Network Access guard would block the fetches before they reach
           // us; other browsers have none, and this test is about the server's defence.
           '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights'],
  });

  const guarded = await startDashboard();
  const r = await attack(guarded.port, 'rebound');
  for (const k of ['enqueue', 'config', 'list', 'page', 'openapi'])
    if (r[k] !== 421) fail(`rebound request '${k}' answered ${r[k]}, expected 421: ${JSON.stringify(r)}`);
  if (/"jobs"/.test(r.listBody)) fail('the job list was readable: ' + r.listBody.slice(0, 200));
  if (jobExists('rebound')) fail('the rebound page created a job');
  const maxRetries = execFileSync(Q, ['config', 'get', 'max-retries'], { env, encoding: 'utf8' }).trim();
  if (maxRetries !== '3') fail('the rebound page changed max-retries to ' + maxRetries);
  ok('a rebound page gets 421 for the API, the page and /openapi.json; nothing stored or read');

  // Navigating there directly shows no dashboard either.
  const page = await browser.newPage();
  const resp = await page.goto(`http://rebind.evil:${guarded.port}/`);
  if (resp.status() !== 421) fail(`the dashboard page under a foreign name answered ${resp.status()}`);
  await page.close();
  // The real name still works.
  const real = await browser.newPage();
  const own = await real.goto(`http://127.0.0.1:${guarded.port}/`);
  if (own.status() !== 200) fail(`the dashboard on 127.0.0.1 answered ${own.status()}`);
  const local = await real.goto(`http://localhost:${guarded.port}/api/status`);
  if (local.status() !== 200) fail(`/api/status on localhost answered ${local.status()}`);
  await real.close();
  ok('the dashboard under 127.0.0.1 and localhost still works');

  // Control: a name the user allowed is answered, so the same attack would have worked.
  const allowed = await startDashboard(['--allowed-host', 'rebind.evil']);
  const c = await attack(allowed.port, 'allowed-name');
  if (c.enqueue !== 201 || !jobExists('allowed-name')) fail('control: the allowed name was not served: ' + JSON.stringify(c));
  ok('control: with --allowed-host rebind.evil the same page reaches the API (the check is what stops it)');

  await browser.close();
  browser = null;
  console.log('all rebinding checks passed');
  process.exit(0);
} catch (e) {
  if (browser) await browser.close().catch(() => {});
  fail(e.stack || String(e));
}
