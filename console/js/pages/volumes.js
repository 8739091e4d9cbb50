// Elastic Block Store > Volumes: the account's volumes, their attachments, and Delete for an
// available one.

import {ec2} from '../api.js';
import {badge, banner, clear, confirmDialog, formatTime, h, loading, menuButton, nameTag, poller,
        showError, table, TRANSITIONAL} from '../dom.js';
import {describeVolumes} from '../model.js';

export function render(root) {
  let volumes = [];
  let selected = null;
  const count = h('span', {class: 'count'});
  const actions = menuButton('Actions', () => [
    {label: 'Delete volume', disabled: !current() || current().state !== 'available',
     onClick: () => remove(current())},
  ]);
  const listBox = h('div', {}, loading());
  root.append(
      h('div', {class: 'page-head'}, h('h1', {}, 'Volumes ', count), h('div', {class: 'spacer'}),
        h('button', {onclick: () => refresh()}, '\u21bb Refresh'), actions),
      h('div', {class: 'panel'}, listBox));

  function current() {
    return volumes.find((v) => v.volumeId === selected) || null;
  }

  async function reload() {
    try {
      volumes = (await describeVolumes()).sort((a, b) => (b.createTime || '').localeCompare(a.createTime || ''));
      draw();
    } catch (e) {
      showError(e);
    }
    return volumes.some((v) => TRANSITIONAL.has(v.state));
  }
  const live = poller(reload, 2000);
  async function refresh() {
    if (await reload()) live.start();
  }

  function draw() {
    count.textContent = '(' + volumes.length + ')';
    clear(listBox).append(table([
      {title: 'Name', render: (v) => nameTag(v.tags) || '-'},
      {title: 'Volume ID', render: (v) => h('span', {class: 'mono'}, v.volumeId)},
      {title: 'State', render: (v) => badge(v.state)},
      {title: 'Size', num: true, render: (v) => v.size + ' GiB'},
      {title: 'Type', render: (v) => v.volumeType},
      {title: 'Attached to', render: (v) => v.instanceId
          ? [h('span', {class: 'mono'}, v.instanceId), ' ', h('span', {class: 'muted'}, v.device)] : '-'},
      {title: 'Snapshot', render: (v) => v.snapshotId ? h('span', {class: 'mono'}, v.snapshotId) : '-'},
      {title: 'Encrypted', render: (v) => v.encrypted ? 'Yes' : 'No'},
      {title: 'Created', render: (v) => formatTime(v.createTime)},
    ], volumes, {
      select: 'single', key: (v) => v.volumeId, selected,
      empty: 'No volumes. Launching an instance creates its root volume.',
      onSelect: (v) => { selected = v.volumeId; },
    }));
  }

  async function remove(vol) {
    const ok = await confirmDialog({title: 'Delete volume', confirmText: 'Delete', danger: true,
                                    message: `Delete ${vol.volumeId} (${vol.size} GiB)? Its data is lost.`});
    if (!ok) return;
    try {
      await ec2('DeleteVolume', {VolumeId: vol.volumeId});
      banner('success', `Deleting ${vol.volumeId}.`);
      selected = null;
      await refresh();
    } catch (e) {
      showError(e);
    }
  }

  refresh();
  return () => live.stop();
}
