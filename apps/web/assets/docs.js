// GET /docs: starts Swagger UI over /openapi.json (a file of its own: the page's CSP allows
// no inline script), or, in a build without Swagger UI, lists the routes of /openapi.json.
// With a token the dashboard was given in this tab, "Try it out" sends it; otherwise use
// Authorize (the `bearer` scheme of the document).
'use strict';

(() => {
  const TOKEN_KEY = 'queuectl.token';  // the dashboard's (app.js)

  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  async function plainList() {
    const box = document.getElementById('routes');
    try {
      const res = await fetch('/openapi.json', { cache: 'no-store' });
      const doc = await res.json();
      const table = el('table', undefined, { class: 'kv' });
      const head = el('tr');
      for (const h of ['Method', 'Path', 'Summary', 'Tags']) head.append(el('th', h, { scope: 'col' }));
      table.append(el('thead'), el('tbody'));
      table.tHead.append(head);
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (method === 'parameters') continue;
          const tr = el('tr', undefined, { class: 'route' });
          tr.append(el('td', method.toUpperCase()), el('td', path), el('td', op.summary || ''), el('td', (op.tags || []).join(', ')));
          table.tBodies[0].append(tr);
        }
      }
      box.replaceChildren(table);
    } catch (e) {
      box.replaceChildren(el('p', 'Could not read /openapi.json: ' + e.message));
    }
  }

  function swagger() {
    const token = sessionStorage.getItem(TOKEN_KEY) || '';
    const ui = window.SwaggerUIBundle({
      url: '/openapi.json',
      dom_id: '#swagger-ui',
      deepLinking: true,
      displayRequestDuration: true,
      validatorUrl: null,  // never ask a server elsewhere to validate the document
      onComplete: () => {
        if (token) ui.preauthorizeApiKey('bearer', token);
      },
    });
    window.ui = ui;
  }

  const run = () => (typeof window.SwaggerUIBundle === 'function' ? swagger() : plainList());
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
  else run();
})();
