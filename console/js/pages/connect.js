// Connect: a terminal in the page (xterm.js, vendored from npm into vendor/) attached over a
// WebSocket to a shell in the instance (GET /kiln/v1/instances/<id>/connect, upgraded).
// Binary frames carry terminal bytes both ways; the client sends {"type":"resize"} text frames;
// the server sends {"type":"exit","code":N} when the shell ends, then closes.

import {h, showError} from '../dom.js';
import {TERMINAL_OPTIONS} from '../terminal_options.js';

let vendorLoaded = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const el = h('script', {src});
    el.addEventListener('load', resolve);
    el.addEventListener('error', () => reject(new Error('could not load ' + src)));
    document.head.append(el);
  });
}

// xterm.js and its fit addon are UMD bundles: loaded once, they define globalThis.Terminal
// and globalThis.FitAddon. css/xterm-theme.css holds the styles xterm would inject itself
// (the CSP blocks injected <style> elements; see tools/gen-xterm-theme.mjs).
function loadVendor() {
  if (!vendorLoaded) {
    document.head.append(h('link', {rel: 'stylesheet', href: 'vendor/xterm.css'}),
                         h('link', {rel: 'stylesheet', href: 'css/xterm-theme.css'}));
    vendorLoaded = Promise.all([loadScript('vendor/xterm.js'), loadScript('vendor/addon-fit.js')]);
  }
  return vendorLoaded;
}

export function render(root, {arg}) {
  const instanceId = arg;
  const status = h('span', {class: 'term-status muted', id: 'terminal-status'}, 'Connecting\u2026');
  const frame = h('div', {class: 'terminal-frame', id: 'terminal'});
  const disconnect = h('button', {id: 'terminal-disconnect'}, 'Disconnect');
  const reconnect = h('button', {class: 'hidden', id: 'terminal-reconnect'}, 'Reconnect');
  root.append(h('div', {class: 'terminal-page'},
                h('div', {class: 'page-head'},
                  h('h1', {}, 'Connect to ', h('span', {class: 'mono'}, instanceId)),
                  h('div', {class: 'spacer'}),
                  h('a', {class: 'button', href: '#/instances?select=' + instanceId}, 'Back to instances'),
                  reconnect, disconnect),
                status, frame));

  let term = null;
  let fit = null;
  let ws = null;
  let closed = false;
  const encoder = new TextEncoder();

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = 'term-status small ' + (kind === 'error' ? 'error-text' : kind === 'ok' ? 'ok-text' : 'muted');
  }

  function sendResize() {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({type: 'resize', rows: term.rows, cols: term.cols}));
    }
  }

  function open() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/kiln/v1/instances/${encodeURIComponent(instanceId)}` +
                `/connect?rows=${term.rows}&cols=${term.cols}`;
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    let opened = false;
    let exited = false;
    ws.addEventListener('open', () => {
      opened = true;
      setStatus('Connected: /bin/sh in the instance', 'ok');
      reconnect.classList.add('hidden');
      disconnect.disabled = false;
      term.focus();
    });
    ws.addEventListener('message', (e) => {
      if (typeof e.data === 'string') {
        let msg = null;
        try { msg = JSON.parse(e.data); } catch { return; }
        if (msg.type === 'exit') {
          exited = true;
          term.write(`\r\n\x1b[2m[the shell exited with status ${msg.code}]\x1b[0m\r\n`);
          setStatus(`The shell exited (status ${msg.code})`, 'muted');
        }
        return;
      }
      term.write(new Uint8Array(e.data));
    });
    ws.addEventListener('close', (e) => {
      disconnect.disabled = true;
      if (closed) return;
      reconnect.classList.remove('hidden');
      if (!opened) {
        // The refusal (401/404/409) comes before the upgrade; the browser hides its body.
        setStatus('Could not connect: the instance must be running and yours.', 'error');
        showError({code: 'ConnectFailed', message: `The connection to ${instanceId} was refused ` +
                   '(is it running? is your session still valid?).'});
      } else if (!exited) {
        setStatus(`Disconnected (${e.code}${e.reason ? ': ' + e.reason : ''})`, 'error');
      }
    });
  }

  // Refit whenever the frame's size changes (window resize, a banner above it).
  const observer = new ResizeObserver(() => {
    if (fit) fit.fit();
  });

  loadVendor().then(() => {
    if (closed) return;
    term = new globalThis.Terminal(TERMINAL_OPTIONS);
    fit = new globalThis.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(frame);
    fit.fit();
    term.onData((data) => {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
    });
    term.onBinary((data) => {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(Uint8Array.from(data, (c) => c.charCodeAt(0)));
    });
    term.onResize(sendResize);
    observer.observe(frame);
    open();
  }).catch((e) => {
    setStatus('The terminal could not load.', 'error');
    showError({code: 'AssetMissing', message: e.message + ' (the console\u2019s vendor files are not built)'});
  });

  disconnect.addEventListener('click', () => {
    if (ws) ws.close(1000, 'closed by the user');
    setStatus('Disconnected', 'muted');
  });
  reconnect.addEventListener('click', () => {
    term.reset();
    setStatus('Connecting\u2026');
    open();
  });

  return () => {
    closed = true;
    observer.disconnect();
    if (ws) ws.close(1000, 'left the page');
    if (term) term.dispose();
  };
}
