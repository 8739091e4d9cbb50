// The volume table of Launch and Create Image (the seed's step 7): change the root's size
// (never below what it is), delete a non-root volume, add an EBS volume (device from
// /dev/sdb../dev/sdz not in use, size) or an instance-store volume (ephemeralN). It turns the
// edits into BlockDeviceMapping.N parameters.

import {clear, h, table} from './dom.js';
import {deviceKey, freeDevices, nextEphemeral} from './validate.js';

const MAX_GIB = 16384;

// A row: {kind: 'ebs'|'instance-store', device, size, minSize, root, existing, snapshotId,
//         volumeId, virtualName, deleteOnTermination, deleted}.
// rows: the existing mapping (existing: true). Returns {el, problem(), params(into)}.
export function volumeEditor(existingRows) {
  const rows = existingRows.map((r) => ({...r, existing: true, originalSize: r.size, deleted: false}));
  const box = h('div', {class: 'volume-table'});
  const errorLine = h('div', {class: 'error-text hidden', role: 'alert'});

  function usedDevices(except) {
    return rows.filter((r) => r !== except && (!r.deleted || r.existing)).map((r) => r.device);
  }

  function sizeInput(r) {
    const input = h('input', {type: 'number', min: r.minSize || 1, max: MAX_GIB, step: 1,
                              value: r.size ?? '', 'aria-label': 'Size of ' + (r.device || 'new volume'),
                              'data-device': r.device});
    input.addEventListener('input', () => {
      r.size = input.value === '' ? null : Number(input.value);
      input.classList.toggle('invalid', rowProblem(r) !== null);
      showProblem();
    });
    return input;
  }

  function deviceSelect(r) {
    const choices = freeDevices(usedDevices(r));
    if (!r.device || !choices.includes(r.device)) r.device = choices[0] || '';
    const sel = h('select', {'aria-label': 'Device of the new volume'},
                  choices.map((d) => h('option', {value: d, selected: d === r.device}, d)));
    sel.addEventListener('change', () => { r.device = sel.value; draw(); });
    return sel;
  }

  function typeLabel(r) {
    if (r.kind === 'instance-store') return 'Instance store' + (r.virtualName ? ' (' + r.virtualName + ')' : '');
    return r.root ? 'Root (EBS)' : 'EBS';
  }

  function draw() {
    const visible = rows.filter((r) => !r.deleted);
    clear(box).append(table([
      {title: 'Volume type', render: typeLabel},
      {title: 'Device', render: (r) => r.existing ? h('span', {class: 'mono'}, r.device) : deviceSelect(r)},
      {title: 'Snapshot / volume', render: (r) => h('span', {class: 'mono'}, r.volumeId || r.snapshotId || (r.existing ? '-' : 'new, empty'))},
      {title: 'Size (GiB)', render: (r) => r.kind === 'ebs' && (r.root || !r.existing)
          ? sizeInput(r) : (r.kind === 'ebs' ? String(r.size) : '-')},
      {title: 'Delete on termination', render: (r) => r.kind === 'ebs' ? (r.existing ? (r.deleteOnTermination ? 'Yes' : 'No') : 'Yes') : '-'},
      {title: '', render: (r) => r.root ? h('span', {class: 'muted small'}, 'root') :
          h('button', {class: 'small', 'data-device': r.device,
                       onclick: () => { if (r.existing) r.deleted = true; else rows.splice(rows.indexOf(r), 1); draw(); }},
            r.existing ? 'Delete' : 'Remove')},
    ], visible, {compact: true, empty: 'No volumes'}),
    h('div', {class: 'add-row'},
      h('button', {class: 'small', id: 'add-ebs', onclick: () => add('ebs')}, '+ Add EBS volume'),
      h('button', {class: 'small', id: 'add-instance-store', onclick: () => add('instance-store')},
        '+ Add instance-store volume')),
    errorLine);
    showProblem();
  }

  function add(kind) {
    const r = {kind, device: '', existing: false, deleted: false, root: false,
               size: kind === 'ebs' ? 1 : null, minSize: 1};
    if (kind === 'instance-store') {
      r.virtualName = nextEphemeral(rows.filter((x) => !x.deleted).map((x) => x.virtualName || ''));
    }
    rows.push(r);
    if (freeDevices(usedDevices(r)).length === 0) {
      rows.pop();
      return;
    }
    draw();
  }

  function rowProblem(r) {
    if (r.deleted || r.kind !== 'ebs') return null;
    if (!Number.isInteger(r.size) || r.size < 1 || r.size > MAX_GIB) {
      return `The size of ${r.device || 'a new volume'} must be a whole number of GiB from 1 to ${MAX_GIB}.`;
    }
    if (r.minSize && r.size < r.minSize) {
      return `${r.device} cannot be smaller than it is (${r.minSize} GiB).`;
    }
    return null;
  }

  function problem() {
    for (const r of rows) {
      const p = rowProblem(r);
      if (p) return p;
    }
    const seen = new Set();
    for (const r of rows.filter((x) => !x.deleted)) {
      if (seen.has(deviceKey(r.device))) return `Two volumes use ${r.device}.`;
      seen.add(deviceKey(r.device));
    }
    return null;
  }

  function showProblem() {
    const p = problem();
    errorLine.textContent = p || '';
    errorLine.classList.toggle('hidden', !p);
  }

  // Adds BlockDeviceMapping.N.* for every change (a resized or deleted existing volume, each
  // new one) to params.
  function params(into) {
    let n = 0;
    const put = (k, v) => { into[`BlockDeviceMapping.${n}.${k}`] = v; };
    for (const r of rows) {
      if (r.existing && !r.deleted && r.size === r.originalSize) continue;
      n++;
      put('DeviceName', r.device);
      if (r.deleted) put('NoDevice', '');
      else if (r.kind === 'instance-store') put('VirtualName', r.virtualName);
      else {
        put('Ebs.VolumeSize', r.size);
        put('Ebs.DeleteOnTermination', r.existing ? String(Boolean(r.deleteOnTermination)) : 'true');
      }
    }
    return into;
  }

  draw();
  return {el: box, problem, params, changes: () => rows.filter((r) => !r.existing || r.deleted || r.size !== r.originalSize).length};
}
