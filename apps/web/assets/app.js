// queuectl dashboard. Plain JS, no dependencies. Every piece of job data reaches the DOM
// through textContent or setAttribute (never parsed as markup), so a job whose command or output
// holds markup shows it as text.
'use strict';

(() => {
  const STATES = ['pending', 'processing', 'completed', 'failed', 'dead', 'canceled'];
  const POLL_MS = 2000;
  const CHART_MS = 15000;
  const PAGE_SIZE = 25;
  const TOKEN_KEY = 'queuectl.token';

  const $ = (id) => document.getElementById(id);

  /** el('td', {class: 'x'}, 'text', childNode): attributes via setAttribute, strings as text nodes. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- talking to the API ---------------------------------------------------------------

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let tokenWait = null;

  function askToken(message) {
    if (tokenWait) return tokenWait;
    const dlg = $('token-dialog');
    const err = $('token-error');
    err.hidden = !message;
    err.textContent = message || '';
    tokenWait = new Promise((resolve) => {
      const form = $('token-form');
      let given = false;
      // Escape must not leave the page without a way back in.
      const keep = (ev) => ev.preventDefault();
      const closed = () => {
        if (given) return;
        const conn = $('conn');
        conn.textContent = 'a token is required: reload the page to enter it';
        conn.classList.add('bad');
      };
      const done = (ev) => {
        ev.preventDefault();
        token = $('token-input').value.trim();
        if (!token) return;
        given = true;
        sessionStorage.setItem(TOKEN_KEY, token);
        form.removeEventListener('submit', done);
        dlg.removeEventListener('cancel', keep);
        dlg.removeEventListener('close', closed);
        dlg.close();
        tokenWait = null;
        resolve();
      };
      form.addEventListener('submit', done);
      dlg.addEventListener('cancel', keep);
      dlg.addEventListener('close', closed);
      if (!dlg.open) dlg.showModal();
      $('token-input').focus();
    });
    return tokenWait;
  }

  class ApiError extends Error {
    constructor(status, id, message) {
      super(message);
      this.status = status;
      this.id = id;
    }
  }

  async function api(method, path, body) {
    for (;;) {
      const headers = { Accept: 'application/json' };
      if (token) headers.Authorization = 'Bearer ' + token;
      const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const res = await fetch(path, init);
      if (res.status === 401) {
        await askToken(token ? 'That token was not accepted. Try again.' : '');
        continue;
      }
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
      if (!res.ok) {
        const e = data && data.error ? data.error : { id: 'http', message: 'HTTP ' + res.status };
        throw new ApiError(res.status, e.id, e.message);
      }
      return data;
    }
  }

  const enc = encodeURIComponent;

  // ---- small helpers --------------------------------------------------------------------

  let toastTimer = 0;
  function toast(message, bad) {
    const t = $('toast');
    t.textContent = message;
    t.className = 'toast show' + (bad ? ' bad' : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; }, bad ? 6000 : 3000);
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return ms + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  }

  function fmtAgo(iso) {
    if (!iso) return '–';
    const d = (Date.now() - Date.parse(iso)) / 1000;
    if (d < -5) return 'in ' + fmtDuration(-d * 1000);
    if (d < 5) return 'just now';
    if (d < 60) return Math.round(d) + ' s ago';
    if (d < 3600) return Math.round(d / 60) + ' min ago';
    if (d < 86400) return Math.round(d / 3600) + ' h ago';
    return Math.round(d / 86400) + ' d ago';
  }

  function timeEl(iso) {
    if (!iso) return document.createTextNode('–');
    return el('time', { datetime: iso, title: iso }, fmtAgo(iso));
  }

  /** Runs an action button's request, disabling it meanwhile; refreshes the page after. */
  async function act(button, label, fn) {
    button.disabled = true;
    try {
      const msg = await fn();
      toast(msg || label + ': done');
    } catch (e) {
      toast(label + ': ' + e.message, true);
    } finally {
      button.disabled = false;
    }
    await refreshAll();
  }

  // ---- counts -----------------------------------------------------------------------------

  function renderStatus(s) {
    for (const b of document.querySelectorAll('#counts .count[data-state]')) {
      const st = b.dataset.state;
      b.querySelector('.n').textContent = st ? String(s.counts[st]) : String(s.total);
    }
    $('active-slots').textContent = String(s.workers.active);
    // Jobs whose executor plugin no live host has loaded wait until one starts with it.
    const missing = Object.entries(s.missing_executors || {});
    const note = $('missing-executors');
    note.hidden = !missing.length;
    note.textContent = missing.length
      ? 'Waiting for an executor no live host has loaded: ' +
        missing.map(([name, n]) => `${name} (${n} job${n === 1 ? '' : 's'})`).join(', ') +
        '. Start a host with --plugin ' + missing[0][0] + ' to run them.'
      : '';
  }

  function markStateFilter() {
    for (const b of document.querySelectorAll('#counts .count[data-state]'))
      b.setAttribute('aria-pressed', String(b.dataset.state === view.state));
  }

  // ---- chart ------------------------------------------------------------------------------

  let chartData = null;

  function renderChart(data) {
    chartData = data;
    const box = $('chart');
    // Drawn at the box's own width, so text keeps its size on a phone and on a wide screen.
    const W = Math.max(280, Math.round(box.clientWidth || 720)), H = 200, L = 36, R = 40, T = 10, B = 24;
    const buckets = data.buckets;
    const n = buckets.length;
    const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
    const top = niceCeil(max);
    const pw = (W - L - R) / n;
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title' });
    let ok = 0, failed = 0;
    for (const b of buckets) { ok += b.succeeded; failed += b.failed; }
    const total = ok + failed;
    const summary = total
      ? `${total} attempts finished in the last hour: ${ok} succeeded, ${failed} failed (${(100 * failed / total).toFixed(1)}% failure rate).`
      : 'No attempts finished in the last hour.';
    root.append(svg('title', { id: 'chart-title' }, 'Attempts per minute and failure rate. ' + summary));
    for (const v of [0, top / 2, top]) {
      root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      root.append(svg('text', { class: 'axis-label', x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v))));
    }
    root.append(svg('text', { class: 'axis-label', x: W - R + 6, y: y(top) + 4 }, '100%'));
    root.append(svg('text', { class: 'axis-label', x: W - R + 6, y: y(0) + 4 }, '0%'));
    root.append(svg('text', { class: 'axis-label', x: L, y: H - 6 }, `−${n} min`));
    root.append(svg('text', { class: 'axis-label', x: W - R, y: H - 6, 'text-anchor': 'end' }, 'now'));
    const points = [];
    buckets.forEach((b, i) => {
      const x = L + i * pw;
      const bw = Math.max(1, pw - 2);
      if (b.succeeded) root.append(svg('rect', { class: 'bar-ok', x: x + 1, width: bw, y: y(b.succeeded), height: y(0) - y(b.succeeded) }));
      if (b.failed) {
        const y0 = y(b.succeeded);
        root.append(svg('rect', { class: 'bar-failed', x: x + 1, width: bw, y: y(b.succeeded + b.failed), height: y0 - y(b.succeeded + b.failed) }));
      }
      const sum = b.succeeded + b.failed;
      if (sum) points.push(`${(x + pw / 2).toFixed(1)},${(T + (H - T - B) * (1 - b.failed / sum)).toFixed(1)}`);
      const hit = svg('rect', { class: 'hit', x, y: T, width: pw, height: H - T - B });
      const at = new Date(b.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      hit.append(svg('title', {}, `${at}: ${b.succeeded} succeeded, ${b.failed} failed`));
      root.append(hit);
    });
    if (points.length > 1) root.append(svg('polyline', { class: 'rate', points: points.join(' ') }));
    else if (points.length === 1) {
      const [px, py] = points[0].split(',');
      root.append(svg('circle', { class: 'rate', cx: px, cy: py, r: 3 }));
    }
    box.replaceChildren(root);
    $('chart-summary').textContent = summary;
  }

  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // ---- jobs table ---------------------------------------------------------------------------

  const view = { state: '', q: '', cursors: [null], page: 0, next: null, key: '' };

  function jobsPath() {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (view.state) p.set('state', view.state);
    if (view.q) p.set('q', view.q);
    const c = view.cursors[view.page];
    if (c) p.set('cursor', c);
    return '/api/jobs?' + p.toString();
  }

  async function refreshJobs(force) {
    const data = await api('GET', jobsPath());
    view.next = data.next_cursor;
    const key = JSON.stringify(data);
    if (!force && key === view.key) return;
    view.key = key;
    renderJobs(data.jobs);
  }

  function actionButtons(job, small) {
    const out = [];
    const cls = small ? 'small ' : '';
    if (job.state === 'dead')
      out.push(el('button', { type: 'button', class: cls + 'secondary', 'data-action': 'retry', 'data-id': job.id, 'aria-label': 'Retry job ' + job.id }, 'Retry'));
    if (job.state === 'pending' || job.state === 'failed' || job.state === 'processing')
      out.push(el('button', { type: 'button', class: cls + 'secondary', 'data-action': 'cancel', 'data-id': job.id, 'aria-label': 'Cancel job ' + job.id }, 'Cancel'));
    return out;
  }

  function renderJobs(jobs) {
    const body = $('jobs-body');
    const focused = document.activeElement;
    const refocus = focused && body.contains(focused) ? [focused.dataset.id, focused.dataset.action] : null;
    const rows = jobs.map((j) => el('tr', { 'data-id': j.id },
      el('td', {}, el('button', { type: 'button', class: 'link', 'data-action': 'open', 'data-id': j.id, title: j.id }, j.id)),
      el('td', {}, el('span', { class: 'badge ' + j.state }, j.state)),
      el('td', { class: 'num col-attempts' }, `${j.attempts}/${Math.max(1, j.max_retries)}`),
      el('td', { class: 'col-queue' }, j.queue),
      el('td', { class: 'cmd', title: j.command || j.executor }, el('code', {}, j.command || '(' + j.executor + ')')),
      el('td', { class: 'col-updated' }, timeEl(j.updated_at)),
      el('td', { class: 'row-actions' }, ...actionButtons(j, true))));
    body.replaceChildren(...rows);
    $('jobs-empty').hidden = jobs.length > 0;
    $('prev-page').disabled = view.page === 0;
    $('first-page').disabled = view.page === 0;
    $('next-page').disabled = !view.next;
    $('page-info').textContent = `page ${view.page + 1}`;
    if (refocus) {
      const id = CSS.escape(refocus[0] || '');
      // The same button, or the job's link when the action is gone (a retried job has no Retry).
      const again = body.querySelector(`button[data-id="${id}"][data-action="${CSS.escape(refocus[1] || '')}"]`) ||
        body.querySelector(`button[data-id="${id}"][data-action="open"]`);
      if (again) again.focus();
    }
  }

  function setFilter(state, q) {
    view.state = state;
    view.q = q;
    view.cursors = [null];
    view.page = 0;
    $('f-state').value = state;
    $('f-q').value = q;
    markStateFilter();
    return refreshJobs(true).catch(showError);
  }

  async function jobAction(action, id, button) {
    const path = '/api/jobs/' + enc(id);
    if (action === 'open') return openDetail(id, button);
    if (action === 'edit') {
      if (!$('edit-form').hidden) return closeEdit();
      if (detailJob && detailJob.id === id) openEdit(detailJob);
      return;
    }
    if (action === 'retry') return act(button, 'Retry ' + id, async () => { await api('POST', path + '/retry'); return `Job ${id} is pending again`; });
    if (action === 'cancel') return act(button, 'Cancel ' + id, async () => { await api('POST', path + '/cancel'); return `Job ${id} canceled`; });
    if (action === 'delete') {
      // Two steps instead of confirm(): no native dialog, still no accidental deletes.
      if (button.dataset.armed !== '1') {
        button.dataset.armed = '1';
        button.textContent = 'Really delete?';
        setTimeout(() => { button.dataset.armed = ''; button.textContent = 'Delete'; }, 4000);
        return;
      }
      return act(button, 'Delete ' + id, async () => {
        await api('DELETE', path);
        $('detail').close();
        return `Job ${id} deleted`;
      });
    }
  }

  // ---- job detail ---------------------------------------------------------------------------

  let detailId = null;
  let detailKey = '';

  async function openDetail(id, opener) {
    if (id !== detailId) closeEdit();
    detailId = id;
    detailKey = '';
    try {
      await refreshDetail();
    } catch (e) {
      detailId = null;
      return showError(e);
    }
    const dlg = $('detail');
    if (!dlg.open) dlg.showModal();
    $('detail-close').focus();
    dlg.opener = opener || null;
  }

  async function refreshDetail() {
    if (!detailId) return;
    const job = await api('GET', '/api/jobs/' + enc(detailId));
    const key = JSON.stringify(job);
    if (key === detailKey) return;
    detailKey = key;
    renderDetail(job);
  }

  function renderDetail(j) {
    $('detail-title').textContent = 'Job ' + j.id;
    const focused = document.activeElement;
    const refocus = focused && $('detail-actions').contains(focused) ? focused.dataset.action : null;
    const buttons = actionButtons(j, false);
    if (j.state !== 'processing') {
      buttons.push(el('button', { type: 'button', class: 'secondary', 'data-action': 'edit', 'data-id': j.id, 'aria-expanded': String(!$('edit-form').hidden) }, 'Edit'));
      buttons.push(el('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'data-id': j.id }, 'Delete'));
    }
    detailJob = j;
    $('detail-actions').replaceChildren(...buttons);
    if (refocus) {
      const again = $('detail-actions').querySelector(`[data-action="${CSS.escape(refocus)}"]`);
      if (again) again.focus();
    }
    const fields = [
      ['state', el('span', { class: 'badge ' + j.state }, j.state)],
      ['command', j.command ? el('code', {}, j.command) : '–'],
      ['executor', j.executor],
      ['queue', j.queue],
      ['attempts', `${j.attempts} of ${Math.max(1, j.max_retries)}`],
      ['priority', String(j.priority)],
      ['last error', j.last_error || '–'],
      ['exit code', j.exit_code === null ? '–' : String(j.exit_code)],
      ['run at', timeEl(j.run_at)],
      ['created', timeEl(j.created_at)],
      ['updated', timeEl(j.updated_at)],
      ['timeout', j.timeout ? j.timeout + ' s' : 'none'],
    ];
    if (j.cwd) fields.push(['cwd', j.cwd]);
    if (Object.keys(j.env || {}).length) fields.push(['env', el('code', {}, JSON.stringify(j.env, null, 2))]);
    if (Object.keys(j.payload || {}).length) fields.push(['payload', el('code', {}, JSON.stringify(j.payload, null, 2))]);
    if (j.lease_owner) fields.push(['worker', j.lease_owner]);
    $('detail-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));

    const history = j.history || [];
    $('detail-no-attempts').hidden = history.length > 0;
    $('detail-attempts').replaceChildren(...history.slice().reverse().map((a) => el('li', { class: 'attempt' },
      el('div', { class: 'attempt-head' },
        el('strong', {}, 'Attempt ' + a.number),
        el('span', { class: 'badge ' + (a.outcome === 'succeeded' ? 'completed' : a.outcome === 'running' ? 'processing' : 'dead') }, a.outcome),
        el('span', {}, 'exit code ' + (a.exit_code === null ? '–' : a.exit_code)),
        el('span', {}, 'duration ' + fmtDuration(a.duration_ms)),
        el('span', {}, 'started ', timeEl(a.started_at)),
        a.worker ? el('span', { class: 'muted' }, a.worker) : null),
      a.error ? el('p', { class: 'error' }, a.error) : null,
      el('pre', { tabindex: '0', 'aria-label': 'Output of attempt ' + a.number }, a.output || '(no output)'))));
  }

  // ---- editing a job (PATCH /api/jobs/{id}) -------------------------------------------------

  let detailJob = null;
  let editBase = null;  // the job as the form was filled from it
  const EDIT_TEXT = ['command', 'executor', 'queue', 'cwd', 'run_at'];
  const EDIT_NUM = ['priority', 'max_retries', 'timeout'];
  const EDIT_JSON = ['env', 'payload'];

  /** The moves the server allows from a state (docs/cli.md, "update"). */
  function moves(state) {
    const out = [];
    if (state !== 'pending' && state !== 'processing') out.push('pending');
    if (state === 'pending' || state === 'failed') out.push('canceled');
    return out;
  }

  function openEdit(j) {
    editBase = j;
    for (const k of EDIT_TEXT) $('edit-' + k).value = j[k] === null || j[k] === undefined ? '' : String(j[k]);
    for (const k of EDIT_NUM) $('edit-' + k).value = String(j[k]);
    for (const k of EDIT_JSON) $('edit-' + k).value = JSON.stringify(j[k] || {});
    $('edit-state').replaceChildren(el('option', { value: '' }, 'keep (' + j.state + ')'),
      ...moves(j.state).map((m) => el('option', { value: m }, 'move to ' + m)));
    $('edit-error').hidden = true;
    $('edit-form').hidden = false;
    markEditButton();
    $('edit-command').focus();
  }

  function closeEdit() {
    editBase = null;
    $('edit-form').hidden = true;
    $('edit-error').hidden = true;
    markEditButton();
  }

  function markEditButton() {
    const b = $('detail-actions').querySelector('[data-action="edit"]');
    if (b) b.setAttribute('aria-expanded', String(!$('edit-form').hidden));
  }

  /** The fields that differ from the job the form was filled from; throws on bad JSON or numbers. */
  function editBody() {
    const j = editBase;
    const body = {};
    for (const k of EDIT_TEXT) {
      const v = $('edit-' + k).value;
      if (v !== (j[k] === null || j[k] === undefined ? '' : String(j[k]))) body[k] = v;
    }
    for (const k of EDIT_NUM) {
      const v = $('edit-' + k).value.trim();
      if (v === String(j[k])) continue;
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) throw new Error(k + ': not a number');
      body[k] = n;
    }
    for (const k of EDIT_JSON) {
      const v = $('edit-' + k).value.trim();
      let o;
      try { o = JSON.parse(v || '{}'); } catch (_) { throw new Error(k + ': not valid JSON'); }
      if (JSON.stringify(o) !== JSON.stringify(j[k] || {})) body[k] = o;
    }
    if ($('edit-state').value) body.state = $('edit-state').value;
    return body;
  }

  async function saveEdit(ev) {
    ev.preventDefault();
    if (!editBase) return;
    const id = editBase.id;
    const err = $('edit-error');
    const save = $('edit-save');
    let body;
    try {
      body = editBody();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      return;
    }
    if (!Object.keys(body).length) {
      err.textContent = 'Nothing changed.';
      err.hidden = false;
      return;
    }
    save.disabled = true;
    try {
      await api('PATCH', '/api/jobs/' + enc(id), body);
      closeEdit();
      toast(`Job ${id} updated`);
      detailKey = '';
      await refreshDetail();
      $('detail-close').focus();
    } catch (e) {
      err.textContent = e.message;  // the server's one-line reason
      err.hidden = false;
    } finally {
      save.disabled = false;
    }
    refreshAll().catch(showError);
  }

  // ---- workers and config -------------------------------------------------------------------

  function renderWorkers(s) {
    const procs = s.workers.processes;
    if (!procs.length) {
      $('workers').replaceChildren(el('p', { class: 'muted' }, 'No worker is running. Start one with ', el('code', {}, 'queuectl worker start'), '.'));
      return;
    }
    const rows = procs.map((w) => el('tr', {},
      el('td', {}, w.hostname),
      el('td', { class: 'num' }, String(w.pid)),
      el('td', { class: 'num' }, String(w.slots)),
      el('td', {}, timeEl(w.heartbeat_at)),
      el('td', {}, w.liveness || (w.alive ? 'alive' : 'stale'))));
    $('workers').replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'kv' },
      el('thead', {}, el('tr', {}, ...['Host', 'PID', 'Slots', 'Heartbeat', 'State'].map((h, i) => el('th', { scope: 'col', class: i === 1 || i === 2 ? 'num' : null }, h)))),
      el('tbody', {}, ...rows))));
  }

  async function loadConfig() {
    const c = await api('GET', '/api/config');
    const rows = c.settings.map((s) => {
      const id = 'cfg-' + s.key;
      const input = el('input', { id, name: s.key, value: String(s.value), inputmode: typeof s.value === 'number' ? 'decimal' : null, autocomplete: 'off', 'aria-describedby': id + '-about' });
      const save = el('button', { type: 'submit', class: 'small secondary' }, 'Save');
      const form = el('form', { class: 'config-form' }, input, ' ', save);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        act(save, 'Set ' + s.key, async () => {
          const r = await api('POST', '/api/config/' + enc(s.key), { value: input.value.trim() });
          return `${r.key} = ${r.value}`;
        }).then(() => loadConfig().catch(showError));
      });
      return el('tr', { class: 'config-row' },
        el('td', {}, el('label', { for: id }, el('code', {}, s.key)), s.is_set ? null : el('div', { class: 'default' }, 'default')),
        el('td', {}, form, el('div', { class: 'about', id: id + '-about' }, s.about)));
    });
    $('config').replaceChildren(el('table', { class: 'kv' }, el('tbody', {}, ...rows)));
  }

  // ---- polling --------------------------------------------------------------------------------

  let lastChart = 0;
  let polling = false;

  function showError(e) {
    const conn = $('conn');
    conn.textContent = 'error: ' + e.message;
    conn.classList.add('bad');
  }

  async function refreshAll() {
    const s = await api('GET', '/api/status');
    renderStatus(s);
    renderWorkers(s);
    await refreshJobs(false);
    if ($('detail').open) await refreshDetail();
    if (Date.now() - lastChart > CHART_MS) {
      lastChart = Date.now();
      renderChart(await api('GET', '/api/metrics/throughput?minutes=60'));
    }
    const conn = $('conn');
    conn.classList.remove('bad');
    conn.textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  async function poll() {
    if (polling || document.hidden) return;
    polling = true;
    try {
      await refreshAll();
    } catch (e) {
      showError(e);
    } finally {
      polling = false;
    }
  }

  // ---- wiring -----------------------------------------------------------------------------------

  function wire() {
    for (const b of document.querySelectorAll('#counts .count[data-state]'))
      b.addEventListener('click', () => setFilter(b.dataset.state, $('f-q').value.trim()));
    $('filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      setFilter($('f-state').value, $('f-q').value.trim());
    });
    $('f-state').addEventListener('change', () => setFilter($('f-state').value, $('f-q').value.trim()));
    $('next-page').addEventListener('click', () => {
      if (!view.next) return;
      view.cursors[view.page + 1] = view.next;
      view.page += 1;
      refreshJobs(true).catch(showError);
    });
    $('prev-page').addEventListener('click', () => {
      if (view.page === 0) return;
      view.page -= 1;
      refreshJobs(true).catch(showError);
    });
    $('first-page').addEventListener('click', () => {
      view.page = 0;
      refreshJobs(true).catch(showError);
    });
    const onAction = (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (b) jobAction(b.dataset.action, b.dataset.id, b);
    };
    $('jobs-body').addEventListener('click', onAction);
    $('detail-actions').addEventListener('click', onAction);
    $('retry-all').addEventListener('click', (ev) => act(ev.currentTarget, 'Retry all dead', async () => {
      const r = await api('POST', '/api/dlq/retry-all');
      return `Requeued ${r.requeued} dead job${r.requeued === 1 ? '' : 's'}`;
    }));
    const detail = $('detail');
    $('detail-close').addEventListener('click', () => detail.close());
    $('edit-form').addEventListener('submit', saveEdit);
    $('edit-cancel').addEventListener('click', closeEdit);
    detail.addEventListener('close', () => {
      closeEdit();
      detailId = null;
      if (detail.opener && document.contains(detail.opener)) detail.opener.focus();
    });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
    let chartWidth = 0;
    new ResizeObserver(() => {
      const w = $('chart').clientWidth;
      if (chartData && Math.abs(w - chartWidth) > 8) {
        chartWidth = w;
        renderChart(chartData);
      }
    }).observe($('chart'));
  }

  async function start() {
    wire();
    markStateFilter();
    try {
      await refreshAll();
      await loadConfig();
    } catch (e) {
      showError(e);
    }
    setInterval(poll, POLL_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
