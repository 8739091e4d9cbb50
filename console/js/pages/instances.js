// Instances: the list with live state (DescribeInstances every 2 s while one is in
// transition), and Actions on the selected one: Stop, Start, Reboot, Terminate,
// Image > Create image, Connect, and the console output (system log).

import {ec2, find, listParams} from '../api.js';
import {badge, banner, clear, confirmDialog, dialog, formatTime, h, loading, menuButton,
        nameTag, poller, showError, table, TRANSITIONAL} from '../dom.js';
import {describeInstances} from '../model.js';
import {openCreateImage} from './create_image.js';

const state = {selected: null, hideTerminated: false};

export function render(root, {query}) {
  if (query.get('select')) state.selected = query.get('select');
  let instances = [];

  const count = h('span', {class: 'count'});
  const connectBtn = h('button', {id: 'instance-connect', disabled: true,
                                  onclick: () => connect(selected())}, 'Connect');
  const actions = menuButton('Actions', () => {
    const i = selected();
    const st = i ? i.state : '';
    return [
      {group: 'Instance state'},
      {label: 'Stop instance', disabled: st !== 'running', onClick: () => change('StopInstances', 'Stop', i)},
      {label: 'Start instance', disabled: st !== 'stopped', onClick: () => change('StartInstances', 'Start', i)},
      {label: 'Reboot instance', disabled: st !== 'running', onClick: () => change('RebootInstances', 'Reboot', i)},
      {label: 'Terminate instance', disabled: !i || st === 'terminated' || st === 'shutting-down',
       onClick: () => change('TerminateInstances', 'Terminate', i)},
      {group: 'Image'},
      {label: 'Create image', sub: true, disabled: !i || !['running', 'stopped'].includes(st) || i.rootDeviceType !== 'ebs',
       onClick: () => openCreateImage(i, created)},
      {group: 'Connect'},
      {label: 'Connect (terminal)', sub: true, disabled: st !== 'running', onClick: () => connect(i)},
      {label: 'Get system log', sub: true, disabled: !i || st === 'terminated', onClick: () => systemLog(i)},
    ];
  });
  const hide = h('input', {type: 'checkbox', id: 'hide-terminated', checked: state.hideTerminated});
  const listBox = h('div', {}, loading());
  const detailBox = h('div', {class: 'detail-box'});

  root.append(
      h('div', {class: 'page-head'}, h('h1', {}, 'Instances ', count), h('div', {class: 'spacer'}),
        h('button', {onclick: () => refresh()}, '\u21bb Refresh'), connectBtn, actions,
        h('a', {class: 'button primary', href: '#/launch'}, 'Launch instance')),
      h('div', {class: 'panel'},
        h('div', {class: 'toolbar'}, h('label', {class: 'check small'}, hide, 'Hide terminated instances')),
        listBox),
      detailBox);

  function selected() {
    return instances.find((i) => i.instanceId === state.selected) || null;
  }

  async function reload() {
    try {
      instances = await describeInstances();
      instances.sort((a, b) => (b.launchTime || '').localeCompare(a.launchTime || ''));
      draw();
    } catch (e) {
      showError(e);
    }
    return instances.some((i) => TRANSITIONAL.has(i.state));
  }
  const live = poller(reload, 2000);
  async function refresh() {
    if (await reload()) live.start();
  }

  function draw() {
    const shown = state.hideTerminated ? instances.filter((i) => i.state !== 'terminated') : instances;
    count.textContent = '(' + shown.length + ')';
    clear(listBox).append(table([
      {title: 'Name', render: (i) => nameTag(i.tags) || '-'},
      {title: 'Instance ID', render: (i) => h('span', {class: 'mono'}, i.instanceId)},
      {title: 'State', render: (i) => badge(i.state, i.stateReason)},
      {title: 'Type', render: (i) => i.instanceType},
      {title: 'AMI', render: (i) => h('span', {class: 'mono'}, i.imageId)},
      {title: 'Private IP', render: (i) => i.privateIp || '-'},
      {title: 'Launched', render: (i) => formatTime(i.launchTime)},
    ], shown, {
      select: 'single', key: (i) => i.instanceId, selected: state.selected,
      empty: 'No instances. Launch one from an AMI.',
      onSelect: (i) => { state.selected = i.instanceId; drawSelection(); },
    }));
    drawSelection();
  }

  function drawSelection() {
    const i = selected();
    connectBtn.disabled = !i || i.state !== 'running';
    clear(detailBox);
    if (i) detailBox.append(details(i));
  }

  async function change(action, verb, inst) {
    if (action === 'TerminateInstances' || action === 'StopInstances') {
      const ok = await confirmDialog({
        title: verb + ' instance', confirmText: verb, danger: action === 'TerminateInstances',
        message: action === 'TerminateInstances'
            ? `Terminate ${inst.instanceId}? Its volumes marked "delete on termination" are deleted; this cannot be undone.`
            : `Stop ${inst.instanceId}? Its EBS volumes are kept; instance-store data is lost.`,
      });
      if (!ok) return;
    }
    try {
      await ec2(action, listParams('InstanceId', [inst.instanceId]));
      banner('success', `${verb} requested for ${inst.instanceId}.`);
      await refresh();
      live.start();
    } catch (e) {
      showError(e);
    }
  }

  function created(imageId, name) {
    banner('success', 'Creating image ', h('strong', {}, name), ' (',
           h('a', {href: `#/amis?owner=self&select=${imageId}`, id: 'created-image-link'}, imageId),
           '). It is pending until its snapshots are taken; follow it under AMIs.');
    refresh().then(() => live.start());
  }

  hide.addEventListener('change', () => { state.hideTerminated = hide.checked; draw(); });
  refresh();
  return () => live.stop();
}

function connect(inst) {
  location.hash = '#/connect/' + inst.instanceId;
}

async function systemLog(inst) {
  const pre = h('pre', {class: 'console-output', id: 'console-output'}, 'Loading\u2026');
  const close = h('button', {}, 'Close');
  const refreshBtn = h('button', {}, '\u21bb Refresh');
  const d = dialog({title: 'System log: ' + inst.instanceId, body: pre, actions: [refreshBtn, close]});
  close.addEventListener('click', () => d.close());
  async function load() {
    try {
      const resp = await ec2('GetConsoleOutput', {InstanceId: inst.instanceId});
      const b64 = find(resp, 'output');
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      pre.textContent = new TextDecoder().decode(bytes) || '(no output yet)';
      pre.scrollTop = pre.scrollHeight;
    } catch (e) {
      pre.textContent = `${e.code}: ${e.message}`;
    }
  }
  refreshBtn.addEventListener('click', load);
  load();
}

function details(i) {
  const kv = (k, v) => h('div', {}, h('div', {class: 'k'}, k), h('div', {class: 'v'}, v || '-'));
  return h('div', {class: 'panel', id: 'instance-details'},
           h('div', {class: 'panel-head'}, h('h2', {}, nameTag(i.tags) || i.instanceId),
             h('span', {class: 'mono muted'}, i.instanceId)),
           h('div', {class: 'panel-body'},
             h('div', {class: 'details'},
               kv('State', badge(i.state, i.stateReason)), kv('Instance type', i.instanceType),
               kv('AMI', i.imageId), kv('Private IP', i.privateIp), kv('Root device', i.rootDeviceName),
               kv('Launched', i.launchTime), kv('State reason', i.stateReason)),
             h('h2', {class: 'section'}, 'Block devices'),
             table([
               {title: 'Device', render: (m) => h('span', {class: 'mono'}, m.deviceName)},
               {title: 'Volume', render: (m) => m.ebs ? h('a', {href: '#/volumes', class: 'mono'}, m.ebs.volumeId) : '-'},
               {title: 'Attachment', render: (m) => m.ebs ? m.ebs.status : '-'},
               {title: 'Delete on termination', render: (m) => m.ebs ? (m.ebs.deleteOnTermination ? 'Yes' : 'No') : '-'},
             ], i.mappings, {compact: true, empty: 'No EBS volumes'})));
}
