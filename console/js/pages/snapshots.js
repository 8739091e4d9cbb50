// Elastic Block Store > Snapshots (the seed's step 8): the account's snapshots, the image that
// uses each, live status while one is pending, and Delete.

import {ec2} from '../api.js';
import {badge, banner, clear, confirmDialog, formatTime, h, loading, menuButton, poller,
        showError, table, TRANSITIONAL} from '../dom.js';
import {describeImages, describeSnapshots} from '../model.js';

export function render(root) {
  let snapshots = [];
  let usedBy = new Map();  // snapshot id -> image
  let selected = null;
  const count = h('span', {class: 'count'});
  const actions = menuButton('Actions', () => [
    {label: 'Delete snapshot', disabled: !current(), onClick: () => remove(current())},
  ]);
  const listBox = h('div', {}, loading());
  root.append(
      h('div', {class: 'page-head'}, h('h1', {}, 'Snapshots ', count), h('div', {class: 'spacer'}),
        h('button', {onclick: () => refresh()}, '\u21bb Refresh'), actions),
      h('div', {class: 'panel'}, listBox));

  function current() {
    return snapshots.find((s) => s.snapshotId === selected) || null;
  }

  async function reload() {
    try {
      const [snaps, images] = await Promise.all([describeSnapshots(), describeImages({owner: 'self'})]);
      snapshots = snaps.sort((a, b) => (b.startTime || '').localeCompare(a.startTime || ''));
      usedBy = new Map();
      for (const img of images) {
        for (const m of img.mappings) if (m.ebs && m.ebs.snapshotId) usedBy.set(m.ebs.snapshotId, img);
      }
      draw();
    } catch (e) {
      showError(e);
    }
    return snapshots.some((s) => TRANSITIONAL.has(s.state));
  }
  const live = poller(reload, 2000);
  async function refresh() {
    if (await reload()) live.start();
  }

  function draw() {
    count.textContent = '(' + snapshots.length + ')';
    clear(listBox).append(table([
      {title: 'Snapshot ID', render: (s) => h('span', {class: 'mono'}, s.snapshotId)},
      {title: 'Status', render: (s) => [badge(s.state), s.state === 'pending' && s.progress ? ' ' + s.progress : '']},
      {title: 'Size', num: true, render: (s) => s.volumeSize + ' GiB'},
      {title: 'Source volume', render: (s) => h('span', {class: 'mono'}, s.volumeId || '-')},
      {title: 'Used by AMI', render: (s) => {
        const img = usedBy.get(s.snapshotId);
        return img ? h('a', {href: `#/amis?owner=self&select=${img.imageId}`}, img.name) : '-';
      }},
      {title: 'Description', render: (s) => s.description || '-'},
      {title: 'Encrypted', render: (s) => s.encrypted ? 'Yes' : 'No'},
      {title: 'Started', render: (s) => formatTime(s.startTime)},
    ], snapshots, {
      select: 'single', key: (s) => s.snapshotId, selected,
      empty: 'No snapshots. Creating an image from an instance takes one per EBS volume.',
      onSelect: (s) => { selected = s.snapshotId; },
    }));
  }

  async function remove(snap) {
    const ok = await confirmDialog({title: 'Delete snapshot', confirmText: 'Delete', danger: true,
                                    message: `Delete ${snap.snapshotId}? This cannot be undone.`});
    if (!ok) return;
    try {
      await ec2('DeleteSnapshot', {SnapshotId: snap.snapshotId});
      banner('success', `Deleted ${snap.snapshotId}.`);
      selected = null;
      await refresh();
    } catch (e) {
      showError(e);
    }
  }

  refresh();
  return () => live.stop();
}
