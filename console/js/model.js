// EC2 answers (XML) as plain objects, and the Describe calls the pages share.

import {ec2, find, items, tags, at, filterParams, listParams} from './api.js';

function num(s) {
  return s === '' ? null : Number(s);
}

function bool(s) {
  return s === 'true';
}

function mapping(item) {
  const ebs = at(item, 'ebs');
  return {
    deviceName: find(item, 'deviceName'),
    virtualName: find(item, 'virtualName'),
    noDevice: at(item, 'noDevice') !== null,
    ebs: ebs ? {
      snapshotId: find(ebs, 'snapshotId'),
      volumeId: find(ebs, 'volumeId'),
      volumeSize: num(find(ebs, 'volumeSize')),
      volumeType: find(ebs, 'volumeType'),
      deleteOnTermination: bool(find(ebs, 'deleteOnTermination')),
      encrypted: bool(find(ebs, 'encrypted')),
      status: find(ebs, 'status'),
    } : null,
  };
}

export function parseImage(item) {
  return {
    imageId: find(item, 'imageId'),
    name: find(item, 'name'),
    description: find(item, 'description'),
    state: find(item, 'imageState'),
    ownerId: find(item, 'imageOwnerId'),
    ownerAlias: find(item, 'imageOwnerAlias'),
    isPublic: bool(find(item, 'isPublic')),
    creationDate: find(item, 'creationDate'),
    architecture: find(item, 'architecture'),
    rootDeviceName: find(item, 'rootDeviceName'),
    rootDeviceType: find(item, 'rootDeviceType'),
    stateReason: find(item, 'stateReason/message'),
    mappings: items(item, 'blockDeviceMapping').map(mapping),
    tags: tags(item),
  };
}

export function parseInstance(item) {
  return {
    instanceId: find(item, 'instanceId'),
    imageId: find(item, 'imageId'),
    state: find(item, 'instanceState/name'),
    instanceType: find(item, 'instanceType'),
    launchTime: find(item, 'launchTime'),
    privateIp: find(item, 'privateIpAddress'),
    publicIp: find(item, 'ipAddress'),
    rootDeviceName: find(item, 'rootDeviceName'),
    rootDeviceType: find(item, 'rootDeviceType'),
    stateReason: find(item, 'stateReason/message'),
    mappings: items(item, 'blockDeviceMapping').map(mapping),
    tags: tags(item),
  };
}

export function parseVolume(item) {
  const att = items(item, 'attachmentSet')[0];
  return {
    volumeId: find(item, 'volumeId'),
    size: num(find(item, 'size')),
    volumeType: find(item, 'volumeType'),
    state: find(item, 'status'),
    createTime: find(item, 'createTime'),
    snapshotId: find(item, 'snapshotId'),
    encrypted: bool(find(item, 'encrypted')),
    instanceId: att ? find(att, 'instanceId') : '',
    device: att ? find(att, 'device') : '',
    attachState: att ? find(att, 'status') : '',
    tags: tags(item),
  };
}

export function parseSnapshot(item) {
  return {
    snapshotId: find(item, 'snapshotId'),
    volumeId: find(item, 'volumeId'),
    volumeSize: num(find(item, 'volumeSize')),
    state: find(item, 'status'),
    progress: find(item, 'progress'),
    startTime: find(item, 'startTime'),
    description: find(item, 'description'),
    ownerId: find(item, 'ownerId'),
    encrypted: bool(find(item, 'encrypted')),
    tags: tags(item),
  };
}

// Follows nextToken until every page is read.
async function allPages(action, params, read) {
  const out = [];
  let token = null;
  do {
    const root = await ec2(action, token ? {...params, NextToken: token} : params);
    out.push(...read(root));
    token = find(root, 'nextToken');
  } while (token);
  return out;
}

// query: {owner: 'self'|'kiln'|ACCOUNT|undefined, executableBy, name, ids, filters}
export function describeImages(query = {}) {
  const params = {};
  if (query.owner) params['Owner.1'] = query.owner;
  if (query.executableBy) params['ExecutableBy.1'] = query.executableBy;
  if (query.ids) listParams('ImageId', query.ids, params);
  filterParams(query.filters || {}, params);
  return allPages('DescribeImages', params,
                  (root) => items(root, 'imagesSet').map(parseImage));
}

export function describeInstances(ids) {
  const params = ids ? listParams('InstanceId', ids) : {};
  return allPages('DescribeInstances', params, (root) => {
    const out = [];
    for (const r of items(root, 'reservationSet')) {
      for (const i of items(r, 'instancesSet')) out.push(parseInstance(i));
    }
    return out;
  });
}

export function describeVolumes(ids) {
  const params = ids ? listParams('VolumeId', ids) : {};
  return allPages('DescribeVolumes', params, (root) => items(root, 'volumeSet').map(parseVolume));
}

export function describeSnapshots() {
  return allPages('DescribeSnapshots', {'Owner.1': 'self'},
                  (root) => items(root, 'snapshotSet').map(parseSnapshot));
}

export async function describeInstanceTypes() {
  const types = await allPages('DescribeInstanceTypes', {}, (root) =>
    items(root, 'instanceTypeSet').map((t) => ({
      name: find(t, 'instanceType'),
      vcpus: num(find(t, 'vCpuInfo/defaultVCpus')),
      memoryMiB: num(find(t, 'memoryInfo/sizeInMiB')),
      instanceStoreGB: num(find(t, 'instanceStorageInfo/totalSizeInGB')) || 0,
    })));
  return types.sort((a, b) => a.name.localeCompare(b.name));
}

export async function describeStorageUsage() {
  const root = await ec2('DescribeStorageUsage');
  const bytes = (el, name) => Number(find(el, name) || 0);
  return {
    storedBytes: bytes(root, 'storedBytes'),
    images: items(root, 'imageSet').map((i) => ({
      imageId: find(i, 'imageId'),
      name: find(i, 'name'),
      state: find(i, 'state'),
      creationDate: find(i, 'creationDate'),
      storedBytes: bytes(i, 'storedBytes'),
      uniqueBytes: bytes(i, 'uniqueBytes'),
      sharedBytes: bytes(i, 'sharedBytes'),
      snapshotIds: items(i, 'snapshotSet').map((s) => find(s, 'snapshotId')),
    })),
    snapshots: items(root, 'snapshotSet').map((s) => ({
      snapshotId: find(s, 'snapshotId'),
      volumeId: find(s, 'volumeId'),
      volumeSize: num(find(s, 'volumeSize')),
      state: find(s, 'state'),
      startTime: find(s, 'startTime'),
      imageId: find(s, 'imageId'),
      storedBytes: bytes(s, 'storedBytes'),
      uniqueBytes: bytes(s, 'uniqueBytes'),
      sharedBytes: bytes(s, 'sharedBytes'),
    })),
  };
}
