// Small DOM helpers: element building, state badges, tables, dialogs, banners, menus, formats.
// Nothing here sets a style attribute (the CSP forbids inline styles): looks come from classes.

// h('div', {class: 'x', onclick: fn, text: 'hi'}, child...) builds an element. Children may be
// strings, nodes, arrays or null/false (skipped). Attributes with value null/false are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = tag === 'svg' || attrs.svg
      ? document.createElementNS('http://www.w3.org/2000/svg', tag)
      : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false || k === 'svg') continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// An SVG element (namespace-aware version of h).
export function s(tag, attrs = {}, ...children) {
  return h(tag, {...attrs, svg: true}, ...children);
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// --- state badges ----------------------------------------------------------------------------

const STATE_CLASS = {
  available: 'ok', running: 'ok', completed: 'ok', 'in-use': 'ok',
  pending: 'pending', stopping: 'pending', 'shutting-down': 'pending', creating: 'pending',
  deleting: 'pending', transient: 'pending',
  stopped: 'off', terminated: 'off', deregistered: 'off', deleted: 'off', disabled: 'off',
  failed: 'bad', error: 'bad', invalid: 'bad',
};

export function badge(state, title) {
  return h('span', {class: 'badge ' + (STATE_CLASS[state] || ''), 'data-state': state, title},
           state || 'unknown');
}

export const TRANSITIONAL = new Set(['pending', 'stopping', 'shutting-down', 'creating', 'deleting']);

// --- formats ---------------------------------------------------------------------------------

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  const text = i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1).replace(/\.0+$/, '');
  return text + ' ' + units[i];
}

export function formatTime(iso) {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const secs = Math.round((Date.now() - d.getTime()) / 1000);
  let rel;
  if (secs < 60) rel = 'just now';
  else if (secs < 3600) rel = Math.floor(secs / 60) + ' min ago';
  else if (secs < 86400) rel = Math.floor(secs / 3600) + ' h ago';
  else rel = Math.floor(secs / 86400) + ' d ago';
  return h('span', {class: 'nowrap', title: d.toISOString()}, rel);
}

export function nameTag(tags) {
  return tags && tags.Name ? tags.Name : '';
}

// --- banners ---------------------------------------------------------------------------------

let bannerBox = null;

export function setBannerBox(el) {
  bannerBox = el;
}

// kind: 'error' | 'success' | 'info'. content: string or nodes. Returns the banner element.
// A new banner replaces the older ones: the latest outcome is the one that matters.
export function banner(kind, ...content) {
  if (!bannerBox) return null;
  clear(bannerBox);
  const el = h('div', {class: 'banner ' + kind, role: kind === 'error' ? 'alert' : 'status'},
               h('div', {class: 'msg'}, ...content),
               h('button', {class: 'close', 'aria-label': 'Dismiss', onclick: () => el.remove()},
                 '\u00d7'));
  bannerBox.append(el);
  return el;
}

// Shows an ApiError (or any Error) as "Code: Message" in a red banner.
export function showError(err) {
  console.error(err);
  const code = err && err.code ? err.code : 'Error';
  return banner('error', h('span', {class: 'code'}, code + ': '), err && err.message || String(err));
}

// A banner for the next page (shown after the route change clears the current ones).
const flashes = [];
export function flash(kind, ...content) {
  flashes.push([kind, content]);
}

// Clears the banners, then shows the queued flashes.
export function clearBanners() {
  if (bannerBox) clear(bannerBox);
  for (const [kind, content] of flashes.splice(0)) banner(kind, ...content);
}

// --- tables ----------------------------------------------------------------------------------

// A data table. columns: [{title, render(row) -> node|string, num}]. rows: objects.
// opts.select: 'single' adds radio selection; opts.key(row) identifies rows; opts.selected is
// the key selected; opts.onSelect(row) is called with the selected row.
export function table(columns, rows, opts = {}) {
  const single = opts.select === 'single';
  const head = h('tr', {}, single ? h('th', {class: 'select'}) : null,
                 columns.map((c) => h('th', {class: c.num ? 'num' : null}, c.title)));
  const body = h('tbody');
  if (rows.length === 0) {
    body.append(h('tr', {}, h('td', {class: 'empty', colspan: columns.length + (single ? 1 : 0)},
                             opts.empty || 'Nothing to show')));
  }
  const name = 'sel-' + Math.random().toString(36).slice(2);
  for (const row of rows) {
    const key = opts.key ? opts.key(row) : null;
    const selected = single && key === opts.selected;
    const radio = single ? h('input', {type: 'radio', name, checked: selected,
                                       'aria-label': 'Select ' + key}) : null;
    const tr = h('tr', {class: (single ? 'selectable' : '') + (selected ? ' selected' : ''),
                        'data-key': key},
                 single ? h('td', {class: 'select'}, radio) : null,
                 columns.map((c) => h('td', {class: c.num ? 'num' : null}, c.render(row))));
    if (single) {
      tr.addEventListener('click', (e) => {
        if (e.target.closest('a, button')) return;
        for (const other of body.querySelectorAll('tr.selected')) other.classList.remove('selected');
        tr.classList.add('selected');
        radio.checked = true;
        if (opts.onSelect) opts.onSelect(row);
      });
    }
    body.append(tr);
  }
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data' + (opts.compact ? ' compact' : '')},
                                           h('thead', {}, head), body));
}

export function loading(text = 'Loading') {
  return h('div', {class: 'loading'}, h('span', {class: 'spinner'}), text + '\u2026');
}

// --- dialogs ---------------------------------------------------------------------------------

// A modal <dialog>: {title, body: node, actions: [buttons], narrow}. Returns {el, close}.
// Closing (Esc, Cancel, close()) removes it from the document.
export function dialog({title, body, actions = [], narrow = false, label}) {
  const el = h('dialog', {class: narrow ? 'narrow' : null, 'aria-label': label || title},
               h('div', {class: 'dialog-head'}, h('h2', {}, title),
                 h('button', {class: 'link', 'aria-label': 'Close dialog', onclick: () => close()}, '\u00d7')),
               h('div', {class: 'dialog-body'}, body),
               actions.length ? h('div', {class: 'form-actions'}, actions) : null);
  function close() {
    if (el.open) el.close();
    el.remove();
  }
  el.addEventListener('close', () => el.remove());
  document.body.append(el);
  el.showModal();
  return {el, close};
}

// Asks a yes/no question; resolves true on confirm.
export function confirmDialog({title, message, confirmText, danger = false, extra = null}) {
  return new Promise((resolve) => {
    let answered = false;
    const ok = h('button', {class: danger ? 'danger' : 'primary'}, confirmText);
    const cancel = h('button', {}, 'Cancel');
    const d = dialog({title, narrow: true, body: h('div', {}, h('p', {}, message), extra),
                      actions: [cancel, ok]});
    ok.addEventListener('click', () => { answered = true; d.close(); resolve(true); });
    cancel.addEventListener('click', () => d.close());
    d.el.addEventListener('close', () => { if (!answered) resolve(false); });
  });
}

// --- menus -----------------------------------------------------------------------------------

// A button that opens a dropdown. entries: [{group: 'Image'} | {label, onClick, disabled, sub}].
export function menuButton(label, entries, opts = {}) {
  const wrap = h('div', {class: 'menu-wrap'});
  const btn = h('button', {class: opts.primary ? 'primary' : null, 'aria-haspopup': 'menu',
                           disabled: opts.disabled}, label, ' \u25be');
  let menu = null;
  function closeMenu() {
    if (menu) menu.remove();
    menu = null;
    document.removeEventListener('click', outside, true);
  }
  function outside(e) {
    if (!wrap.contains(e.target)) closeMenu();
  }
  btn.addEventListener('click', () => {
    if (menu) return closeMenu();
    menu = h('div', {class: 'menu', role: 'menu'}, entries().map((e) => e.group
        ? h('div', {class: 'menu-group'}, e.group)
        : h('button', {role: 'menuitem', class: e.sub ? 'sub' : null, disabled: e.disabled,
                       onclick: () => { closeMenu(); e.onClick(); }}, e.label)));
    wrap.append(menu);
    document.addEventListener('click', outside, true);
  });
  wrap.append(btn);
  return wrap;
}

// --- polling ---------------------------------------------------------------------------------

// Calls fn every intervalMs (after the previous call finished) until stop(); fn returning
// false also stops it.
export function poller(fn, intervalMs) {
  let timer = null;
  let inFlight = false;
  let stopped = false;
  async function tick() {
    timer = null;
    if (stopped) return;
    inFlight = true;
    let again = true;
    try {
      again = (await fn()) !== false;
    } catch (e) {
      showError(e);
    }
    inFlight = false;
    if (again && !stopped) timer = setTimeout(tick, intervalMs);
  }
  return {
    start() {
      stopped = false;
      if (timer === null && !inFlight) timer = setTimeout(tick, intervalMs);
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
    get running() { return timer !== null || inFlight; },
  };
}
