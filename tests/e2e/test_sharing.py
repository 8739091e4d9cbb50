#!/usr/bin/env python3
"""Sharing and copies through boto3 and the AWS CLI against the real kilnd (issue 6).

Two accounts: A (profile default) owns an image made by CreateImage from an instance whose
user data wrote a marker into its root filesystem, and a snapshot of its own volume. It shares
them with B (ModifyImageAttribute launchPermission, ModifySnapshotAttribute
createVolumePermission): B then sees the image (ExecutableBy), launches it and reads the marker
through the console, creates a volume from the snapshot; after removal or Reset it cannot.
CopySnapshot and CopyImage make new ids sharing chunks with their source (the chunk count under
DATA_DIR/chunks barely moves), and the copy keeps working after the source is deleted.

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

MOTO = e2e.MOTO
REGION = e2e.REGION

UD_MARK = e2e.user_data(
    'echo "shared-$TOKEN" > /e2e-share-marker',
    'sync',
    'echo "E2E-MARK-DONE-$TOKEN"')

UD_READ = e2e.user_data(
    'echo "E2E share_marker=$(cat /e2e-share-marker)"',
    'echo "E2E-READ-DONE-$TOKEN"')


def with_token(script, token):
  return script.replace('$TOKEN', token)


def chunk_files(data_dir):
  """The number of chunk files under DATA_DIR/chunks."""
  n = 0
  for _, _, files in os.walk(os.path.join(data_dir, 'chunks')):
    n += len(files)
  return n


class SharingTest(e2e.KilnTestCase):

  _marked = None  # (image id, token) of A's image with the marker, made at first use
  b = None
  b_account = None

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    if MOTO:
      return
    name = e2e.unique('share_b').replace('-', '_')
    cls.b_account = cls.kiln.create_account(name)['account_id']
    cls.b = cls.kiln.client(name)
    cls.b_profile = name

  def setUp(self):
    if MOTO:
      self.skipTest('two accounts and guest contents are kiln only')

  # --- helpers -----------------------------------------------------------------------------------

  @classmethod
  def marked_image(cls):
    """A's image (CreateImage) of an instance whose root holds /e2e-share-marker."""
    if cls._marked is None:
      ec2 = cls.ec2
      token = e2e.unique('t')
      iid = e2e.run_one(ec2, cls.base['ImageId'], 't3.micro',
                        user_data=with_token(UD_MARK, token))
      try:
        e2e.wait_console(ec2, iid, 'E2E-MARK-DONE-' + token)
        ami = ec2.create_image(InstanceId=iid, Name=e2e.unique('e2e-share'))['ImageId']
        e2e.wait(ec2, 'image_available', ImageIds=[ami])
      finally:
        e2e.terminate(ec2, iid)
      cls._marked = (ami, token)
    return cls._marked

  def read_marker(self, ec2, ami, token):
    """Launches `ami` as the account of `ec2`; returns the marker its root holds."""
    iid = e2e.run_one(ec2, ami, 't3.micro', user_data=with_token(UD_READ, token))
    try:
      out = e2e.wait_console(ec2, iid, 'E2E-READ-DONE-' + token)
      return e2e.console_values(out).get('share_marker')
    finally:
      e2e.terminate(ec2, iid)

  def own_snapshot(self):
    """A snapshot of A's new 1 GiB volume (completed); returns (snapshot id, volume id)."""
    vol = self.ec2.create_volume(AvailabilityZone=self.az(), Size=1)['VolumeId']
    e2e.wait(self.ec2, 'volume_available', VolumeIds=[vol])
    snap = self.ec2.create_snapshot(VolumeId=vol)['SnapshotId']
    e2e.wait(self.ec2, 'snapshot_completed', SnapshotIds=[snap])
    return snap, vol

  def launch_permissions(self, ami):
    attr = self.ec2.describe_image_attribute(ImageId=ami, Attribute='launchPermission')
    return attr.get('LaunchPermissions', [])

  def ids(self, images):
    return {i['ImageId'] for i in images}

  # --- sharing an image --------------------------------------------------------------------------

  def test_share_image_with_an_account(self):
    a, b = self.ec2, self.b
    ami, token = self.marked_image()
    self.assertClientError('InvalidAMIID.NotFound', b.describe_images, ImageIds=[ami])
    self.assertNotIn(ami, self.ids(b.describe_images(ExecutableUsers=['self'])['Images']))
    a.modify_image_attribute(ImageId=ami,
                             LaunchPermission={'Add': [{'UserId': self.b_account}]})
    self.assertEqual(self.launch_permissions(ami), [{'UserId': self.b_account}])
    # B sees it: by id, in the default listing, by ExecutableBy self and by Owners=[A].
    self.assertEqual(b.describe_images(ImageIds=[ami])['Images'][0]['OwnerId'], self.account)
    self.assertIn(ami, self.ids(b.describe_images()['Images']))
    self.assertIn(ami, self.ids(b.describe_images(ExecutableUsers=['self'])['Images']))
    self.assertIn(ami, self.ids(b.describe_images(ExecutableUsers=[self.b_account])['Images']))
    self.assertIn(ami, self.ids(b.describe_images(Owners=[self.account])['Images']))
    self.assertFalse(b.describe_images(ImageIds=[ami])['Images'][0]['Public'])
    # The public base image is not "explicitly" executable by B.
    self.assertNotIn(self.base['ImageId'],
                     self.ids(b.describe_images(ExecutableUsers=['self'])['Images']))
    # A's own view: shared with B; the owner's own images are executable by itself.
    self.assertIn(ami, self.ids(a.describe_images(ExecutableUsers=[self.b_account])['Images']))
    self.assertIn(ami, self.ids(a.describe_images(ExecutableUsers=['self'])['Images']))
    self.assertNotIn(ami, self.ids(a.describe_images(ExecutableUsers=['all'])['Images']))
    # B launches it (the image's snapshot is not shared with B: the launch permission covers
    # it) and its root holds A's marker.
    self.assertEqual(self.read_marker(b, ami, token), 'shared-' + token)
    # B may not change or read its attributes, nor deregister it.
    self.assertClientError('AuthFailure', b.modify_image_attribute, ImageId=ami,
                           LaunchPermission={'Add': [{'Group': 'all'}]})
    self.assertClientError('AuthFailure', b.describe_image_attribute, ImageId=ami,
                           Attribute='launchPermission')
    self.assertClientError('AuthFailure', b.reset_image_attribute, ImageId=ami,
                           Attribute='launchPermission')
    self.assertClientError('InvalidAMIID.NotFound', b.deregister_image, ImageId=ami)
    # Removed: B no longer sees or launches it.
    a.modify_image_attribute(ImageId=ami,
                             LaunchPermission={'Remove': [{'UserId': self.b_account}]})
    self.assertEqual(self.launch_permissions(ami), [])
    self.assertClientError('InvalidAMIID.NotFound', b.describe_images, ImageIds=[ami])
    self.assertNotIn(ami, self.ids(b.describe_images(ExecutableUsers=['self'])['Images']))
    self.assertClientError('InvalidAMIID.NotFound', b.run_instances, ImageId=ami,
                           MinCount=1, MaxCount=1)

  def test_public_image_and_reset(self):
    a, b = self.ec2, self.b
    ami, _ = self.marked_image()
    # The flat form, as older tools send it.
    a.modify_image_attribute(ImageId=ami, Attribute='launchPermission', OperationType='add',
                             UserGroups=['all'])
    try:
      img = b.describe_images(ImageIds=[ami])['Images'][0]
      self.assertTrue(img['Public'])
      self.assertIn(ami, self.ids(b.describe_images(ExecutableUsers=['all'])['Images']))
      self.assertIn(ami, self.ids(b.describe_images(Filters=[
          {'Name': 'is-public', 'Values': ['true']}])['Images']))
      self.assertEqual(self.launch_permissions(ami), [{'Group': 'all'}])
      # DryRun changes nothing.
      self.assertClientError('DryRunOperation', a.reset_image_attribute, ImageId=ami,
                             Attribute='launchPermission', DryRun=True)
      self.assertTrue(b.describe_images(ImageIds=[ami])['Images'][0]['Public'])
    finally:
      a.reset_image_attribute(ImageId=ami, Attribute='launchPermission')
    self.assertEqual(self.launch_permissions(ami), [])
    self.assertFalse(a.describe_images(ImageIds=[ami])['Images'][0]['Public'])
    self.assertClientError('InvalidAMIID.NotFound', b.describe_images, ImageIds=[ami])

  def test_image_attribute_errors(self):
    a = self.ec2
    ami, _ = self.marked_image()
    self.assertClientError('InvalidAMIAttributeItemValue', a.modify_image_attribute,
                           ImageId=ami, LaunchPermission={'Add': [{'UserId': '1234'}]})
    self.assertClientError('InvalidAMIAttributeItemValue', a.modify_image_attribute,
                           ImageId=ami, LaunchPermission={'Add': [{'Group': 'friends'}]})
    self.assertClientError('InvalidAMIAttributeItemValue', a.modify_image_attribute,
                           ImageId=ami, Attribute='launchPermission', OperationType='add',
                           UserIds=[self.b_account, 'not-an-account'])
    self.assertEqual(self.launch_permissions(ami), [])  # nothing half-applied
    self.assertClientError('InvalidAMIID.Malformed', a.modify_image_attribute,
                           ImageId='ami-bogus', LaunchPermission={'Add': [{'Group': 'all'}]})
    self.assertClientError('InvalidAMIID.NotFound', a.modify_image_attribute,
                           ImageId='ami-0123456789abcdef0',
                           LaunchPermission={'Add': [{'Group': 'all'}]})
    self.assertClientError('InvalidParameterValue', a.reset_image_attribute, ImageId=ami,
                           Attribute='description')
    # Nobody but its owner changes the base image.
    self.assertClientError('AuthFailure', a.modify_image_attribute,
                           ImageId=self.base['ImageId'],
                           LaunchPermission={'Remove': [{'Group': 'all'}]})
    codes = a.describe_image_attribute(ImageId=ami, Attribute='productCodes')
    self.assertEqual(codes.get('ProductCodes', []), [])

  # --- sharing a snapshot ------------------------------------------------------------------------

  def test_share_snapshot(self):
    a, b = self.ec2, self.b
    snap, vol = self.own_snapshot()
    b_vols = []
    try:
      self.assertClientError('InvalidSnapshot.NotFound', b.create_volume,
                             AvailabilityZone=self.az(), SnapshotId=snap)
      a.modify_snapshot_attribute(SnapshotId=snap, Attribute='createVolumePermission',
                                  OperationType='add', UserIds=[self.b_account])
      perms = a.describe_snapshot_attribute(SnapshotId=snap, Attribute='createVolumePermission')
      self.assertEqual(perms['CreateVolumePermissions'], [{'UserId': self.b_account}])
      restorable = b.describe_snapshots(RestorableByUserIds=['self'])['Snapshots']
      self.assertIn(snap, {s['SnapshotId'] for s in restorable})
      self.assertEqual(b.describe_snapshots(SnapshotIds=[snap])['Snapshots'][0]['OwnerId'],
                       self.account)
      b_vols.append(b.create_volume(AvailabilityZone=self.az(), SnapshotId=snap)['VolumeId'])
      e2e.wait(b, 'volume_available', VolumeIds=b_vols)
      self.assertClientError('AuthFailure', b.modify_snapshot_attribute, SnapshotId=snap,
                             CreateVolumePermission={'Add': [{'Group': 'all'}]})
      self.assertClientError('InvalidSnapshot.NotFound', b.delete_snapshot, SnapshotId=snap)
      # Reset: private again.
      a.reset_snapshot_attribute(SnapshotId=snap, Attribute='createVolumePermission')
      self.assertEqual(a.describe_snapshot_attribute(
          SnapshotId=snap, Attribute='createVolumePermission')['CreateVolumePermissions'], [])
      self.assertClientError('InvalidSnapshot.NotFound', b.create_volume,
                             AvailabilityZone=self.az(), SnapshotId=snap)
      self.assertClientError('InvalidSnapshot.NotFound', b.describe_snapshots,
                             SnapshotIds=[snap])
      # The structured form; errors.
      a.modify_snapshot_attribute(SnapshotId=snap,
                                  CreateVolumePermission={'Add': [{'Group': 'all'}]})
      self.assertIn(snap, {s['SnapshotId'] for s in
                           b.describe_snapshots(RestorableByUserIds=['all'])['Snapshots']})
      a.modify_snapshot_attribute(SnapshotId=snap,
                                  CreateVolumePermission={'Remove': [{'Group': 'all'}]})
      self.assertClientError('InvalidParameterValue', a.modify_snapshot_attribute,
                             SnapshotId=snap, CreateVolumePermission={'Add': [{'UserId': '12'}]})
      self.assertClientError('InvalidSnapshot.NotFound', a.modify_snapshot_attribute,
                             SnapshotId='snap-0123456789abcdef0',
                             CreateVolumePermission={'Add': [{'Group': 'all'}]})
      self.assertClientError('InvalidParameterValue', a.describe_snapshot_attribute,
                             SnapshotId=snap, Attribute='volumeSize')
    finally:
      for v in b_vols:
        b.delete_volume(VolumeId=v)
      a.delete_snapshot(SnapshotId=snap)
      a.delete_volume(VolumeId=vol)

  # --- copies ------------------------------------------------------------------------------------

  def test_copy_snapshot(self):
    a, b = self.ec2, self.b
    snap, vol = self.own_snapshot()
    copies = []
    try:
      self.assertClientError('InvalidParameterValue', a.copy_snapshot, SourceSnapshotId=snap,
                             SourceRegion='eu-west-1')
      self.assertClientError('InvalidSnapshot.NotFound', a.copy_snapshot,
                             SourceSnapshotId='snap-0123456789abcdef0', SourceRegion=REGION)
      self.assertClientError('DryRunOperation', a.copy_snapshot, SourceSnapshotId=snap,
                             SourceRegion=REGION, DryRun=True)
      res = a.copy_snapshot(SourceSnapshotId=snap, SourceRegion=REGION, Description='the copy',
                            TagSpecifications=[{'ResourceType': 'snapshot',
                                                'Tags': [{'Key': 'Name', 'Value': 'copy'}]}])
      copy = res['SnapshotId']
      copies.append((a, copy))
      self.assertNotEqual(copy, snap)
      e2e.wait(a, 'snapshot_completed', SnapshotIds=[copy])
      s = a.describe_snapshots(SnapshotIds=[copy])['Snapshots'][0]
      self.assertEqual((s['Description'], s['VolumeSize'], s['Encrypted']), ('the copy', 1, False))
      self.assertEqual(s['Tags'], [{'Key': 'Name', 'Value': 'copy'}])
      # B may not copy A's private snapshot, but may once it is shared.
      self.assertClientError('InvalidSnapshot.NotFound', b.copy_snapshot, SourceSnapshotId=snap,
                             SourceRegion=REGION)
      a.modify_snapshot_attribute(SnapshotId=snap,
                                  CreateVolumePermission={'Add': [{'UserId': self.b_account}]})
      b_copy = b.copy_snapshot(SourceSnapshotId=snap, SourceRegion=REGION)['SnapshotId']
      copies.append((b, b_copy))
      e2e.wait(b, 'snapshot_completed', SnapshotIds=[b_copy])
      self.assertEqual(b.describe_snapshots(SnapshotIds=[b_copy])['Snapshots'][0]['OwnerId'],
                       self.b_account)
      # Independent: the source goes, the copies stay usable.
      a.delete_snapshot(SnapshotId=snap)
      snap = None
      v = a.create_volume(AvailabilityZone=self.az(), SnapshotId=copy)['VolumeId']
      e2e.wait(a, 'volume_available', VolumeIds=[v])
      a.delete_volume(VolumeId=v)
    finally:
      for client, c in copies:
        client.delete_snapshot(SnapshotId=c)
      if snap:
        a.delete_snapshot(SnapshotId=snap)
      a.delete_volume(VolumeId=vol)

  def test_copy_image_shares_chunks_and_outlives_its_source(self):
    a = self.ec2
    ami, token = self.marked_image()
    # A source of its own, so that deleting it does not disturb the other tests.
    source = a.copy_image(SourceImageId=ami, SourceRegion=REGION,
                          Name=e2e.unique('e2e-src'))['ImageId']
    e2e.wait(a, 'image_available', ImageIds=[source])
    a.create_tags(Resources=[source], Tags=[{'Key': 'team', 'Value': 'kiln'}])
    before = chunk_files(self.kiln.data_dir)
    name = e2e.unique('e2e-copy')
    res = a.copy_image(SourceImageId=source, SourceRegion=REGION, Name=name,
                       Description='copied', CopyImageTags=True, ClientToken=name)
    copy = res['ImageId']
    # The same ClientToken answers the same image.
    self.assertEqual(a.copy_image(SourceImageId=source, SourceRegion=REGION, Name=name,
                                  ClientToken=name)['ImageId'], copy)
    try:
      self.assertNotEqual(copy, source)
      e2e.wait(a, 'image_available', ImageIds=[copy])
      src_img, img = e2e.image(a, source), e2e.image(a, copy)
      self.assertEqual((img['Name'], img['Description'], img['OwnerId']),
                       (name, 'copied', self.account))
      self.assertEqual(img.get('Tags'), [{'Key': 'team', 'Value': 'kiln'}])
      src_snaps = {m['Ebs']['SnapshotId'] for m in src_img['BlockDeviceMappings'] if 'Ebs' in m}
      snaps = {m['Ebs']['SnapshotId'] for m in img['BlockDeviceMappings'] if 'Ebs' in m}
      self.assertEqual(len(snaps), len(src_snaps))
      self.assertFalse(snaps & src_snaps)
      for s in a.describe_snapshots(SnapshotIds=sorted(snaps))['Snapshots']:
        self.assertEqual(s['State'], 'completed')
      # Dedup: the copy stored (almost) no new chunks.
      self.assertLessEqual(chunk_files(self.kiln.data_dir) - before, 2)
      self.assertClientError('InvalidAMIName.Duplicate', a.copy_image, SourceImageId=source,
                             SourceRegion=REGION, Name=name)
      self.assertClientError('InvalidParameterValue', a.copy_image, SourceImageId=source,
                             SourceRegion='ap-south-1', Name=e2e.unique('e2e-x'))
      # The source goes (deregistered, its snapshots deleted): the copy still launches, with
      # the marker A's first instance wrote.
      e2e.delete_image(a, source)
      source = None
      self.assertEqual(self.read_marker(a, copy, token), 'shared-' + token)
    finally:
      e2e.delete_image(a, copy)
      if source:
        e2e.delete_image(a, source)

  def test_copy_of_a_shared_image(self):
    a, b = self.ec2, self.b
    ami, token = self.marked_image()
    self.assertClientError('InvalidAMIID.NotFound', b.copy_image, SourceImageId=ami,
                           SourceRegion=REGION, Name=e2e.unique('e2e-b'))
    a.modify_image_attribute(ImageId=ami,
                             LaunchPermission={'Add': [{'UserId': self.b_account}]})
    try:
      copy = b.copy_image(SourceImageId=ami, SourceRegion=REGION, Name=e2e.unique('e2e-b'),
                          CopyImageTags=True)['ImageId']
    finally:
      a.modify_image_attribute(ImageId=ami,
                               LaunchPermission={'Remove': [{'UserId': self.b_account}]})
    try:
      e2e.wait(b, 'image_available', ImageIds=[copy])
      img = e2e.image(b, copy)
      self.assertEqual(img['OwnerId'], self.b_account)
      snaps = [m['Ebs']['SnapshotId'] for m in img['BlockDeviceMappings'] if 'Ebs' in m]
      for s in b.describe_snapshots(SnapshotIds=snaps)['Snapshots']:
        self.assertEqual(s['OwnerId'], self.b_account)
      # B's copy is B's: it launches after A took the permission back.
      self.assertEqual(self.read_marker(b, copy, token), 'shared-' + token)
    finally:
      e2e.delete_image(b, copy)

  def test_encrypted_copy(self):
    a = self.ec2
    snap, vol = self.own_snapshot()
    copy = None
    try:
      copy = a.copy_snapshot(SourceSnapshotId=snap, SourceRegion=REGION,
                             Encrypted=True)['SnapshotId']
      e2e.wait(a, 'snapshot_completed', SnapshotIds=[copy])
      s = a.describe_snapshots(SnapshotIds=[copy])['Snapshots'][0]
      self.assertTrue(s['Encrypted'])
      self.assertTrue(s.get('KmsKeyId', '').startswith('arn:aws:kms:'), s)
      v = a.create_volume(AvailabilityZone=self.az(), SnapshotId=copy)['VolumeId']
      e2e.wait(a, 'volume_available', VolumeIds=[v])
      self.assertTrue(a.describe_volumes(VolumeIds=[v])['Volumes'][0]['Encrypted'])
      a.delete_volume(VolumeId=v)
      self.assertClientError(('InvalidParameterDependency', 'InvalidParameterCombination'),
                             a.copy_snapshot, SourceSnapshotId=snap, SourceRegion=REGION,
                             KmsKeyId='alias/aws/ebs')
    finally:
      if copy:
        a.delete_snapshot(SnapshotId=copy)
      a.delete_snapshot(SnapshotId=snap)
      a.delete_volume(VolumeId=vol)

  def test_copy_ends_after_kill9(self):
    """A copy caught by a kill -9 ends available or failed after the restart, never pending."""
    a = self.ec2
    ami, _ = self.marked_image()
    copy = a.copy_image(SourceImageId=ami, SourceRegion=REGION, Encrypted=True,
                        Name=e2e.unique('e2e-kill'))['ImageId']
    self.kiln.kill9()
    self.kiln.start()
    a = self.__class__.ec2 = self.kiln.client()
    self.__class__.b = self.kiln.client(self.b_profile)
    img = e2e.image(a, copy)
    self.assertIn(img['State'], ('available', 'failed'), img)
    if img['State'] == 'failed':
      self.assertIn('restarted', img['StateReason']['Message'])
    snaps = [m['Ebs']['SnapshotId'] for m in img['BlockDeviceMappings'] if 'Ebs' in m]
    for s in a.describe_snapshots(SnapshotIds=snaps)['Snapshots']:
      self.assertIn(s['State'], ('completed', 'error'), s)
    e2e.delete_image(a, copy)

  # --- the AWS CLI ---------------------------------------------------------------------------------

  def test_cli(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    ami, _ = self.marked_image()
    aws = lambda *args, **kw: self.kiln.aws(cli, list(args), **kw)  # noqa: E731
    aws('modify-image-attribute', '--image-id', ami, '--launch-permission',
        'Add=[{UserId=%s}]' % self.b_account)
    try:
      _, out, _ = aws('describe-image-attribute', '--image-id', ami, '--attribute',
                      'launchPermission')
      self.assertEqual(out['LaunchPermissions'], [{'UserId': self.b_account}])
      _, out, _ = aws('describe-images', '--executable-users', 'self',
                      profile=self.b_profile)
      self.assertIn(ami, self.ids(out['Images']))
      rc, _, err = aws('modify-image-attribute', '--image-id', ami, '--launch-permission',
                       'Add=[{UserId=12}]', check=False)
      self.assertNotEqual(rc, 0)
      self.assertIn('InvalidAMIAttributeItemValue', err)
    finally:
      aws('reset-image-attribute', '--image-id', ami, '--attribute', 'launchPermission')
    _, out, _ = aws('copy-image', '--source-image-id', ami, '--source-region', REGION,
                    '--name', e2e.unique('e2e-cli-copy'))
    copy = out['ImageId']
    e2e.wait(self.ec2, 'image_available', ImageIds=[copy])
    e2e.delete_image(self.ec2, copy)


if __name__ == '__main__':
  e2e.main()
