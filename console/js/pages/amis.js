// Images > AMIs: the seed's step 2-3. A filter (owned by me, public, owner alias kiln, all
// launchable), a name search with wildcards, the list with live state (DescribeImages every
// 2 s while an image is pending), and Launch / Deregister on the selected image.

import {ec2} from '../api.js';
import {badge, banner, clear, confirmDialog, formatTime, h, loading, menuButton, poller,
        showError, table, TRANSITIONAL} from '../dom.js';
import {describeImages} from '../model.js';
import {namePattern} from '../validate.js';

const FILTERS = {
  self: {label: 'Owned by me', query: {owner: 'self'}},
  public: {label: 'Public images', query: {filters: {'is-public': ['true']}}},
  kiln: {label: 'Owner alias: kiln', query: {filters: {'owner-alias': ['kiln']}}},
  all: {label: 'All launchable images', query: {}},
};

// Kept across visits so coming back shows the same list.
const state = {filter: 'self', search: '', selected: null};

export function render(root, {query}) {
  // A link that names a filter (e.g. from Create image's banner) shows exactly that list.
  if (query.get('owner') && FILTERS[query.get('owner')]) {
    state.filter = query.get('owner');
    state.search = query.get('name') || '';
  }
  if (query.get('select')) state.selected = query.get('select');

  let images = [];
  const filterSelect = h('select', {id: 'ami-filter', 'aria-label': 'Filter'},
                         Object.entries(FILTERS).map(([k, f]) =>
                           h('option', {value: k, selected: k === state.filter}, f.label)));
  const search = h('input', {type: 'search', class: 'search', id: 'ami-search', value: state.search,
                             placeholder: 'Search by name (wildcards * and ?)',
                             'aria-label': 'Search by name'});
  const count = h('span', {class: 'count'});
  const launchBtn = h('button', {class: 'primary', id: 'ami-launch', disabled: true,
                                 onclick: () => { location.hash = '#/launch?image=' + state.selected; }},
                      'Launch instance from AMI');
  const actions = menuButton('Actions', () => [
    {label: 'Deregister AMI', disabled: !selectedImage(), onClick: () => deregister(selectedImage())},
  ]);
  const listBox = h('div', {}, loading());
  const detailBox = h('div', {class: 'detail-box'});

  root.append(
      h('div', {class: 'page-head'}, h('h1', {}, 'Amazon Machine Images ', count),
        h('div', {class: 'spacer'}),
        h('button', {onclick: () => reload(), 'aria-label': 'Refresh'}, '\u21bb Refresh'), actions, launchBtn),
      h('div', {class: 'panel'},
        h('div', {class: 'toolbar'}, filterSelect, search,
          h('span', {class: 'muted small'}, 'Name search is a pattern: * matches any text, ? one character.')),
        listBox),
      detailBox);

  function selectedImage() {
    return images.find((i) => i.imageId === state.selected) || null;
  }

  function queryNow() {
    const q = structuredClone(FILTERS[state.filter].query);
    const pattern = namePattern(state.search);
    if (pattern) q.filters = {...(q.filters || {}), name: [pattern]};
    return q;
  }

  let generation = 0;  // drops answers to queries that a newer one replaced
  async function reload() {
    const mine = ++generation;
    try {
      const list = await describeImages(queryNow());
      if (mine !== generation) return true;
      images = list.sort((a, b) => (b.creationDate || '').localeCompare(a.creationDate || ''));
      draw();
    } catch (e) {
      if (mine === generation) {
        clear(listBox).append(h('div', {class: 'loading'}, 'Could not list images.'));
        showError(e);
      }
    }
    return images.some((i) => TRANSITIONAL.has(i.state));
  }

  // While any listed image is pending, poll every 2 s so its badge turns to available live.
  const live = poller(async () => reload(), 2000);

  async function refresh() {
    const pending = await reload();
    if (pending) live.start();
  }

  function draw() {
    count.textContent = '(' + images.length + ')';
    clear(listBox).append(table([
      {title: 'Name', render: (i) => h('span', {class: 'name'}, i.name || '-')},
      {title: 'AMI ID', render: (i) => h('span', {class: 'mono'}, i.imageId)},
      {title: 'State', render: (i) => badge(i.state, i.stateReason)},
      {title: 'Owner', render: (i) => i.ownerAlias ? [i.ownerAlias, h('span', {class: 'tag'}, i.ownerId)] : i.ownerId},
      {title: 'Visibility', render: (i) => i.isPublic ? 'Public' : 'Private'},
      {title: 'Root device', render: (i) => i.rootDeviceType + ' ' + (rootSize(i) ? '(' + rootSize(i) + ' GiB)' : '')},
      {title: 'Created', render: (i) => formatTime(i.creationDate)},
    ], images, {
      select: 'single', key: (i) => i.imageId, selected: state.selected,
      empty: 'No images match. Try another filter or pattern.',
      onSelect: (i) => { state.selected = i.imageId; drawSelection(); },
    }));
    drawSelection();
  }

  function drawSelection() {
    const img = selectedImage();
    launchBtn.disabled = !img || img.state !== 'available';
    clear(detailBox);
    if (img) detailBox.append(details(img));
  }

  async function deregister(img) {
    const del = h('input', {type: 'checkbox', id: 'delete-snapshots', checked: true});
    const ok = await confirmDialog({
      title: 'Deregister AMI', confirmText: 'Deregister', danger: true,
      message: [`Deregister ${img.name} (${img.imageId})? Instances launched from it keep running; `,
                'no new instance can be launched from it.'].join(''),
      extra: h('label', {class: 'check'}, del, 'Delete associated snapshots'),
    });
    if (!ok) return;
    try {
      await ec2('DeregisterImage', {ImageId: img.imageId,
                                    DeleteAssociatedSnapshots: del.checked ? 'true' : 'false'});
      banner('success', `Deregistered ${img.imageId}` + (del.checked ? ' and deleted its snapshots.' : '.'));
      state.selected = null;
      await refresh();
    } catch (e) {
      showError(e);
    }
  }

  filterSelect.addEventListener('change', () => {
    state.filter = filterSelect.value;
    refresh();
  });
  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { state.search = search.value; refresh(); }, 300);
  });

  refresh();
  return () => { live.stop(); clearTimeout(debounce); };
}

function rootSize(img) {
  const root = img.mappings.find((m) => m.deviceName === img.rootDeviceName);
  return root && root.ebs ? root.ebs.volumeSize : null;
}

function details(img) {
  const kv = (k, v) => h('div', {}, h('div', {class: 'k'}, k), h('div', {class: 'v'}, v || '-'));
  return h('div', {class: 'panel', id: 'ami-details'},
           h('div', {class: 'panel-head'}, h('h2', {}, img.name), h('span', {class: 'mono muted'}, img.imageId)),
           h('div', {class: 'panel-body'},
             h('div', {class: 'details'},
               kv('State', badge(img.state, img.stateReason)), kv('Description', img.description),
               kv('Architecture', img.architecture), kv('Root device name', img.rootDeviceName),
               kv('Owner', img.ownerAlias || img.ownerId), kv('Created', img.creationDate)),
             h('h2', {class: 'section'}, 'Block devices'),
             table([
               {title: 'Device', render: (m) => h('span', {class: 'mono'}, m.deviceName)},
               {title: 'Type', render: (m) => m.virtualName ? 'Instance store (' + m.virtualName + ')'
                                                            : m.noDevice ? 'Suppressed' : 'EBS'},
               {title: 'Snapshot', render: (m) => m.ebs && m.ebs.snapshotId ? h('span', {class: 'mono'}, m.ebs.snapshotId) : '-'},
               {title: 'Size (GiB)', num: true, render: (m) => m.ebs && m.ebs.volumeSize ? String(m.ebs.volumeSize) : '-'},
               {title: 'Delete on termination', render: (m) => m.ebs ? (m.ebs.deleteOnTermination ? 'Yes' : 'No') : '-'},
             ], img.mappings, {compact: true, empty: 'No block devices'})));
}
