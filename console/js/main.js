// The console's entry point: the sign-in gate, the shell (top bar, left nav, banners) and a
// hash router (#/amis, #/launch?image=ami-..., #/connect/i-...). Each page module exports
// render(main, params) and may return a cleanup function (stop polling, close a socket).

import {currentSession, loadSession, onSignedOut, signOut} from './api.js';
import {clear, clearBanners, h, setBannerBox, showError} from './dom.js';
import * as amis from './pages/amis.js';
import * as connect from './pages/connect.js';
import * as instances from './pages/instances.js';
import * as launch from './pages/launch.js';
import * as signin from './pages/signin.js';
import * as snapshots from './pages/snapshots.js';
import * as usage from './pages/usage.js';
import * as volumes from './pages/volumes.js';

const PAGES = {
  amis: {module: amis, title: 'AMIs'},
  instances: {module: instances, title: 'Instances'},
  launch: {module: launch, title: 'Launch instance'},
  connect: {module: connect, title: 'Connect'},
  snapshots: {module: snapshots, title: 'Snapshots'},
  volumes: {module: volumes, title: 'Volumes'},
  usage: {module: usage, title: 'Storage usage'},
};

const NAV = [
  {group: 'Images'}, {page: 'amis', label: 'AMIs'},
  {group: 'Instances'}, {page: 'instances', label: 'Instances'}, {page: 'launch', label: 'Launch instance'},
  {group: 'Elastic Block Store'}, {page: 'volumes', label: 'Volumes'}, {page: 'snapshots', label: 'Snapshots'},
  {group: 'Cost'}, {page: 'usage', label: 'Storage usage'},
];

const app = document.getElementById('app');
let cleanup = null;
let shell = null;  // {main, nav}

// #/page/arg?k=v -> {page, arg, query}
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const [page, arg] = path.split('/');
  return {page: page || 'amis', arg: arg || '', query: new URLSearchParams(qs || '')};
}

function runCleanup() {
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
  }
  cleanup = null;
}

function buildShell(session) {
  const account = session.accountName
      ? [h('strong', {}, session.accountName), ' \u00b7 ', session.accountId]
      : [h('strong', {}, session.accountId)];
  const nav = h('nav', {class: 'nav', 'aria-label': 'Console'}, NAV.map((n) => n.group
      ? h('div', {class: 'group'}, n.group)
      : h('a', {href: '#/' + n.page, 'data-page': n.page}, n.label)));
  const banners = h('div', {class: 'banners', id: 'banners'});
  const main = h('main', {class: 'page'});
  const el = h('div', {class: 'shell'},
               h('header', {class: 'topbar'},
                 h('a', {class: 'brand', href: '#/amis'}, h('img', {src: 'favicon.svg', alt: ''}),
                   'kiln', h('span', {class: 'service'}, 'EC2 console')),
                 h('div', {class: 'spacer'}),
                 h('div', {class: 'account', title: 'Access key ' + session.accessKeyId},
                   'Account ', account),
                 h('button', {class: 'link small', onclick: onSignOut}, 'Sign out')),
               nav, h('div', {class: 'main'}, banners, main));
  clear(app).append(el);
  setBannerBox(banners);
  return {main, nav};
}

async function onSignOut() {
  try {
    await signOut();
  } catch (e) {
    showError(e);
  }
  showSignIn();
}

function showSignIn() {
  runCleanup();
  shell = null;
  setBannerBox(null);
  document.title = 'Sign in \u00b7 kiln console';
  signin.render(clear(app), {onSignedIn: () => route()});
}

function route() {
  const session = currentSession();
  if (!session) return showSignIn();
  runCleanup();
  if (!shell) shell = buildShell(session);
  clearBanners();
  const {page, arg, query} = parseHash();
  const entry = PAGES[page] || PAGES.amis;
  for (const a of shell.nav.querySelectorAll('a')) {
    a.classList.toggle('active', a.dataset.page === page);
  }
  document.title = entry.title + ' \u00b7 kiln console';
  clear(shell.main);
  shell.main.dataset.page = page;
  try {
    cleanup = entry.module.render(shell.main, {arg, query}) || null;
  } catch (e) {
    showError(e);
  }
}

onSignedOut(() => showSignIn());
window.addEventListener('hashchange', () => route());

async function boot() {
  try {
    await loadSession();
  } catch (e) {
    // kilnd answered oddly: show the sign-in page with the reason.
    console.error(e);
  }
  route();
}

boot();
