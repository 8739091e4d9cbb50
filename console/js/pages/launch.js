// Launch instance (the seed's step 4 and 9): image, instance type (DescribeInstanceTypes),
// a Name tag, user data, and the volume table (extra EBS volumes and instance-store devices).

import {ec2, find, items} from '../api.js';
import {clear, flash, h, loading, showError} from '../dom.js';
import {describeImages, describeInstanceTypes} from '../model.js';
import {base64Utf8} from '../validate.js';
import {volumeEditor} from '../volume_editor.js';

const DEFAULT_TYPE = 't3.micro';

export function render(root, {query}) {
  const body = h('div', {}, loading('Loading images and instance types'));
  root.append(h('div', {class: 'page-head'}, h('h1', {}, 'Launch an instance')), body);
  load(body, query.get('image')).catch(showError);
}

async function load(body, wanted) {
  const [launchable, types] = await Promise.all([
    describeImages({filters: {state: ['available']}}),
    describeInstanceTypes(),
  ]);
  launchable.sort((a, b) => a.name.localeCompare(b.name));
  if (wanted && !launchable.some((i) => i.imageId === wanted)) {
    // An image the plain listing does not show (e.g. just became available): ask for it.
    const [img] = await describeImages({ids: [wanted]}).catch(() => []);
    if (img) launchable.unshift(img);
  }
  form(clear(body), launchable, types, wanted);
}

function form(body, images, types, wanted) {
  const imageSelect = h('select', {id: 'launch-image'},
                        images.map((i) => h('option', {value: i.imageId, selected: i.imageId === wanted},
                                            `${i.name} (${i.imageId})`)));
  const typeSelect = h('select', {id: 'launch-type'},
                       types.map((t) => h('option', {value: t.name, selected: t.name === DEFAULT_TYPE},
                                          typeLabel(t))));
  const nameInput = h('input', {type: 'text', id: 'launch-name', placeholder: 'e.g. web-server', maxlength: 255});
  const userData = h('textarea', {id: 'launch-user-data', spellcheck: 'false',
                                  placeholder: '#!/bin/sh\necho hello from user data'});
  const volumesBox = h('div');
  const typeHint = h('div', {class: 'hint'});
  const submit = h('button', {class: 'primary', id: 'launch-submit'}, 'Launch instance');
  let editor = null;

  function imageChanged() {
    const img = images.find((i) => i.imageId === imageSelect.value);
    editor = img ? volumeEditor(imageRows(img)) : null;
    clear(volumesBox).append(editor ? editor.el : h('p', {class: 'muted'}, 'No image selected.'));
  }
  function typeChanged() {
    const t = types.find((x) => x.name === typeSelect.value);
    typeHint.textContent = t && t.instanceStoreGB
        ? `${t.name} has ${t.instanceStoreGB} GB of instance storage: map it with an instance-store volume (ephemeral0).`
        : 'This type has no instance storage; instance-store volumes mapped to it are ignored.';
  }
  imageSelect.addEventListener('change', imageChanged);
  typeSelect.addEventListener('change', typeChanged);

  submit.addEventListener('click', async () => {
    const problem = editor ? editor.problem() : 'Choose an image.';
    if (problem) return showError({code: 'InvalidBlockDeviceMapping', message: problem});
    const params = {ImageId: imageSelect.value, InstanceType: typeSelect.value, MinCount: 1, MaxCount: 1};
    if (userData.value.trim()) params.UserData = base64Utf8(userData.value);
    if (nameInput.value.trim()) {
      Object.assign(params, {'TagSpecification.1.ResourceType': 'instance',
                             'TagSpecification.1.Tag.1.Key': 'Name',
                             'TagSpecification.1.Tag.1.Value': nameInput.value.trim()});
    }
    editor.params(params);
    submit.disabled = true;
    try {
      const resp = await ec2('RunInstances', params);
      const id = find(items(resp, 'instancesSet')[0], 'instanceId');
      flash('success', 'Launched ', h('span', {class: 'mono'}, id), ' from ', imageSelect.value, '.');
      location.hash = '#/instances?select=' + id;
    } catch (e) {
      showError(e);
    } finally {
      submit.disabled = false;
    }
  });

  body.append(
      h('div', {class: 'panel'},
        h('div', {class: 'panel-head'}, h('h2', {}, 'Image and type')),
        h('div', {class: 'panel-body form-grid'},
          h('div', {class: 'field'}, h('label', {for: 'launch-image'}, 'Amazon Machine Image'), imageSelect),
          h('div', {class: 'field'}, h('label', {for: 'launch-type'}, 'Instance type'), typeSelect, typeHint),
          h('div', {class: 'field'}, h('label', {for: 'launch-name'}, 'Name tag (optional)'), nameInput))),
      h('div', {class: 'panel'},
        h('div', {class: 'panel-head'}, h('h2', {}, 'Storage')), volumesBox),
      h('div', {class: 'panel'},
        h('div', {class: 'panel-head'}, h('h2', {}, 'User data')),
        h('div', {class: 'panel-body'},
          h('div', {class: 'field'}, userData,
            h('div', {class: 'hint'}, 'A script (#!) runs once at first boot; its output is in the instance\u2019s console output.')))),
      h('div', {class: 'form-actions'}, h('a', {class: 'button', href: '#/amis'}, 'Cancel'), submit));
  imageChanged();
  typeChanged();
}

function typeLabel(t) {
  const mem = t.memoryMiB >= 1024 ? (t.memoryMiB / 1024).toFixed(t.memoryMiB % 1024 ? 1 : 0) + ' GiB'
                                  : t.memoryMiB + ' MiB';
  return `${t.name} \u2014 ${t.vcpus} vCPU, ${mem}` + (t.instanceStoreGB ? `, ${t.instanceStoreGB} GB instance store` : '');
}

// The image's mapping as editor rows: the root may grow, others may be suppressed.
function imageRows(img) {
  return img.mappings.filter((m) => !m.noDevice).map((m) => ({
    kind: m.virtualName ? 'instance-store' : 'ebs',
    device: m.deviceName,
    root: m.deviceName === img.rootDeviceName,
    size: m.ebs ? m.ebs.volumeSize : null,
    minSize: m.ebs ? m.ebs.volumeSize : null,
    snapshotId: m.ebs ? m.ebs.snapshotId : '',
    virtualName: m.virtualName,
    deleteOnTermination: m.ebs ? m.ebs.deleteOnTermination : false,
  }));
}
