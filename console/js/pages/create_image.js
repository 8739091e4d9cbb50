// Instances > Actions > Image > Create Image (the seed's steps 6-7): a unique name checked
// inline (EC2's rules, then DescribeImages for a duplicate in the account), a description of at
// most 255 characters, No reboot with the seed's warning, and the volume table.

import {ec2, find} from '../api.js';
import {dialog, h, loading, showError} from '../dom.js';
import {describeImages, describeVolumes} from '../model.js';
import {imageNameProblem, MAX_DESCRIPTION} from '../validate.js';
import {volumeEditor} from '../volume_editor.js';

const NO_REBOOT_WARNING =
    'If you choose No reboot, kiln can\u2019t guarantee the file system integrity of the created image.';

// Opens the dialog for instance inst; onCreated(imageId) runs after CreateImage succeeded.
export function openCreateImage(inst, onCreated) {
  const body = h('div', {}, loading('Reading the instance\u2019s volumes'));
  const submit = h('button', {class: 'primary', id: 'create-image-submit', disabled: true}, 'Create image');
  const cancel = h('button', {}, 'Cancel');
  const d = dialog({title: 'Create image', label: 'Create image', body, actions: [cancel, submit]});
  cancel.addEventListener('click', () => d.close());
  rows(inst).then((existing) => fill(d, body, submit, inst, existing, onCreated)).catch((e) => {
    d.close();
    showError(e);
  });
}

// The instance's EBS volumes (sizes from DescribeVolumes) and its image's instance-store
// mappings, as volume-editor rows.
async function rows(inst) {
  const ebs = inst.mappings.filter((m) => m.ebs && m.ebs.volumeId);
  const volumes = ebs.length ? await describeVolumes(ebs.map((m) => m.ebs.volumeId)) : [];
  const out = ebs.map((m) => {
    const v = volumes.find((x) => x.volumeId === m.ebs.volumeId) || {};
    return {kind: 'ebs', device: m.deviceName, root: m.deviceName === inst.rootDeviceName,
            size: v.size, minSize: v.size, volumeId: m.ebs.volumeId,
            deleteOnTermination: m.ebs.deleteOnTermination};
  });
  const [img] = await describeImages({ids: [inst.imageId]}).catch(() => []);
  for (const m of img ? img.mappings : []) {
    if (m.virtualName && !m.noDevice) {
      out.push({kind: 'instance-store', device: m.deviceName, virtualName: m.virtualName});
    }
  }
  out.sort((a, b) => (Number(Boolean(b.root)) - Number(Boolean(a.root))) || a.device.localeCompare(b.device));
  return out;
}

function fill(d, body, submit, inst, existing, onCreated) {
  const nameInput = h('input', {type: 'text', id: 'image-name', maxlength: 128, autocomplete: 'off',
                                spellcheck: 'false', 'aria-describedby': 'image-name-status'});
  const nameStatus = h('div', {id: 'image-name-status', class: 'hint'},
                       '3-128 characters: letters, numbers, spaces and ( ) [ ] . / - \' @ _. Unique in your account.');
  const desc = h('input', {type: 'text', id: 'image-description', maxlength: MAX_DESCRIPTION});
  const descCount = h('div', {class: 'hint'}, `0/${MAX_DESCRIPTION}`);
  const noReboot = h('input', {type: 'checkbox', id: 'no-reboot'});
  const warning = h('div', {class: 'warning-box', id: 'no-reboot-warning'}, h('strong', {}, 'Warning'),
                    NO_REBOOT_WARNING);
  const editor = volumeEditor(existing);

  let nameOk = false;
  let checkSeq = 0;
  let debounce = null;

  function setStatus(kind, text) {
    nameStatus.className = kind === 'error' ? 'error-text' : kind === 'ok' ? 'ok-text' : 'hint';
    nameStatus.textContent = text;
    nameInput.classList.toggle('invalid', kind === 'error');
  }

  function update() {
    submit.disabled = !nameOk || desc.value.length > MAX_DESCRIPTION;
  }

  nameInput.addEventListener('input', () => {
    clearTimeout(debounce);
    nameOk = false;
    update();
    const name = nameInput.value;
    const problem = imageNameProblem(name);
    if (problem) return setStatus('error', problem);
    setStatus('hint', 'Checking that the name is free\u2026');
    const mine = ++checkSeq;
    debounce = setTimeout(async () => {
      try {
        const same = await describeImages({owner: 'self', filters: {name: [name]}});
        if (mine !== checkSeq) return;
        const taken = same.find((i) => i.name === name);
        if (taken) {
          setStatus('error', `AMI name ${name} is already in use by ${taken.imageId}.`);
        } else {
          nameOk = true;
          setStatus('ok', 'The name is free.');
        }
      } catch (e) {
        if (mine === checkSeq) setStatus('error', 'Could not check the name: ' + e.message);
      }
      update();
    }, 250);
  });
  desc.addEventListener('input', () => {
    descCount.textContent = `${desc.value.length}/${MAX_DESCRIPTION}`;
    descCount.className = desc.value.length > MAX_DESCRIPTION ? 'error-text' : 'hint';
    update();
  });
  noReboot.addEventListener('change', () => warning.classList.toggle('strong', noReboot.checked));

  submit.addEventListener('click', async () => {
    const problem = editor.problem();
    if (problem) return showError({code: 'InvalidBlockDeviceMapping', message: problem});
    const params = {InstanceId: inst.instanceId, Name: nameInput.value,
                    NoReboot: noReboot.checked ? 'true' : 'false'};
    if (desc.value) params.Description = desc.value;
    editor.params(params);
    submit.disabled = true;
    submit.textContent = 'Creating\u2026';
    try {
      const resp = await ec2('CreateImage', params);
      const imageId = find(resp, 'imageId');
      d.close();
      onCreated(imageId, nameInput.value);
    } catch (e) {
      // Shown in the dialog, where the user can fix it.
      setStatus('error', `${e.code}: ${e.message}`);
      submit.textContent = 'Create image';
      update();
    }
  });

  body.textContent = '';
  body.append(
      h('div', {class: 'details'},
        h('div', {}, h('div', {class: 'k'}, 'Instance'), h('div', {class: 'v mono'}, inst.instanceId)),
        h('div', {}, h('div', {class: 'k'}, 'State'), h('div', {class: 'v'}, inst.state)),
        h('div', {}, h('div', {class: 'k'}, 'Source AMI'), h('div', {class: 'v mono'}, inst.imageId))),
      h('h2', {class: 'section'}, 'Image details'),
      h('div', {class: 'field'}, h('label', {for: 'image-name'}, 'Image name'), nameInput, nameStatus),
      h('div', {class: 'field'}, h('label', {for: 'image-description'}, 'Image description (optional)'),
        desc, descCount),
      h('div', {class: 'field'},
        h('label', {class: 'check', for: 'no-reboot'}, noReboot, 'No reboot'),
        h('div', {class: 'hint'}, 'By default, kiln shuts down the instance, takes snapshots of its volumes, ' +
          'registers the image, and then starts the instance again.'),
        warning),
      h('h2', {class: 'section'}, 'Instance volumes'),
      h('p', {class: 'hint muted small'}, 'The image maps these volumes. Grow the root, delete a volume, ' +
        'or add EBS and instance-store volumes: instances launched from the image get them.'),
      editor.el);
  nameInput.focus();
}
