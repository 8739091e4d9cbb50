// The console's only way to kilnd: the session endpoints and the EC2 Query API at
// /kiln/v1/ec2, authenticated by the HttpOnly session cookie plus the CSRF token that
// GET/POST /kiln/v1/session hands out (docs/console.md).

const EC2_VERSION = '2016-11-15';

// An error the user should see as "Code: Message" (EC2's error document or the session API's
// JSON). status is the HTTP status (0 when the request never got an answer).
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

let session = null;  // {accountId, accessKeyId, accountName, csrfToken, expiresAt}
const signedOutListeners = [];

export function currentSession() {
  return session;
}

// fn() runs when a call finds the session gone (401): the app shows the sign-in page again.
export function onSignedOut(fn) {
  signedOutListeners.push(fn);
}

function signedOut() {
  session = null;
  for (const fn of signedOutListeners) fn();
}

async function jsonError(resp) {
  let code = 'HTTP' + resp.status;
  let message = resp.statusText || 'request failed';
  try {
    const body = await resp.json();
    code = body.code || code;
    message = body.message || message;
  } catch {
    // Not JSON: keep the HTTP status as the message.
  }
  return new ApiError(code, message, resp.status);
}

async function send(url, init) {
  try {
    return await fetch(url, {credentials: 'same-origin', cache: 'no-store', ...init});
  } catch (e) {
    throw new ApiError('NetworkError', 'kilnd did not answer (' + e.message + ')', 0);
  }
}

// The current session, or null when not signed in.
export async function loadSession() {
  const resp = await send('/kiln/v1/session', {method: 'GET'});
  if (resp.status === 401) {
    session = null;
    return null;
  }
  if (!resp.ok) throw await jsonError(resp);
  session = await resp.json();
  return session;
}

export async function signIn(accessKeyId, secretAccessKey) {
  const resp = await send('/kiln/v1/session', {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({accessKeyId, secretAccessKey}),
  });
  if (!resp.ok) throw await jsonError(resp);
  session = await resp.json();
  return session;
}

export async function signOut() {
  if (!session) return;
  const resp = await send('/kiln/v1/session/logout', {
    method: 'POST',
    headers: {'X-Kiln-Csrf': session.csrfToken},
  });
  session = null;
  if (!resp.ok && resp.status !== 401) throw await jsonError(resp);
}

// Calls one EC2 action. params is a flat object of wire names (Filter.1.Name, ...); undefined
// and null values are left out. Returns the response's root element (namespace-free lookups
// via the helpers below). Throws ApiError with EC2's Code and Message on an error document.
export async function ec2(action, params = {}) {
  const body = new URLSearchParams();
  body.set('Action', action);
  body.set('Version', EC2_VERSION);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) body.append(k, String(v));
  }
  const resp = await send('/kiln/v1/ec2', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Kiln-Csrf': session ? session.csrfToken : '',
    },
    body,
  });
  const text = await resp.text();
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const root = doc.documentElement;
  if (!resp.ok || root.localName === 'Response' || root.localName === 'parsererror') {
    const err = root.localName === 'parsererror'
        ? new ApiError('HTTP' + resp.status, text.slice(0, 200) || resp.statusText, resp.status)
        : new ApiError(find(root, 'Errors/Error/Code') || 'HTTP' + resp.status,
                       find(root, 'Errors/Error/Message') || resp.statusText, resp.status);
    if (resp.status === 401) signedOut();
    throw err;
  }
  return root;
}

// --- XML helpers (EC2 answers are in a default namespace: match on localName) -----------------

// The first child element of el named name, or null.
export function child(el, name) {
  if (!el) return null;
  for (const c of el.children) {
    if (c.localName === name) return c;
  }
  return null;
}

// The element at a slash-separated path of child names.
export function at(el, path) {
  for (const name of path.split('/')) {
    el = child(el, name);
    if (!el) return null;
  }
  return el;
}

// The text at path ('' when absent).
export function find(el, path) {
  const e = at(el, path);
  return e ? e.textContent : '';
}

// The <item> children of the list element at path ([] when absent).
export function items(el, path) {
  const list = at(el, path);
  return list ? [...list.children].filter((c) => c.localName === 'item') : [];
}

// EC2's tagSet as a plain object.
export function tags(el) {
  const out = {};
  for (const t of items(el, 'tagSet')) out[find(t, 'key')] = find(t, 'value');
  return out;
}

// Adds Filter.N.Name / Filter.N.Value.M params for each {name: [values]} entry.
export function filterParams(filters, params = {}) {
  let n = 0;
  for (const [name, values] of Object.entries(filters)) {
    if (!values || values.length === 0) continue;
    n++;
    params[`Filter.${n}.Name`] = name;
    values.forEach((v, i) => { params[`Filter.${n}.Value.${i + 1}`] = v; });
  }
  return params;
}

// Adds Prefix.1, Prefix.2, ... for a list.
export function listParams(prefix, values, params = {}) {
  values.forEach((v, i) => { params[`${prefix}.${i + 1}`] = v; });
  return params;
}
