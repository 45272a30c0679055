// The Workers panel's Start / Resize / Stop buttons: POST /worker/start?num_workers=N and
// POST /worker/stop, the compatibility routes (docs/dashboard.md). They act on the worker
// slots of the process serving this page (`queuectl dashboard`, `queuectl-host --http`);
// Stop also stops the other worker processes of the queue on this host. The panel's table
// shows the result at the next refresh; a failure shows the server's error here.
'use strict';

(() => {
  const TOKEN_KEY = 'queuectl.token';  // set by app.js when the page asked for it
  const $ = (id) => document.getElementById(id);

  function say(text, bad) {
    const m = $('worker-msg');
    m.textContent = text;
    m.classList.toggle('bad', !!bad);
  }

  async function post(path) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, { method: 'POST', headers, cache: 'no-store', credentials: 'same-origin' });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) throw new Error(data && data.error ? data.error.message : 'HTTP ' + res.status);
    return data;
  }

  async function run(button, label, path, done) {
    const buttons = document.querySelectorAll('#worker-controls button');
    for (const b of buttons) b.disabled = true;
    say(label + '…');
    try {
      say(done(await post(path)));
    } catch (e) {
      say(label + ' failed: ' + e.message, true);
    } finally {
      for (const b of buttons) b.disabled = false;
      button.focus();
    }
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

  function startOrResize(button, label) {
    const n = $('worker-count').value.trim();
    run(button, label, '/worker/start?num_workers=' + encodeURIComponent(n), (r) =>
      `Running ${plural(r.slots, 'slot')} in this process` + (r.finishing ? ` (${r.finishing} finishing their job)` : ''));
  }

  function wire() {
    const form = $('worker-controls');
    if (!form) return;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      startOrResize($('worker-start'), 'Start');
    });
    $('worker-resize').addEventListener('click', (ev) => startOrResize(ev.currentTarget, 'Resize'));
    $('worker-stop').addEventListener('click', (ev) => run(ev.currentTarget, 'Stop', '/worker/stop', (r) =>
      `Stopping ${plural(r.stopped_slots, 'slot')} of this process; signalled ${plural(r.signalled, 'other worker process')}` +
      (r.other_hosts ? ` (${r.other_hosts} on other hosts not signalled)` : '')));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
  else wire();
})();
