#!/usr/bin/env python3
"""The seed's workflow, shortened, through the AWS CLI: Debian's v2 (/usr/bin/aws) and the
pyenv's v1, against the real kilnd (issue 5). Only the CLI talks to kilnd here."""

import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

MOTO = e2e.MOTO
GiB = e2e.GiB

UD_FIRST = e2e.user_data(
    'echo "root-$TOKEN" > /e2e-root-marker',
    'mke2fs -F /dev/sdf >/dev/null 2>&1; echo "E2E mkfs_sdf=$?"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf && echo "sdf-$TOKEN" > /mnt/sdf/e2e-marker',
    'printf "is-%s" "$TOKEN" | dd of=/dev/sdb bs=512 count=1 conv=sync 2>/dev/null',
    'sync',
    'echo "E2E-CLI1-DONE-$TOKEN"')

UD_SECOND = e2e.user_data(
    'echo "E2E root_bytes=$(blockdev --getsize64 /dev/xvda)"',
    'echo "E2E root_marker=$(cat /e2e-root-marker)"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf',
    'echo "E2E sdf_marker=$(cat /mnt/sdf/e2e-marker)"',
    'echo "E2E is_nonzero=$(dd if=/dev/sdb bs=4096 count=16 2>/dev/null | tr -d \'\\000\' |'
    ' wc -c | tr -d \' \')"',
    'echo "E2E-CLI2-DONE-$TOKEN"')


class CliTest(e2e.KilnTestCase):

  def setUp(self):
    self.tmp = tempfile.mkdtemp(prefix='kiln-e2e-cli-', dir='/tmp')

  def tearDown(self):
    shutil.rmtree(self.tmp, ignore_errors=True)

  def file(self, name, text):
    path = os.path.join(self.tmp, name)
    with open(path, 'w') as f:
      f.write(text)
    return 'file://' + path

  def test_cli_v2(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    self.assertIn('aws-cli/2.', e2e.cli_version(cli))
    self.workflow(cli)

  def test_cli_v1(self):
    cli = e2e.aws_cli_v1()
    self.assertTrue(cli, 'no AWS CLI v1 on PATH outside /usr/bin (set KILN_AWS_CLI_V1)')
    self.assertIn('aws-cli/1.', e2e.cli_version(cli))
    self.workflow(cli)

  def aws(self, cli, *args, **kwargs):
    return self.kiln.aws(cli, list(args), **kwargs)[1]

  def console(self, cli, iid, marker, timeout=180):
    """Polls `aws ec2 get-console-output` until marker shows; returns the decoded output."""
    if MOTO:
      return None
    deadline = time.monotonic() + timeout
    out = ''
    while time.monotonic() < deadline:
      out = (self.aws(cli, 'get-console-output', '--instance-id', iid) or {}).get('Output') or ''
      if marker in out:
        return out
      time.sleep(1)
    self.fail('%r not on the console of %s within %d s:\n%s' % (marker, iid, timeout, out[-3000:]))

  def base_image_id(self, cli):
    if MOTO:
      return e2e.base_image(self.ec2)['ImageId']
    images = self.aws(cli, 'describe-images', '--owners', 'kiln', '--filters',
                      'Name=name,Values=minimal-linux-*')['Images']
    named = [i for i in images if i['Name'] == e2e.BASE_IMAGE_NAME]
    self.assertEqual(len(named), 1, images)
    return named[0]['ImageId']

  def workflow(self, cli):
    token = os.urandom(4).hex()
    tokened = lambda ud: ud.replace('#!/bin/sh\n', '#!/bin/sh\nTOKEN=%s\n' % token, 1)
    base = self.base_image_id(cli)
    mappings = [{'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}]
    if not MOTO:
      mappings.append({'DeviceName': '/dev/sdb', 'VirtualName': 'ephemeral0'})
    first = self.aws(
        cli, 'run-instances', '--image-id', base, '--instance-type', 'm5d.large', '--count', '1',
        '--user-data', self.file('ud1.sh', tokened(UD_FIRST)),
        '--block-device-mappings', self.file('bdm1.json', json.dumps(mappings)),
        '--tag-specifications', 'ResourceType=instance,Tags=[{Key=Name,Value=e2e-cli}]',
    )['Instances'][0]['InstanceId']
    second = None
    try:
      self.aws(cli, 'wait', 'instance-running', '--instance-ids', first)
      out = self.console(cli, first, 'E2E-CLI1-DONE-' + token)
      if out is not None:
        self.assertEqual(e2e.console_values(out).get('mkfs_sdf'), '0', out)

      name = e2e.unique('e2e-cli')
      image_mappings = [{'DeviceName': '/dev/xvda', 'Ebs': {'VolumeSize': 10}}]
      if not MOTO:
        image_mappings.append({'DeviceName': '/dev/sdb', 'VirtualName': 'ephemeral0'})
      ami = self.aws(
          cli, 'create-image', '--instance-id', first, '--name', name,
          '--description', 'made by the AWS CLI',
          '--block-device-mappings', json.dumps(image_mappings),
          '--tag-specifications', 'ResourceType=image,Tags=[{Key=via,Value=cli}]',
      )['ImageId']
      # Visible at once (a CLI start takes long enough that it may be available already).
      img = self.aws(cli, 'describe-images', '--image-ids', ami)['Images'][0]
      self.assertIn(img['State'], ('pending', 'available'))
      self.aws(cli, 'wait', 'image-available', '--image-ids', ami)
      img = self.aws(cli, 'describe-images', '--image-ids', ami)['Images'][0]
      self.assertEqual(img['State'], 'available')
      self.assertEqual(img['Name'], name)
      snaps = [m['Ebs']['SnapshotId'] for m in img['BlockDeviceMappings']
               if m.get('Ebs', {}).get('SnapshotId')]
      self.assertTrue(snaps)
      self.aws(cli, 'wait', 'snapshot-completed', '--snapshot-ids', *snaps)
      if not MOTO:
        self.assertEqual(img['Description'], 'made by the AWS CLI')
        self.assertIn({'Key': 'via', 'Value': 'cli'}, img.get('Tags', []))
        bdm = {m['DeviceName']: m for m in img['BlockDeviceMappings']}
        self.assertEqual(bdm['/dev/xvda']['Ebs']['VolumeSize'], 10)
        self.assertEqual(bdm['/dev/sdf']['Ebs']['VolumeSize'], 1)
        self.assertEqual(bdm['/dev/sdb'].get('VirtualName'), 'ephemeral0')
        found = self.aws(cli, 'describe-snapshots', '--owner-ids', 'self',
                         '--snapshot-ids', *snaps)['Snapshots']
        for s in found:
          self.assertEqual(s['State'], 'completed')
          self.assertTrue(s['Description'].startswith(
              'Created by CreateImage(%s) for %s' % (first, ami)), s)

      second = self.aws(cli, 'run-instances', '--image-id', ami, '--instance-type', 'm5d.large',
                        '--user-data', self.file('ud2.sh', tokened(UD_SECOND)),
                        )['Instances'][0]['InstanceId']
      self.aws(cli, 'wait', 'instance-running', '--instance-ids', second)
      out = self.console(cli, second, 'E2E-CLI2-DONE-' + token)
      if out is not None:
        v = e2e.console_values(out)
        self.assertEqual(v.get('root_bytes'), str(10 * GiB), out)
        self.assertEqual(v.get('root_marker'), 'root-' + token, out)
        self.assertEqual(v.get('sdf_marker'), 'sdf-' + token, out)
        self.assertEqual(v.get('is_nonzero'), '0', out)

      if not MOTO:
        rc, _, err = self.kiln.aws(cli, ['delete-snapshot', '--snapshot-id', snaps[0]],
                                   check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('InvalidSnapshot.InUse', err)
      self.aws(cli, 'deregister-image', '--image-id', ami)
      for s in snaps:
        self.aws(cli, 'delete-snapshot', '--snapshot-id', s)
      rc, _, err = self.kiln.aws(cli, ['describe-snapshots', '--snapshot-ids', snaps[0]],
                                 check=False)
      self.assertNotEqual(rc, 0)
      self.assertIn('InvalidSnapshot.NotFound', err)
      self.aws(cli, 'terminate-instances', '--instance-ids', first, second)
      self.aws(cli, 'wait', 'instance-terminated', '--instance-ids', first, second)
      first = second = None
    finally:
      ids = [i for i in (first, second) if i]
      if ids:
        self.kiln.aws(cli, ['terminate-instances', '--instance-ids'] + ids, check=False)


if __name__ == '__main__':
  e2e.main()
