#!/usr/bin/env python3
"""EBS encryption through the EC2 API against the real kilnd (issue 6): CreateVolume with
Encrypted and KmsKeyId, encryption by default and the default KMS key
(Get/Enable/DisableEbsEncryptionByDefault, Get/Modify/ResetEbsDefaultKmsKeyId), encrypted
block device mappings at launch, CreateImage of encrypted volumes (encrypted snapshots under the
same key), launching such an image on a type with and without EBS encryption support, the
errors EC2 answers, DryRun, one case through the AWS CLI, and the at-rest scan: a plaintext
marker written inside an instance onto an encrypted volume, imaged and copied (re-sealed under a
new KMS key) is nowhere under kilnd's data dir (logs aside), while the same marker on an
unencrypted volume is found.

Keys are mostly the account's aws/ebs key, named by the alias alias/aws/ebs, its ARN or its key
id (all as DescribeVolumes reports them); the at-rest copy uses a key made through kilnd's KMS
endpoint (test_kms.py tests the endpoint itself).

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

MOTO = e2e.MOTO
ARN_PREFIX = 'arn:aws:kms:us-east-1:'

# Hex digits to letters g..v: the marker is the token spelled this way, so it never appears in
# the user data (which the catalog keeps in plaintext) and only the guest's writes make it.
HEX_TO_MARK = str.maketrans('0123456789abcdef', 'ghijklmnopqrstuv')

# Writes 1 MiB of the marker, repeated, straight onto /dev/sdf.
UD_WRITE_MARKER = e2e.user_data(
    'M="KILNMARK-$(echo "$TOKEN" | tr 0-9a-f g-v)-KRAMNLIK"',
    'while :; do printf "%s" "$M"; done | head -c 1048576 | dd of=/dev/sdf bs=65536 '
    'conv=fsync 2>/dev/null',
    'echo "E2E marker_dd=$?"',
    'sync',
    'echo "E2E-MARKER-WRITTEN-$TOKEN"')


def marker_for(token):
  return ('KILNMARK-%s-KRAMNLIK' % token.translate(HEX_TO_MARK)).encode()


def files_holding(root, needle):
  """Every regular file under `root` (no mount points, no *.log) whose bytes contain `needle`;
  reads only the data regions of sparse files."""
  found = []
  for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if not os.path.ismount(os.path.join(dirpath, d))]
    for name in filenames:
      path = os.path.join(dirpath, name)
      if name.endswith('.log') or not os.path.isfile(path) or os.path.islink(path):
        continue
      if _holds(path, needle):
        found.append(path)
  return found


def _holds(path, needle):
  try:
    fd = os.open(path, os.O_RDONLY)
  except OSError:
    return False
  try:
    size = os.fstat(fd).st_size
    pos = 0
    while pos < size:
      try:
        start = os.lseek(fd, pos, os.SEEK_DATA)
        end = os.lseek(fd, start, os.SEEK_HOLE)
      except OSError:
        break  # no data past pos
      os.lseek(fd, start, os.SEEK_SET)
      tail = b''
      left = end - start
      while left > 0:
        buf = os.read(fd, min(left, 8 << 20))
        if not buf:
          break
        if needle in tail + buf:
          return True
        tail = buf[-len(needle):]
        left -= len(buf)
      pos = end
    return False
  finally:
    os.close(fd)


class EncryptionTest(e2e.KilnTestCase):

  def default_key_arn(self):
    """The ARN of the account's aws/ebs key, as an encrypted volume reports it."""
    vol = self.ec2.create_volume(AvailabilityZone=self.az(), Size=1, Encrypted=True)
    self.ec2.delete_volume(VolumeId=vol['VolumeId'])
    return vol['KmsKeyId']

  def volume(self, volume_id):
    return self.ec2.describe_volumes(VolumeIds=[volume_id])['Volumes'][0]

  def tearDown(self):
    if not MOTO:
      self.ec2.disable_ebs_encryption_by_default()
      self.ec2.reset_ebs_default_kms_key_id()

  # --- CreateVolume ----------------------------------------------------------------------------

  def test_create_volume_encrypted_with_default_and_named_key(self):
    ec2 = self.ec2
    plain = ec2.create_volume(AvailabilityZone=self.az(), Size=1)
    self.assertFalse(plain['Encrypted'])
    self.assertNotIn('KmsKeyId', plain)
    enc = ec2.create_volume(AvailabilityZone=self.az(), Size=1, Encrypted=True)
    self.assertTrue(enc['Encrypted'])
    arn = enc['KmsKeyId']
    self.assertTrue(arn.startswith(ARN_PREFIX + self.account + ':key/'), arn)
    key_id = arn.split(':key/')[1]
    described = self.volume(enc['VolumeId'])
    self.assertEqual((described['Encrypted'], described['KmsKeyId']), (True, arn))
    self.assertFalse(self.volume(plain['VolumeId'])['Encrypted'])
    # Every form EC2 accepts names the same key: alias, alias ARN, key id, key ARN.
    ids = [plain['VolumeId'], enc['VolumeId']]
    for ref in ('alias/aws/ebs', ARN_PREFIX + self.account + ':alias/aws/ebs', key_id, arn):
      v = ec2.create_volume(AvailabilityZone=self.az(), Size=1, Encrypted=True, KmsKeyId=ref)
      ids.append(v['VolumeId'])
      self.assertEqual((v['Encrypted'], v['KmsKeyId']), (True, arn), ref)
    filtered = ec2.describe_volumes(Filters=[{'Name': 'encrypted', 'Values': ['true']}])
    self.assertEqual({v['VolumeId'] for v in filtered['Volumes']} & set(ids), set(ids[1:]))
    for v in ids:
      ec2.delete_volume(VolumeId=v)

  def test_create_volume_errors_and_dry_run(self):
    ec2 = self.ec2
    e = self.assertClientError('InvalidParameterDependency', ec2.create_volume,
                               AvailabilityZone=self.az(), Size=1, KmsKeyId='alias/aws/ebs')
    self.assertIn('KmsKeyId', str(e))
    self.assertClientError('InvalidParameterDependency', ec2.create_volume,
                           AvailabilityZone=self.az(), Size=1, Encrypted=False,
                           KmsKeyId='alias/aws/ebs')
    for bad in ('alias/no-such-key', '0b6e0c1e-9d1d-4c1a-8a57-3f0e1d2c3b4a',
                ARN_PREFIX + '999999999999:key/0b6e0c1e-9d1d-4c1a-8a57-3f0e1d2c3b4a'):
      self.assertClientError('InvalidParameterValue', ec2.create_volume,
                             AvailabilityZone=self.az(), Size=1, Encrypted=True, KmsKeyId=bad)
    before = {v['VolumeId'] for v in ec2.describe_volumes()['Volumes']}
    self.assertClientError('DryRunOperation', ec2.create_volume, AvailabilityZone=self.az(),
                           Size=1, Encrypted=True, KmsKeyId='alias/aws/ebs', DryRun=True)
    self.assertEqual({v['VolumeId'] for v in ec2.describe_volumes()['Volumes']}, before)

  def test_volume_from_encrypted_snapshot_is_encrypted(self):
    ec2 = self.ec2
    enc = ec2.create_volume(AvailabilityZone=self.az(), Size=1, Encrypted=True)
    snap = ec2.create_snapshot(VolumeId=enc['VolumeId'])
    self.assertTrue(snap['Encrypted'])
    self.assertEqual(snap['KmsKeyId'], enc['KmsKeyId'])
    e2e.wait(ec2, 'snapshot_completed', SnapshotIds=[snap['SnapshotId']])
    described = ec2.describe_snapshots(SnapshotIds=[snap['SnapshotId']])['Snapshots'][0]
    self.assertEqual((described['Encrypted'], described['KmsKeyId']), (True, enc['KmsKeyId']))
    # Encrypted=false is ignored for an encrypted snapshot, as EC2 does.
    for kwargs in ({}, {'Encrypted': False}, {'Encrypted': True, 'KmsKeyId': 'alias/aws/ebs'}):
      v = ec2.create_volume(AvailabilityZone=self.az(), SnapshotId=snap['SnapshotId'], **kwargs)
      self.assertEqual((v['Encrypted'], v['KmsKeyId']), (True, enc['KmsKeyId']), kwargs)
      ec2.delete_volume(VolumeId=v['VolumeId'])
    # An unencrypted snapshot becomes an encrypted volume when asked (its blocks re-sealed).
    plain = ec2.create_volume(AvailabilityZone=self.az(), Size=1)
    psnap = ec2.create_snapshot(VolumeId=plain['VolumeId'])['SnapshotId']
    e2e.wait(ec2, 'snapshot_completed', SnapshotIds=[psnap])
    self.assertFalse(ec2.describe_snapshots(SnapshotIds=[psnap])['Snapshots'][0]['Encrypted'])
    v = ec2.create_volume(AvailabilityZone=self.az(), SnapshotId=psnap, Encrypted=True)
    self.assertEqual((v['Encrypted'], v['KmsKeyId']), (True, enc['KmsKeyId']))
    for vid in (v['VolumeId'], enc['VolumeId'], plain['VolumeId']):
      ec2.delete_volume(VolumeId=vid)
    ec2.delete_snapshot(SnapshotId=snap['SnapshotId'])
    ec2.delete_snapshot(SnapshotId=psnap)

  # --- account defaults ------------------------------------------------------------------------

  def test_encryption_by_default_and_default_key(self):
    ec2 = self.ec2
    self.assertFalse(ec2.get_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertEqual(ec2.get_ebs_default_kms_key_id()['KmsKeyId'], 'alias/aws/ebs')
    for call in (ec2.get_ebs_encryption_by_default, ec2.enable_ebs_encryption_by_default,
                 ec2.disable_ebs_encryption_by_default, ec2.get_ebs_default_kms_key_id,
                 ec2.reset_ebs_default_kms_key_id):
      self.assertClientError('DryRunOperation', call, DryRun=True)
    self.assertClientError('DryRunOperation', ec2.modify_ebs_default_kms_key_id,
                           KmsKeyId='alias/aws/ebs', DryRun=True)
    self.assertFalse(ec2.get_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertTrue(ec2.enable_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertTrue(ec2.get_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    v = ec2.create_volume(AvailabilityZone=self.az(), Size=1)
    self.assertTrue(v['Encrypted'])
    arn = v['KmsKeyId']
    ec2.delete_volume(VolumeId=v['VolumeId'])
    # A launch encrypts every new volume too; m1.small cannot take them.
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro')
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      for vid in e2e.volume_ids(ec2, iid).values():
        self.assertEqual((self.volume(vid)['Encrypted'], self.volume(vid)['KmsKeyId']),
                         (True, arn))
    finally:
      e2e.terminate(ec2, iid)
    self.assertClientError('InvalidParameterCombination', e2e.run_one, ec2,
                           self.base['ImageId'], 'm1.small')
    # The default key: ModifyEbsDefaultKmsKeyId answers the key's ARN, whatever form named it.
    self.assertEqual(ec2.modify_ebs_default_kms_key_id(KmsKeyId='alias/aws/ebs')['KmsKeyId'],
                     arn)
    self.assertEqual(ec2.get_ebs_default_kms_key_id()['KmsKeyId'], arn)
    self.assertClientError('InvalidParameterValue', ec2.modify_ebs_default_kms_key_id,
                           KmsKeyId='alias/no-such-key')
    self.assertEqual(ec2.get_ebs_default_kms_key_id()['KmsKeyId'], arn)
    self.assertEqual(ec2.reset_ebs_default_kms_key_id()['KmsKeyId'], arn)
    self.assertEqual(ec2.get_ebs_default_kms_key_id()['KmsKeyId'], 'alias/aws/ebs')
    self.assertFalse(ec2.disable_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertFalse(ec2.create_volume(AvailabilityZone=self.az(), Size=1)['Encrypted'])

  def test_zz_defaults_are_per_account_and_durable(self):
    """Last (a restart moves kilnd to a new port): one account's defaults are not another's,
    and they outlive a restart."""
    if MOTO:
      self.skipTest('accounts and restarts are kiln only')
    other_name = e2e.unique('enc').replace('-', '_')
    self.kiln.create_account(other_name)
    self.ec2.enable_ebs_encryption_by_default()
    arn = self.ec2.modify_ebs_default_kms_key_id(KmsKeyId='alias/aws/ebs')['KmsKeyId']
    other = self.kiln.client(other_name)
    self.assertFalse(other.get_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertEqual(other.get_ebs_default_kms_key_id()['KmsKeyId'], 'alias/aws/ebs')
    self.assertFalse(other.create_volume(AvailabilityZone=self.az(), Size=1)['Encrypted'])
    # Another account's key is not the caller's to use.
    self.assertClientError('InvalidParameterValue', other.create_volume,
                           AvailabilityZone=self.az(), Size=1, Encrypted=True, KmsKeyId=arn)
    self.kiln.stop()
    self.kiln.start()
    type(self).ec2 = ec2 = self.kiln.client()
    self.assertTrue(ec2.get_ebs_encryption_by_default()['EbsEncryptionByDefault'])
    self.assertEqual(ec2.get_ebs_default_kms_key_id()['KmsKeyId'], arn)
    self.assertFalse(
        self.kiln.client(other_name).get_ebs_encryption_by_default()['EbsEncryptionByDefault'])

  # --- launch and CreateImage ------------------------------------------------------------------

  def test_launch_encrypted_mapping_image_and_instance_type(self):
    ec2 = self.ec2
    arn = self.default_key_arn()
    e = self.assertClientError('InvalidParameterDependency', e2e.run_one, ec2,
                               self.base['ImageId'], 't3.micro', mappings=[
                                   {'DeviceName': '/dev/sdf',
                                    'Ebs': {'VolumeSize': 1, 'KmsKeyId': 'alias/aws/ebs'}}])
    self.assertIn('KmsKeyId', str(e))
    before = (ec2.describe_volumes()['Volumes'], ec2.describe_instances()['Reservations'])
    self.assertClientError('InvalidParameterCombination', e2e.run_one, ec2,
                           self.base['ImageId'], 'm1.small', mappings=[
                               {'DeviceName': '/dev/sdf',
                                'Ebs': {'VolumeSize': 1, 'Encrypted': True}}])
    self.assertEqual((ec2.describe_volumes()['Volumes'],
                      ec2.describe_instances()['Reservations']), before)
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', mappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'Encrypted': True, 'KmsKeyId': 'alias/aws/ebs'}},
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'Encrypted': True,
                                           'DeleteOnTermination': True}},
        {'DeviceName': '/dev/sdg', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}])
    ami = child = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      vols = e2e.volume_ids(ec2, iid)
      self.assertEqual({d: self.volume(v)['Encrypted'] for d, v in vols.items()},
                       {'/dev/xvda': True, '/dev/sdf': True, '/dev/sdg': False})
      self.assertEqual(self.volume(vols['/dev/sdf'])['KmsKeyId'], arn)
      ami = ec2.create_image(InstanceId=iid, Name=e2e.unique('enc'), NoReboot=True)['ImageId']
      e2e.wait(ec2, 'image_available', ImageIds=[ami])
      maps = {m['DeviceName']: m['Ebs'] for m in e2e.image(ec2, ami)['BlockDeviceMappings']}
      self.assertEqual({d: m['Encrypted'] for d, m in maps.items()},
                       {'/dev/xvda': True, '/dev/sdf': True, '/dev/sdg': False})
      self.assertEqual(maps['/dev/xvda']['KmsKeyId'], arn)
      self.assertNotIn('KmsKeyId', maps['/dev/sdg'])
      snaps = ec2.describe_snapshots(SnapshotIds=[m['SnapshotId'] for m in maps.values()])
      by_id = {s['SnapshotId']: s for s in snaps['Snapshots']}
      for d, m in maps.items():
        s = by_id[m['SnapshotId']]
        self.assertEqual(s['Encrypted'], d != '/dev/sdg', d)
        if d != '/dev/sdg':
          self.assertEqual(s['KmsKeyId'], arn)
      filtered = ec2.describe_images(ImageIds=[ami], Filters=[
          {'Name': 'block-device-mapping.encrypted', 'Values': ['true']}])['Images']
      self.assertEqual(len(filtered), 1)
      # An image with encrypted volumes: m1.small (no EBS encryption) is refused, leaving
      # nothing; t3.micro launches with encrypted volumes.
      before = (ec2.describe_volumes()['Volumes'], ec2.describe_instances()['Reservations'])
      e = self.assertClientError('InvalidParameterCombination', e2e.run_one, ec2, ami,
                                 'm1.small')
      self.assertIn('m1.small', str(e))
      self.assertEqual((ec2.describe_volumes()['Volumes'],
                        ec2.describe_instances()['Reservations']), before)
      child = e2e.run_one(ec2, ami, 't3.micro')
      e2e.wait(ec2, 'instance_running', InstanceIds=[child])
      cvols = e2e.volume_ids(ec2, child)
      self.assertEqual({d: (self.volume(v)['Encrypted'], self.volume(v).get('KmsKeyId'))
                        for d, v in cvols.items()},
                       {'/dev/xvda': (True, arn), '/dev/sdf': (True, arn),
                        '/dev/sdg': (False, None)})
    finally:
      e2e.terminate(ec2, iid, child)
      if ami:
        e2e.delete_image(ec2, ami)

  # --- the AWS CLI -----------------------------------------------------------------------------

  def test_cli(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    aws = lambda *args, **kw: self.kiln.aws(cli, list(args), **kw)  # noqa: E731
    self.assertEqual(aws('get-ebs-encryption-by-default')[1], {'EbsEncryptionByDefault': False})
    self.assertEqual(aws('enable-ebs-encryption-by-default')[1], {'EbsEncryptionByDefault': True})
    vol = aws('create-volume', '--availability-zone', self.az(), '--size', '1')[1]
    self.assertTrue(vol['Encrypted'], vol)
    status, _, err = aws('create-volume', '--availability-zone', self.az(), '--size', '1',
                         '--kms-key-id', 'alias/aws/ebs', '--no-encrypted', check=False)
    self.assertNotEqual(status, 0)
    self.assertIn('InvalidParameterDependency', err)
    described = aws('describe-volumes', '--volume-ids', vol['VolumeId'])[1]['Volumes'][0]
    self.assertEqual((described['Encrypted'], described['KmsKeyId']), (True, vol['KmsKeyId']))
    self.assertEqual(aws('disable-ebs-encryption-by-default')[1],
                     {'EbsEncryptionByDefault': False})
    aws('delete-volume', '--volume-id', vol['VolumeId'])
    json.dumps(described)  # the CLI's JSON round-trips

  # --- at rest ---------------------------------------------------------------------------------

  def write_marker(self, encrypted, token):
    """Launches an instance whose user data writes the token's marker onto a 1 GiB /dev/sdf
    (encrypted or not; kept after termination), images it, terminates it; returns
    (instance, image, the /dev/sdf volume)."""
    ec2 = self.ec2
    ud = UD_WRITE_MARKER.replace('#!/bin/sh\n', '#!/bin/sh\nTOKEN=%s\n' % token, 1)
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=ud, mappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'Encrypted': encrypted}},
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'Encrypted': encrypted,
                                           'DeleteOnTermination': False}}])
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      out = e2e.wait_console(ec2, iid, 'E2E-MARKER-WRITTEN-' + token)
      self.assertEqual(e2e.console_values(out).get('marker_dd'), '0', out)
      vol = e2e.volume_ids(ec2, iid)['/dev/sdf']
      self.assertEqual(self.volume(vol)['Encrypted'], encrypted)
      ami = ec2.create_image(InstanceId=iid, Name=e2e.unique('atrest'))['ImageId']
      e2e.wait(ec2, 'image_available', ImageIds=[ami])
    finally:
      e2e.terminate(ec2, iid)
    return iid, ami, vol

  def test_at_rest_scan(self):
    if MOTO:
      self.skipTest('moto runs no guests')
    token = os.urandom(8).hex()
    marker = marker_for(token)
    _, ami, vol = self.write_marker(True, token)
    maps = e2e.image(self.ec2, ami)['BlockDeviceMappings']
    self.assertTrue(all(m['Ebs']['Encrypted'] for m in maps if 'Ebs' in m), maps)
    # Copied too, re-sealed under a new key made through the KMS endpoint.
    key = self.kiln.client(service='kms').create_key(Description='at-rest copy')['KeyMetadata']
    copy = self.ec2.copy_image(SourceImageId=ami, SourceRegion=e2e.REGION,
                               Name=e2e.unique('atrest-copy'), Encrypted=True,
                               KmsKeyId=key['Arn'])['ImageId']
    e2e.wait(self.ec2, 'image_available', ImageIds=[copy])
    copy_maps = e2e.image(self.ec2, copy)['BlockDeviceMappings']
    self.assertTrue(all(m['Ebs']['KmsKeyId'] == key['Arn'] for m in copy_maps if 'Ebs' in m),
                    copy_maps)
    found = files_holding(self.kiln.data_dir, marker)
    self.assertEqual(found, [], 'plaintext marker under the data dir')
    # The scan can fail: the same marker on an unencrypted volume is found.
    _, plain_ami, plain_vol = self.write_marker(False, token)
    found = files_holding(self.kiln.data_dir, marker)
    self.assertTrue(found, 'the scan did not find the marker on an unencrypted volume')
    self.assertTrue(any(plain_vol in p for p in found), found)
    for a in (ami, copy, plain_ami):
      e2e.delete_image(self.ec2, a)
    for v in (vol, plain_vol):
      self.ec2.delete_volume(VolumeId=v)


if __name__ == '__main__':
  e2e.main()
