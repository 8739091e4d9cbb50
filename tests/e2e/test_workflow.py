#!/usr/bin/env python3
"""The seed's custom-image workflow through boto3 against the real kilnd (issue 5).

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43).
Guest-side facts (files, sizes, user data) are proven from inside through the console
(GetConsoleOutput), as a user without SSH would.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

GiB = e2e.GiB
MOTO = e2e.MOTO

# First instance: marks the root, a fresh ext2 on the extra EBS volume, and the raw
# instance-store disk; prints what it did. No reboot-safe tricks: this runs once.
UD_FIRST = e2e.user_data(
    'echo "E2E ud1=start"',
    'echo "root-$TOKEN" > /e2e-root-marker',
    'echo "E2E xvdf=$([ -b /dev/xvdf ] && echo yes || echo no)"',
    'mke2fs -F /dev/sdf >/dev/null 2>&1; echo "E2E mkfs_sdf=$?"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf; echo "E2E mount_sdf=$?"',
    'echo "sdf-$TOKEN" > /mnt/sdf/e2e-marker',
    'printf "is-%s" "$TOKEN" | dd of=/dev/sdb bs=512 count=1 conv=sync 2>/dev/null;'
    ' echo "E2E is_write=$?"',
    'echo "E2E is_read=$(dd if=/dev/sdb bs=512 count=1 2>/dev/null | tr -d \'\\000\')"',
    'sync',
    'echo "E2E-UD1-DONE-$TOKEN"')

# Instance launched from the new image: reports sizes and markers, then its own marker.
UD_SECOND = e2e.user_data(
    'echo "E2E ud2=start"',
    'echo "E2E root_bytes=$(blockdev --getsize64 /dev/xvda)"',
    'echo "E2E root_df=$(df -k / | tail -1)"',
    'echo "E2E root_marker=$(cat /e2e-root-marker)"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf; echo "E2E mount_sdf=$?"',
    'echo "E2E sdf_marker=$(cat /mnt/sdf/e2e-marker)"',
    'echo "E2E sdf_bytes=$(blockdev --getsize64 /dev/sdf)"',
    'echo "E2E is_bytes=$(blockdev --getsize64 /dev/sdb)"',
    'echo "E2E is_nonzero=$(dd if=/dev/sdb bs=4096 count=16 2>/dev/null | tr -d \'\\000\' |'
    ' wc -c | tr -d \' \')"',
    'echo "E2E sdg_bytes=$(blockdev --getsize64 /dev/sdg)"',
    'echo "E2E sdg_nonzero=$(dd if=/dev/sdg bs=4096 count=16 2>/dev/null | tr -d \'\\000\' |'
    ' wc -c | tr -d \' \')"',
    'echo "E2E-UD2-DONE-$TOKEN"')

# Installs a script the base image runs at every boot (/etc/rc.local.d), to count boots.
UD_BOOT_COUNTER = e2e.user_data(
    'mkdir -p /etc/rc.local.d',
    'printf "#!/bin/sh\\necho E2E-BOOT\\n" > /etc/rc.local.d/50-e2e-boot',
    'chmod 0755 /etc/rc.local.d/50-e2e-boot',
    'sync',
    'echo E2E-UD-RAN')


# Waits until a volume appears at /dev/sdf, then powers the guest off from inside.
UD_POWEROFF_ON_SDF = e2e.user_data(
    'echo E2E-WAITING-FOR-SDF',
    'while [ ! -b /dev/sdf ]; do sleep 0.2; done',
    'echo E2E-POWEROFF',
    'poweroff')


def with_token(script, token):
  return script.replace('#!/bin/sh\n', '#!/bin/sh\nTOKEN=%s\n' % token, 1)


class WorkflowTest(e2e.KilnTestCase):

  # --- the seed's workflow -----------------------------------------------------------------------

  def test_base_image(self):
    img = self.base
    self.assertEqual(img['State'], 'available')
    if MOTO:
      return
    self.assertEqual(img['Name'], e2e.BASE_IMAGE_NAME)
    self.assertTrue(img['Public'])
    self.assertEqual(img['RootDeviceType'], 'ebs')
    self.assertEqual(img['RootDeviceName'], '/dev/xvda')
    self.assertEqual(img['Architecture'], 'x86_64')
    self.assertEqual(img.get('ImageOwnerAlias'), 'kiln')
    self.assertRegex(img['OwnerId'], r'^\d{12}$')
    self.assertNotEqual(img['OwnerId'], self.account)
    root = [m for m in img['BlockDeviceMappings'] if m['DeviceName'] == '/dev/xvda']
    self.assertEqual(len(root), 1, img['BlockDeviceMappings'])
    self.assertEqual(root[0]['Ebs']['VolumeSize'], 8)
    self.assertRegex(root[0]['Ebs']['SnapshotId'], r'^snap-[0-9a-f]{17}$')
    # The owner-alias filter finds it too, and the twin is there.
    by_alias = self.ec2.describe_images(Filters=[
        {'Name': 'owner-alias', 'Values': ['kiln']},
        {'Name': 'name', 'Values': ['minimal-linux-x86_64*']}])['Images']
    self.assertEqual({i['Name'] for i in by_alias},
                     {e2e.BASE_IMAGE_NAME, 'minimal-linux-x86_64-instance-store'})

  def test_seed_workflow(self):
    ec2 = self.ec2
    token = os.urandom(4).hex()
    # 1. Launch a type with instance storage, with user data, an extra EBS volume and the
    #    instance-store volume.
    resp = ec2.run_instances(
        ImageId=self.base['ImageId'], MinCount=1, MaxCount=1, InstanceType='m5d.large',
        UserData=with_token(UD_FIRST, token),
        BlockDeviceMappings=[
            {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}},
        ] + ([] if MOTO else [{'DeviceName': '/dev/sdb', 'VirtualName': 'ephemeral0'}]),
        TagSpecifications=[{'ResourceType': 'instance',
                            'Tags': [{'Key': 'Name', 'Value': 'e2e-source'}]}])
    first = resp['Instances'][0]['InstanceId']
    self.assertRegex(first, r'^i-[0-9a-f]{17}$')
    self.assertEqual(resp['Instances'][0]['State']['Name'], 'pending')
    second = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[first])
      inst = e2e.instance(ec2, first)
      self.assertEqual(inst['InstanceType'], 'm5d.large')
      self.assertEqual(inst['ImageId'], self.base['ImageId'])
      self.assertIn({'Key': 'Name', 'Value': 'e2e-source'}, inst.get('Tags', []))
      first_volumes = e2e.volume_ids(ec2, first)
      if not MOTO:
        self.assertEqual(set(first_volumes), {'/dev/xvda', '/dev/sdf'})
      doomed = list(e2e.volume_ids(ec2, first, delete_on_termination=True).values())
      self.assertIn(first_volumes['/dev/sdf'], doomed)
      out = e2e.wait_console(ec2, first, 'E2E-UD1-DONE-' + token)
      if out is not None:
        v = e2e.console_values(out)
        self.assertEqual(v.get('mkfs_sdf'), '0', out)
        self.assertEqual(v.get('mount_sdf'), '0', out)
        self.assertEqual(v.get('xvdf'), 'yes', out)
        self.assertEqual(v.get('is_write'), '0', out)
        self.assertEqual(v.get('is_read'), 'is-' + token, out)

      # 2. CreateImage with mapping changes: enlarge the root, keep /dev/sdf, the instance store
      #    at /dev/sdb, a new empty 2 GiB EBS volume at /dev/sdg; tags for image and snapshots.
      name = e2e.unique('e2e-seed')
      ami = ec2.create_image(
          InstanceId=first, Name=name, Description='seed workflow image',
          BlockDeviceMappings=[
              {'DeviceName': '/dev/xvda', 'Ebs': {'VolumeSize': 10}},
              {'DeviceName': '/dev/sdf', 'Ebs': {'DeleteOnTermination': True}},
              {'DeviceName': '/dev/sdb', 'VirtualName': 'ephemeral0'},
              {'DeviceName': '/dev/sdg', 'Ebs': {'VolumeSize': 2, 'DeleteOnTermination': True}}],
          TagSpecifications=[
              {'ResourceType': 'image', 'Tags': [{'Key': 'purpose', 'Value': 'e2e-image'}]},
          ] + ([] if MOTO else [  # moto: NotImplementedError
              {'ResourceType': 'snapshot', 'Tags': [{'Key': 'purpose', 'Value': 'e2e-snap'}]}]),
      )['ImageId']
      self.assertRegex(ami, r'^ami-[0-9a-f]{17}$')
      # Read after write: visible, and pending, at once (no waiter retry on NotFound).
      pending = ec2.describe_images(ImageIds=[ami])['Images']
      self.assertEqual(len(pending), 1)
      if not MOTO:
        self.assertEqual(pending[0]['State'], 'pending')
      e2e.wait(ec2, 'image_available', ImageIds=[ami])
      # The source instance was rebooted, not stopped: it is running again.
      e2e.wait(ec2, 'instance_running', InstanceIds=[first])

      img = e2e.image(ec2, ami)
      self.check_new_image(img, name, first, ami)
      snaps = self.check_image_snapshots(img, first, ami)

      # 3. Launch from the new image, with its own user data; prove from inside.
      second = e2e.run_one(ec2, ami, 'm5d.large', user_data=with_token(UD_SECOND, token))
      e2e.wait(ec2, 'instance_running', InstanceIds=[second])
      second_volumes = e2e.volume_ids(ec2, second)
      doomed += list(e2e.volume_ids(ec2, second, delete_on_termination=True).values())
      if not MOTO:
        self.assertEqual(set(second_volumes), {'/dev/xvda', '/dev/sdf', '/dev/sdg'})
        sizes = {v['VolumeId']: v['Size'] for v in
                 ec2.describe_volumes(VolumeIds=list(second_volumes.values()))['Volumes']}
        self.assertEqual(sizes[second_volumes['/dev/xvda']], 10)
        self.assertEqual(sizes[second_volumes['/dev/sdf']], 1)
        self.assertEqual(sizes[second_volumes['/dev/sdg']], 2)
      out = e2e.wait_console(ec2, second, 'E2E-UD2-DONE-' + token)
      if out is not None:
        v = e2e.console_values(out)
        self.assertNotIn('E2E ud1=start', out, 'the first instance\'s user data ran again')
        self.assertEqual(v.get('root_bytes'), str(10 * GiB), out)
        self.assertEqual(v.get('root_marker'), 'root-' + token, out)
        self.assertEqual(v.get('mount_sdf'), '0', out)
        self.assertEqual(v.get('sdf_marker'), 'sdf-' + token, out)
        self.assertEqual(v.get('sdf_bytes'), str(1 * GiB), out)
        self.assertEqual(v.get('is_nonzero'), '0', 'instance store not empty:\n' + out)
        self.assertGreaterEqual(int(v.get('is_bytes') or 0), 75 * 10**9, out)
        self.assertLessEqual(int(v.get('is_bytes') or 0), 75 * GiB, out)
        self.assertEqual(v.get('sdg_bytes'), str(2 * GiB), out)
        self.assertEqual(v.get('sdg_nonzero'), '0', out)

      # 4. The image's snapshots are in use; deregistering releases them at once.
      if not MOTO:
        for s in snaps:
          self.assertClientError('InvalidSnapshot.InUse', ec2.delete_snapshot, SnapshotId=s)
      self.assertEqual(e2e.delete_image(ec2, ami), snaps)
      self.assertClientError('InvalidSnapshot.NotFound', ec2.describe_snapshots,
                             SnapshotIds=snaps[:1])
      gone = ec2.describe_images(Filters=[{'Name': 'image-id', 'Values': [ami]}])['Images']
      self.assertTrue(all(i['State'] == 'deregistered' for i in gone), gone)
      if out is not None:
        # The instance launched from the image keeps working without the snapshots.
        self.assertEqual(e2e.state(ec2, second), 'running')
        self.assertIn('E2E-UD2-DONE-' + token, e2e.console(ec2, second))

      # 5. Terminate: DeleteOnTermination volumes go with the instances.
      e2e.terminate(ec2, first, second)
      if not MOTO:
        self.assertIn(second_volumes['/dev/sdg'], doomed)  # the image said DeleteOnTermination
        self.assertIn(second_volumes['/dev/sdf'], doomed)
        e2e.wait(ec2, 'volume_deleted', VolumeIds=doomed)
      first = second = None
    finally:
      e2e.terminate(ec2, first, second, wait_done=False)

  def check_new_image(self, img, name, instance_id, ami):
    self.assertEqual(img['State'], 'available')
    self.assertEqual(img['Name'], name)
    if MOTO:
      return
    self.assertEqual(img['Description'], 'seed workflow image')
    self.assertEqual(img['OwnerId'], self.account)
    self.assertFalse(img['Public'])
    self.assertEqual(img['RootDeviceType'], 'ebs')
    self.assertEqual(img['RootDeviceName'], '/dev/xvda')
    self.assertEqual(img['Architecture'], 'x86_64')
    self.assertIn({'Key': 'purpose', 'Value': 'e2e-image'}, img.get('Tags', []))
    bdm = {m['DeviceName']: m for m in img['BlockDeviceMappings']}
    self.assertEqual(set(bdm), {'/dev/xvda', '/dev/sdf', '/dev/sdb', '/dev/sdg'}, bdm)
    self.assertEqual(bdm['/dev/xvda']['Ebs']['VolumeSize'], 10)
    self.assertEqual(bdm['/dev/sdf']['Ebs']['VolumeSize'], 1)
    self.assertTrue(bdm['/dev/sdf']['Ebs']['DeleteOnTermination'])
    self.assertEqual(bdm['/dev/sdb'].get('VirtualName'), 'ephemeral0')
    self.assertNotIn('Ebs', bdm['/dev/sdb'])
    self.assertEqual(bdm['/dev/sdg']['Ebs']['VolumeSize'], 2)
    self.assertNotIn('SnapshotId', bdm['/dev/sdg']['Ebs'])
    for dev in ('/dev/xvda', '/dev/sdf'):
      self.assertRegex(bdm[dev]['Ebs']['SnapshotId'], r'^snap-[0-9a-f]{17}$')
    # The image is found by the filters a user would use.
    for flt in ({'Name': 'source-instance-id', 'Values': [instance_id]},
                {'Name': 'tag:purpose', 'Values': ['e2e-im*']},
                {'Name': 'block-device-mapping.volume-size', 'Values': ['10']},
                {'Name': 'name', 'Values': [name[:-3] + '???']}):
      found = self.ec2.describe_images(Owners=['self'], Filters=[flt])['Images']
      self.assertIn(ami, [i['ImageId'] for i in found], flt)

  def check_image_snapshots(self, img, instance_id, ami):
    snaps = [m['Ebs']['SnapshotId'] for m in img['BlockDeviceMappings']
             if m.get('Ebs', {}).get('SnapshotId')]
    self.assertTrue(snaps)
    e2e.wait(self.ec2, 'snapshot_completed', SnapshotIds=snaps)
    if MOTO:
      return snaps
    by_id = {s['SnapshotId']: s for s in
             self.ec2.describe_snapshots(SnapshotIds=snaps)['Snapshots']}
    bdm = {m['DeviceName']: m for m in img['BlockDeviceMappings']}
    self.assertEqual(by_id[bdm['/dev/xvda']['Ebs']['SnapshotId']]['VolumeSize'], 8)
    self.assertEqual(by_id[bdm['/dev/sdf']['Ebs']['SnapshotId']]['VolumeSize'], 1)
    for s in by_id.values():
      self.assertEqual(s['State'], 'completed')
      self.assertEqual(s['OwnerId'], self.account)
      self.assertTrue(s['Description'].startswith(
          'Created by CreateImage(%s) for %s' % (instance_id, ami)), s['Description'])
      self.assertIn({'Key': 'purpose', 'Value': 'e2e-snap'}, s.get('Tags', []))
      self.assertEqual(s.get('Progress'), '100%')
    return snaps

  def test_create_image_mapping_changes(self):
    """NoDevice drops a volume, DeleteOnTermination changes, a volume cannot shrink."""
    ec2 = self.ec2
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', mappings=[
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}},
        {'DeviceName': '/dev/sdg', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}])
    ami = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      if not MOTO:
        self.assertClientError('InvalidBlockDeviceMapping', ec2.create_image, InstanceId=iid,
                               Name=e2e.unique('e2e-shrink'), NoReboot=True,
                               BlockDeviceMappings=[{'DeviceName': '/dev/xvda',
                                                     'Ebs': {'VolumeSize': 4}}])
      ami = ec2.create_image(
          InstanceId=iid, Name=e2e.unique('e2e-nodevice'), NoReboot=True,
          BlockDeviceMappings=[{'DeviceName': '/dev/sdf', 'NoDevice': ''},
                               {'DeviceName': '/dev/sdg',
                                'Ebs': {'DeleteOnTermination': False}}])['ImageId']
      e2e.wait(ec2, 'image_available', ImageIds=[ami])
      if not MOTO:
        bdm = {m['DeviceName']: m for m in e2e.image(ec2, ami)['BlockDeviceMappings']}
        self.assertEqual(set(bdm), {'/dev/xvda', '/dev/sdg'}, bdm)
        self.assertFalse(bdm['/dev/sdg']['Ebs']['DeleteOnTermination'])
        self.assertTrue(bdm['/dev/xvda']['Ebs']['DeleteOnTermination'])
        self.assertEqual(bdm['/dev/xvda']['Ebs']['VolumeSize'], 8)
    finally:
      e2e.terminate(ec2, iid)
      if ami:
        e2e.delete_image(ec2, ami)

  # --- instance lifecycle ------------------------------------------------------------------------

  def test_modify_volume_grows_attached_volume(self):
    """Elastic Volumes: ModifyVolume grows a volume the running guest has mounted; the guest
    sees the larger device at once, with no detach and no reboot, and its data stays."""
    ec2 = self.ec2
    ud = e2e.user_data(
        'mke2fs -F /dev/sdf >/dev/null 2>&1; mkdir -p /mnt/g && mount /dev/sdf /mnt/g',
        'echo grow-marker > /mnt/g/marker && sync && echo E2E-GROW-READY',
        'while [ "$(blockdev --getsize64 /dev/sdf)" -le 1073741824 ]; do sleep 0.2; done',
        'resize2fs /dev/sdf >/dev/null 2>&1; echo "E2E grow_resize2fs=$?"',
        'echo "E2E grow_bytes=$(blockdev --getsize64 /dev/sdf)"',
        'echo "E2E grow_df=$(df -k /mnt/g | tail -1)"',
        'echo "E2E grow_marker=$(cat /mnt/g/marker)"',
        'echo E2E-GROW-DONE')
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=ud, mappings=[
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}])
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      vol = e2e.volume_ids(ec2, iid)['/dev/sdf']
      e2e.wait_console(ec2, iid, 'E2E-GROW-READY')
      mod = ec2.modify_volume(VolumeId=vol, Size=2)['VolumeModification']
      self.assertEqual((mod['VolumeId'], mod['TargetSize'], mod['OriginalSize']), (vol, 2, 1))
      self.assertEqual(mod['ModificationState'], 'completed')
      self.assertEqual(ec2.describe_volumes(VolumeIds=[vol])['Volumes'][0]['Size'], 2)
      self.assertEqual(ec2.describe_volumes(VolumeIds=[vol])['Volumes'][0]['State'], 'in-use')
      out = e2e.wait_console(ec2, iid, 'E2E-GROW-DONE')
      if out is not None:
        values = e2e.console_values(out)
        self.assertEqual(values.get('grow_bytes'), str(2 * GiB), out)
        self.assertEqual(values.get('grow_marker'), 'grow-marker', out)
        self.assertIn('/mnt/g', values.get('grow_df', ''), out)
      self.assertClientError('InvalidParameterValue', ec2.modify_volume, VolumeId=vol, Size=1)
    finally:
      e2e.terminate(ec2, iid)

  def test_stop_start_reboot(self):
    ec2 = self.ec2
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=UD_BOOT_COUNTER)
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      out = e2e.wait_console(ec2, iid, 'E2E-UD-RAN')
      boots = out.count('E2E-BOOT') if out is not None else 0

      resp = ec2.stop_instances(InstanceIds=[iid])['StoppingInstances'][0]
      self.assertEqual(resp['InstanceId'], iid)
      self.assertEqual(resp['PreviousState']['Name'], 'running')
      self.assertIn(resp['CurrentState']['Name'], ('stopping', 'stopped'))
      seen = self.sample_until(iid, 'stopped')
      self.assertTrue(set(seen) <= {'running', 'stopping', 'stopped'}, seen)
      e2e.wait(ec2, 'instance_stopped', InstanceIds=[iid])

      resp = ec2.start_instances(InstanceIds=[iid])['StartingInstances'][0]
      self.assertEqual(resp['PreviousState']['Name'], 'stopped')
      self.assertIn(resp['CurrentState']['Name'], ('pending', 'running'))
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      out = e2e.wait_console(ec2, iid, 'E2E-BOOT', count=boots + 1)
      if out is not None:
        self.assertEqual(out.count('E2E-UD-RAN'), 1, 'user data ran again after start')

      ec2.reboot_instances(InstanceIds=[iid])
      if not MOTO:
        with e2e.Sampler(self.kiln.client(), iid) as sampler:
          out = e2e.wait_console(ec2, iid, 'E2E-BOOT', count=boots + 2)
        self.assertFalse(sampler.errors, sampler.errors)
        self.assertEqual(set(sampler.states), {'running'}, sampler.states)
        self.assertEqual(out.count('E2E-UD-RAN'), 1, 'user data ran again after reboot')
      self.assertEqual(e2e.state(ec2, iid), 'running')
    finally:
      e2e.terminate(ec2, iid)

  def test_status_attributes_and_guest_poweroff(self):
    """DescribeInstanceStatus and DescribeInstanceAttribute of a running instance; then the
    guest powers itself off and EC2's instance-initiated shutdown follows: stopped."""
    ec2 = self.ec2
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=UD_POWEROFF_ON_SDF)
    vol = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      e2e.wait(ec2, 'instance_status_ok', InstanceIds=[iid])
      st = ec2.describe_instance_status(InstanceIds=[iid])['InstanceStatuses']
      self.assertEqual(len(st), 1, st)
      self.assertEqual(st[0]['InstanceState']['Name'], 'running')
      self.assertEqual(st[0]['AvailabilityZone'], self.az())
      self.assertEqual(st[0]['InstanceStatus']['Status'], 'ok')
      self.assertEqual(st[0]['SystemStatus']['Status'], 'ok')
      self.assertEqual(st[0]['InstanceStatus']['Details'],
                       [{'Name': 'reachability', 'Status': 'passed'}])
      listed = ec2.describe_instance_status(
          Filters=[{'Name': 'instance-status.reachability', 'Values': ['passed']}])
      self.assertIn(iid, [s['InstanceId'] for s in listed['InstanceStatuses']])
      self.assertClientError('InvalidParameterValue', ec2.describe_instance_status,
                             Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])

      attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute='instanceType')
      self.assertEqual(attr['InstanceType']['Value'], 't3.micro')
      attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute='userData')
      self.assertEqual(__import__('base64').b64decode(attr['UserData']['Value']).decode(),
                       UD_POWEROFF_ON_SDF)
      attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute='rootDeviceName')
      self.assertEqual(attr['RootDeviceName']['Value'], '/dev/xvda')
      attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute='blockDeviceMapping')
      self.assertEqual([m['DeviceName'] for m in attr['BlockDeviceMappings']], ['/dev/xvda'])
      attr = ec2.describe_instance_attribute(InstanceId=iid,
                                             Attribute='instanceInitiatedShutdownBehavior')
      self.assertEqual(attr['InstanceInitiatedShutdownBehavior']['Value'], 'stop')
      groups = ec2.describe_instance_attribute(InstanceId=iid, Attribute='groupSet')['Groups']
      self.assertEqual([g['GroupName'] for g in groups], ['default'])
      self.assertClientError('InvalidParameterValue', self.no_validation_client().
                             describe_instance_attribute, InstanceId=iid, Attribute='color')
      if MOTO:
        return

      # The guest powers off once /dev/sdf appears.
      self.assertIsNotNone(e2e.wait_console(ec2, iid, 'E2E-WAITING-FOR-SDF'))
      vol = ec2.create_volume(AvailabilityZone=self.az(), Size=1)['VolumeId']
      e2e.wait(ec2, 'volume_available', VolumeIds=[vol])
      ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device='/dev/sdf')
      e2e.wait(ec2, 'instance_stopped', InstanceIds=[iid])
      inst = e2e.instance(ec2, iid)
      self.assertEqual(inst['StateReason']['Code'], 'Client.InstanceInitiatedShutdown')
      self.assertIn('E2E-POWEROFF', e2e.console(ec2, iid))
      self.assertEqual(ec2.describe_instance_status(InstanceIds=[iid])['InstanceStatuses'], [])
      st = ec2.describe_instance_status(InstanceIds=[iid],
                                        IncludeAllInstances=True)['InstanceStatuses']
      self.assertEqual(st[0]['InstanceState']['Name'], 'stopped')
      self.assertEqual(st[0]['InstanceStatus']['Status'], 'not-applicable')
    finally:
      e2e.terminate(ec2, iid)
      if vol:
        e2e.wait(ec2, 'volume_available', VolumeIds=[vol])
        ec2.delete_volume(VolumeId=vol)

  def test_guest_poweroff_with_terminate_behavior(self):
    if MOTO:
      self.skipTest('moto has no guest to power off')
    ec2 = self.ec2
    iid = ec2.run_instances(ImageId=self.base['ImageId'], MinCount=1, MaxCount=1,
                            InstanceType='t3.micro', InstanceInitiatedShutdownBehavior='terminate',
                            UserData=e2e.user_data('echo E2E-POWEROFF', 'poweroff'))
    iid = iid['Instances'][0]['InstanceId']
    try:
      # Not the waiter: it gives up on `pending`, which this guest may still show.
      seen = self.sample_until(iid, 'terminated')
      self.assertNotIn('stopped', seen)
      inst = e2e.instance(ec2, iid)
      self.assertEqual(inst['StateReason']['Code'], 'Client.InstanceInitiatedShutdown')
      self.assertEqual(ec2.describe_volumes(Filters=[{'Name': 'attachment.instance-id',
                                                      'Values': [iid]}])['Volumes'], [],
                       'the root volume (DeleteOnTermination) is gone')
    finally:
      if e2e.state(ec2, iid) in ('running', 'stopped'):
        e2e.terminate(ec2, iid)

  def no_validation_client(self):
    return self.kiln.client(parameter_validation=False)

  def sample_until(self, iid, final, timeout=120):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
      s = e2e.state(self.ec2, iid)
      seen.append(s)
      if s == final:
        return seen
      time.sleep(0.1)
    self.fail('%s did not reach %s in %d s: %s' % (iid, final, timeout, seen))

  def test_no_reboot(self):
    ec2 = self.ec2
    token = os.urandom(4).hex()
    # The file is written without sync: the freeze at the snapshot point must flush it.
    ud = e2e.user_data(UD_BOOT_COUNTER.split('\n', 1)[1],
                       'echo "nr-%s" > /e2e-noreboot' % token, 'echo E2E-NR-READY')
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=ud)
    child = ami = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      before = e2e.wait_console(ec2, iid, 'E2E-NR-READY')
      name = e2e.unique('e2e-noreboot')
      with e2e.Sampler(self.kiln.client(), iid, period=0.05) as sampler:
        ami = ec2.create_image(InstanceId=iid, Name=name, NoReboot=True)['ImageId']
        e2e.wait(ec2, 'image_available', ImageIds=[ami])
        sampler.more(3)  # and a few after `available`
      self.assertFalse(sampler.errors, sampler.errors)
      self.assertGreaterEqual(len(sampler.states), 4)
      self.assertEqual(set(sampler.states), {'running'}, sampler.states)
      if before is not None:
        after = e2e.console(ec2, iid)
        self.assertEqual(after.count('E2E-BOOT'), before.count('E2E-BOOT'),
                         'the guest booted again during a NoReboot CreateImage')
      if not MOTO:  # the same name again is a duplicate
        self.assertClientError('InvalidAMIName.Duplicate', ec2.create_image, InstanceId=iid,
                               Name=name, NoReboot=True)

      child = e2e.run_one(ec2, ami, 't3.micro', user_data=e2e.user_data(
          'echo "E2E nr=$(cat /e2e-noreboot)"', 'echo E2E-NR2-DONE'))
      e2e.wait(ec2, 'instance_running', InstanceIds=[child])
      out = e2e.wait_console(ec2, child, 'E2E-NR2-DONE')
      if out is not None:
        self.assertEqual(e2e.console_values(out).get('nr'), 'nr-' + token, out)
    finally:
      e2e.terminate(ec2, iid, child)
      if ami:
        e2e.delete_image(ec2, ami)


if __name__ == '__main__':
  e2e.main()
