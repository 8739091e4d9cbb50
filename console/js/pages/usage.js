// Storage usage (DescribeStorageUsage): stored bytes per image, unique vs shared, as a chart,
// and what they cost per month at a price per GB-month the user sets (default 0.05, EBS
// snapshots' standard tier). Cost = stored GB (10^9 bytes) x price.

import {badge, clear, formatBytes, h, loading, showError, table} from '../dom.js';
import {describeStorageUsage} from '../model.js';
import {storageChart} from '../chart.js';

const DEFAULT_PRICE = 0.05;
let price = DEFAULT_PRICE;  // kept while the console is open

export function render(root) {
  const priceInput = h('input', {type: 'number', id: 'usage-price', min: 0, step: 0.001, value: price,
                                 'aria-label': 'Price per GB-month'});
  const body = h('div', {}, loading('Measuring storage'));
  root.append(
      h('div', {class: 'page-head'}, h('h1', {}, 'Storage usage'), h('div', {class: 'spacer'}),
        h('label', {class: 'price', for: 'usage-price'}, 'Price per GB-month ($)', priceInput),
        h('button', {onclick: () => load()}, '\u21bb Refresh')),
      body);
  let usage = null;

  async function load() {
    try {
      usage = await describeStorageUsage();
      draw();
    } catch (e) {
      clear(body).append(h('div', {class: 'panel'}, h('div', {class: 'loading'}, 'Storage usage is not available.')));
      showError(e);
    }
  }

  function draw() {
    const cost = (bytes) => '$' + ((bytes / 1e9) * price).toFixed(bytes / 1e9 * price < 1 ? 4 : 2);
    const unique = usage.images.reduce((a, i) => a + i.uniqueBytes, 0);
    const stat = (k, v, sub) => h('div', {class: 'stat'}, h('div', {class: 'k'}, k), h('div', {class: 'v'}, v),
                                   sub ? h('div', {class: 'sub'}, sub) : null);
    const images = [...usage.images].sort((a, b) => b.storedBytes - a.storedBytes);
    clear(body).append(
        h('div', {class: 'stats'},
          stat('Stored by your snapshots', formatBytes(usage.storedBytes), 'each chunk counted once'),
          stat('Estimated cost', cost(usage.storedBytes), 'per month at $' + price + '/GB-month'),
          stat('Images', String(usage.images.length), formatBytes(unique) + ' unique to them'),
          stat('Snapshots', String(usage.snapshots.length), usage.snapshots.filter((s) => !s.imageId).length + ' not in an image')),
        h('div', {class: 'panel'},
          h('div', {class: 'panel-head'}, h('h2', {}, 'Stored bytes per image')),
          h('div', {class: 'panel-body chart'},
            h('div', {class: 'legend'},
              h('span', {}, h('span', {class: 'swatch unique'}), 'Unique (freed by deregistering with its snapshots)'),
              h('span', {}, h('span', {class: 'swatch shared'}), 'Shared with other snapshots')),
            images.length ? storageChart(images.map((i) => ({label: i.name || i.imageId, unique: i.uniqueBytes,
                                                               shared: i.sharedBytes})))
                          : h('p', {class: 'muted'}, 'You own no images.'))),
        h('div', {class: 'panel'},
          h('div', {class: 'panel-head'}, h('h2', {}, 'Images')),
          table([
            {title: 'Name', render: (i) => i.name},
            {title: 'AMI ID', render: (i) => h('span', {class: 'mono'}, i.imageId)},
            {title: 'State', render: (i) => badge(i.state)},
            {title: 'Snapshots', num: true, render: (i) => String(i.snapshotIds.length)},
            {title: 'Stored', num: true, render: (i) => formatBytes(i.storedBytes)},
            {title: 'Unique', num: true, render: (i) => formatBytes(i.uniqueBytes)},
            {title: 'Shared', num: true, render: (i) => formatBytes(i.sharedBytes)},
            {title: 'Cost / month', num: true, render: (i) => cost(i.storedBytes)},
            {title: 'Saved by deleting', num: true, render: (i) => cost(i.uniqueBytes)},
          ], images, {empty: 'You own no images.'})),
        h('div', {class: 'panel'},
          h('div', {class: 'panel-head'}, h('h2', {}, 'Snapshots')),
          table([
            {title: 'Snapshot ID', render: (s) => h('span', {class: 'mono'}, s.snapshotId)},
            {title: 'Volume size', num: true, render: (s) => s.volumeSize + ' GiB'},
            {title: 'AMI', render: (s) => s.imageId ? h('span', {class: 'mono'}, s.imageId) : '-'},
            {title: 'Stored', num: true, render: (s) => formatBytes(s.storedBytes)},
            {title: 'Unique', num: true, render: (s) => formatBytes(s.uniqueBytes)},
            {title: 'Shared', num: true, render: (s) => formatBytes(s.sharedBytes)},
            {title: 'Cost / month', num: true, render: (s) => cost(s.storedBytes)},
          ], usage.snapshots, {empty: 'You own no snapshots.'})));
  }

  priceInput.addEventListener('input', () => {
    const v = Number(priceInput.value);
    priceInput.classList.toggle('invalid', !(v >= 0) || priceInput.value === '');
    if (v >= 0 && priceInput.value !== '') {
      price = v;
      if (usage) draw();
    }
  });
  load();
}
