#!/usr/bin/env python3
"""Volume initialization (hydration) and DescribeVolumeStatus against the real kilnd (issue 6).

A volume made from a snapshot is lazy; kilnd fetches its blocks in the background at the rate
asked at creation (VolumeInitializationRate, 100-300 MiB/s: type provisioned-rate) or at kiln's
default rate (type default). The test fills a 1 GiB volume with 400 MiB of random data inside an
instance, snapshots it, and makes volumes from the snapshot: DescribeVolumeStatus shows progress
below 100 (initialization-state initializing), then 100 (completed). EC2's errors for bad rates;
a kilnd restart mid-way resumes the initialization. One case through the AWS CLI v2.

Runs under both interpreters: /usr/bin/python3 (boto3 1.26, whose model lacks the rate and the
initialization details: there only DescribeVolumeStatus's status and errors are checked) and
the pyenv's (boto3 1.43).
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

FILL_MIB = 400

USER_DATA = e2e.user_data(
    'dd if=/dev/urandom of=/dev/xvdf bs=1M count=%d 2>/dev/null' % FILL_MIB,
    'sync',
    'echo E2E-FILLED')


def model_has(ec2, operation, member):
  return member in ec2.meta.service_model.operation_model(operation).input_shape.members


class VolumeStatusTest(e2e.KilnTestCase):
  snapshot_id = None

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    if e2e.MOTO:
      raise unittest.SkipTest('kiln only: hydration progress')
    ec2 = cls.ec2
    iid = e2e.run_one(ec2, cls.base['ImageId'], user_data=USER_DATA, mappings=[
        {'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}])
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      e2e.wait_console(ec2, iid, 'E2E-FILLED', timeout=300)
      vol = e2e.volume_ids(ec2, iid)['/dev/sdf']
      cls.snapshot_id = ec2.create_snapshot(VolumeId=vol)['SnapshotId']
      e2e.wait(ec2, 'snapshot_completed', SnapshotIds=[cls.snapshot_id],
               WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
    finally:
      e2e.terminate(ec2, iid, wait_done=False)
    cls.has_rate = model_has(ec2, 'CreateVolume', 'VolumeInitializationRate')

  def create(self, **kwargs):
    vid = self.ec2.create_volume(AvailabilityZone=self.az(), SnapshotId=self.snapshot_id,
                                 **kwargs)['VolumeId']
    self.addCleanup(self.delete, vid)
    return vid

  def delete(self, vid):
    try:
      self.ec2.delete_volume(VolumeId=vid)
    except e2e.ClientError:
      pass

  def status(self, vid, ec2=None):
    items = (ec2 or self.ec2).describe_volume_status(VolumeIds=[vid])['VolumeStatuses']
    self.assertEqual([i['VolumeId'] for i in items], [vid])
    return items[0]

  def wait_initialized(self, vid, timeout=120):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
      st = self.status(vid)
      seen.append(st['InitializationStatusDetails']['Progress'])
      if seen[-1] == 100:
        return st, seen
      time.sleep(0.2)
    self.fail('%s not initialized within %d s; progress seen: %s' % (vid, timeout, seen))

  def details(self, st):
    return {d['Name']: d['Status'] for d in st['VolumeStatus']['Details']}

  def test_provisioned_rate_progress_then_initialized(self):
    if not self.has_rate:
      self.skipTest('this botocore has no VolumeInitializationRate')
    vid = self.create(VolumeInitializationRate=100)
    st = self.status(vid)
    self.assertEqual(st['VolumeStatus']['Status'], 'ok')
    init = st['InitializationStatusDetails']
    self.assertEqual(init['InitializationType'], 'provisioned-rate')
    self.assertLess(init['Progress'], 100)
    self.assertGreater(init['EstimatedTimeToCompleteInSeconds'], 0)
    self.assertEqual(self.details(st)['initialization-state'], 'initializing')
    self.assertEqual(self.details(st)['io-enabled'], 'passed')
    self.assertEqual(self.ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0].get(
        'VolumeInitializationRate'), 100)
    st, seen = self.wait_initialized(vid)
    self.assertEqual(seen, sorted(seen), 'progress went backwards')
    self.assertEqual(st['InitializationStatusDetails']['EstimatedTimeToCompleteInSeconds'], 0)
    self.assertEqual(self.details(st)['initialization-state'], 'completed')
    # Paced: 400 MiB at 100 MiB/s cannot have finished at once.
    self.assertGreaterEqual(len(seen), 3, seen)

  def test_rate_on_a_launch_mapping(self):
    """RunInstances' Ebs.VolumeInitializationRate: the launched volume initializes at that
    rate; out of range, or on a volume not made from a snapshot, is EC2's error."""
    if 'VolumeInitializationRate' not in self.ec2.meta.service_model.shape_for(
        'EbsBlockDevice').members:
      self.skipTest('this botocore has no EbsBlockDevice.VolumeInitializationRate')
    ec2 = self.ec2
    for ebs, code in (({'SnapshotId': self.snapshot_id, 'VolumeInitializationRate': 99},
                       'InvalidParameterValue'),
                      ({'VolumeSize': 1, 'VolumeInitializationRate': 100},
                       'InvalidParameterCombination')):
      self.assertClientError(code, e2e.run_one, ec2, self.base['ImageId'],
                             mappings=[{'DeviceName': '/dev/sdg', 'Ebs': ebs}])
    iid = e2e.run_one(ec2, self.base['ImageId'], mappings=[
        {'DeviceName': '/dev/sdg', 'Ebs': {'SnapshotId': self.snapshot_id,
                                            'VolumeInitializationRate': 100,
                                            'DeleteOnTermination': True}}])
    self.addCleanup(e2e.terminate, ec2, iid)
    vid = e2e.volume_ids(ec2, iid)['/dev/sdg']
    self.assertEqual(ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0].get(
        'VolumeInitializationRate'), 100)
    init = self.status(vid)['InitializationStatusDetails']
    self.assertEqual(init['InitializationType'], 'provisioned-rate')
    st, _ = self.wait_initialized(vid)
    self.assertEqual(self.details(st)['initialization-state'], 'completed')

  def test_default_rate(self):
    vid = self.create()
    st = self.status(vid)
    self.assertEqual(st['VolumeStatus']['Status'], 'ok')
    if 'InitializationStatusDetails' not in st:
      self.assertFalse(self.has_rate)  # boto3 1.26's model does not know it
      return
    self.assertEqual(st['InitializationStatusDetails']['InitializationType'], 'default')
    self.assertLess(st['InitializationStatusDetails']['Progress'], 100)
    self.assertNotIn('VolumeInitializationRate',
                     self.ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0])
    self.wait_initialized(vid)

  def test_empty_volume_has_no_initialization(self):
    vid = self.ec2.create_volume(AvailabilityZone=self.az(), Size=1)['VolumeId']
    self.addCleanup(self.delete, vid)
    st = self.status(vid)
    self.assertNotIn('InitializationStatusDetails', st)
    self.assertEqual(self.details(st),
                     {'io-enabled': 'passed', 'io-performance': 'not-applicable'})
    listed = self.ec2.describe_volume_status(
        Filters=[{'Name': 'volume-status.status', 'Values': ['ok']}])['VolumeStatuses']
    self.assertIn(vid, [i['VolumeId'] for i in listed])
    none = self.ec2.describe_volume_status(
        Filters=[{'Name': 'volume-status.status', 'Values': ['impaired']}])['VolumeStatuses']
    self.assertEqual(none, [])

  def test_errors(self):
    ec2 = self.ec2
    self.assertClientError('InvalidVolumeID.Malformed', ec2.describe_volume_status,
                           VolumeIds=['vol-nothex'])
    self.assertClientError('InvalidVolume.NotFound', ec2.describe_volume_status,
                           VolumeIds=['vol-0123456789abcdef0'])
    self.assertClientError('InvalidParameterValue', ec2.describe_volume_status,
                           Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])
    if not self.has_rate:
      return
    for bad in (99, 301, 0):
      self.assertClientError('InvalidParameterValue', ec2.create_volume,
                             AvailabilityZone=self.az(), SnapshotId=self.snapshot_id,
                             VolumeInitializationRate=bad)
    self.assertClientError('InvalidParameterCombination', ec2.create_volume,
                           AvailabilityZone=self.az(), Size=1, VolumeInitializationRate=200)

  def test_cli_v2(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    vid = self.create()
    out = self.kiln.aws(cli, ['describe-volume-status', '--volume-ids', vid])[1]
    self.assertEqual(out['VolumeStatuses'][0]['VolumeStatus']['Status'], 'ok')
    status, _, err = self.kiln.aws(cli, ['create-volume', '--availability-zone', self.az(),
                                         '--snapshot-id', self.snapshot_id,
                                         '--volume-initialization-rate', '5'], check=False)
    if 'Unknown options' not in err:  # an older CLI without the option
      self.assertNotEqual(status, 0)
      self.assertIn('InvalidParameterValue', err)

  def test_zz_restart_resumes_initialization(self):
    """Last (a new port): a kilnd stopped mid-way resumes the initialization after a restart."""
    if not self.has_rate:
      self.skipTest('this botocore has no VolumeInitializationRate')
    vid = self.create(VolumeInitializationRate=100)
    self.assertLess(self.status(vid)['InitializationStatusDetails']['Progress'], 100)
    self.kiln.stop()
    self.kiln.start()
    type(self).ec2 = self.kiln.client()
    st = self.status(vid)
    self.assertEqual(st['InitializationStatusDetails']['InitializationType'], 'provisioned-rate')
    self.wait_initialized(vid)


if __name__ == '__main__':
  e2e.main()
