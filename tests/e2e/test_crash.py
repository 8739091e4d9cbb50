#!/usr/bin/env python3
"""kill -9 of kilnd during CreateImage, then a restart on the same data dir (issue 5).

After the restart, the image ends `available` or `failed` (with a StateReason) within a
deadline and never stays `pending`; no snapshot stays `pending`; the instance's state agrees
with the guest (it is running or stopped, steadily, and it works: it boots again when asked
and its console shows it); an `available` image really holds the data.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

TERMINAL_WITHIN = 300  # seconds after the restart

UD_SOURCE = e2e.user_data(
    'mkdir -p /etc/rc.local.d',
    'printf "#!/bin/sh\\necho E2E-BOOT\\n" > /etc/rc.local.d/50-e2e-boot',
    'chmod 0755 /etc/rc.local.d/50-e2e-boot',
    'echo "crash-$TOKEN" > /e2e-crash-marker',
    # Data on the extra volume so the capture has work to do when kilnd dies.
    'dd if=/dev/urandom of=/dev/sdf bs=1M count=96 2>/dev/null; echo "E2E dd=$?"',
    'sync',
    'echo "E2E-CRASH-READY-$TOKEN"')


class CrashTest(e2e.KilnTestCase):

  @classmethod
  def setUpClass(cls):
    if e2e.MOTO:
      raise __import__('unittest').SkipTest('moto keeps nothing across a restart')
    super().setUpClass()

  def restart(self):
    self.kiln.start()
    type(self).ec2 = self.kiln.client()
    return self.ec2

  def test_second_kilnd_on_the_same_data_dir_is_refused(self):
    """Its recovery would kill the first one's instances: it must exit, saying why, and the
    first one goes on serving."""
    import subprocess
    second = subprocess.run(
        [e2e.kilnd_path(), '--data-dir', self.kiln.data_dir, '--listen',
         '127.0.0.1:%d' % e2e.free_port()], capture_output=True, text=True, timeout=60)
    self.assertNotEqual(second.returncode, 0)
    self.assertIn('in use by another kilnd', second.stderr + second.stdout)
    self.assertTrue(self.ec2.describe_regions()['Regions'])

  def test_kill9_during_create_image(self):
    self.crash_during_create_image(no_reboot=False)

  def test_kill9_during_create_image_no_reboot(self):
    self.crash_during_create_image(no_reboot=True)

  def crash_during_create_image(self, no_reboot):
    ec2 = self.ec2
    token = os.urandom(4).hex()
    base = e2e.base_image(ec2)['ImageId']
    iid = e2e.run_one(ec2, base, 't3.micro',
                      user_data=UD_SOURCE.replace('#!/bin/sh\n', '#!/bin/sh\nTOKEN=%s\n' % token),
                      mappings=[{'DeviceName': '/dev/sdf',
                                 'Ebs': {'VolumeSize': 1, 'DeleteOnTermination': True}}])
    child = None
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      out = e2e.wait_console(ec2, iid, 'E2E-CRASH-READY-' + token)
      self.assertEqual(e2e.console_values(out).get('dd'), '0', out)

      ami = ec2.create_image(InstanceId=iid, Name=e2e.unique('e2e-crash'),
                             NoReboot=no_reboot)['ImageId']
      self.kiln.kill9()
      ec2 = self.restart()

      img = self.wait_image_terminal(ec2, ami)
      snaps = [m['Ebs']['SnapshotId'] for m in img.get('BlockDeviceMappings', [])
               if m.get('Ebs', {}).get('SnapshotId')]
      if img['State'] == 'failed':
        reason = img.get('StateReason') or {}
        self.assertTrue(reason.get('Code') and reason.get('Message'), img)
      else:
        self.assertTrue(snaps, img)
        e2e.wait(ec2, 'snapshot_completed', SnapshotIds=snaps)
      self.wait_no_pending_snapshots(ec2)

      self.check_instance_consistent(ec2, iid)

      if img['State'] == 'available':
        child = e2e.run_one(ec2, ami, 't3.micro', user_data=e2e.user_data(
            'echo "E2E marker=$(cat /e2e-crash-marker)"', 'echo E2E-CRASH-CHILD-DONE'))
        e2e.wait(ec2, 'instance_running', InstanceIds=[child])
        out = e2e.wait_console(ec2, child, 'E2E-CRASH-CHILD-DONE')
        self.assertEqual(e2e.console_values(out).get('marker'), 'crash-' + token, out)
        e2e.terminate(ec2, child)
        child = None
      ec2.deregister_image(ImageId=ami)
      for s in snaps:
        ec2.delete_snapshot(SnapshotId=s)
    finally:
      if self.kiln.proc is not None:
        e2e.terminate(self.ec2, iid, child)

  def wait_image_terminal(self, ec2, ami):
    deadline = time.monotonic() + TERMINAL_WITHIN
    seen = []
    while True:
      img = e2e.image(ec2, ami)
      if not seen or seen[-1] != img['State']:
        seen.append(img['State'])
      self.assertIn(img['State'], ('pending', 'available', 'failed'), seen)
      if img['State'] in ('available', 'failed'):
        return img
      if time.monotonic() > deadline:
        self.fail('%s still %s %d s after the restart (states %s)' %
                  (ami, img['State'], TERMINAL_WITHIN, seen))
      time.sleep(0.5)

  def wait_no_pending_snapshots(self, ec2):
    deadline = time.monotonic() + TERMINAL_WITHIN
    while True:
      snaps = ec2.describe_snapshots(OwnerIds=['self'])['Snapshots']
      pending = [s['SnapshotId'] for s in snaps if s['State'] == 'pending']
      self.assertFalse([s for s in snaps if s['State'] not in ('pending', 'completed', 'error')],
                       snaps)
      if not pending:
        return
      if time.monotonic() > deadline:
        self.fail('snapshots still pending after the restart: %s' % pending)
      time.sleep(0.5)

  def check_instance_consistent(self, ec2, iid):
    """The instance settles in running or stopped, stays there, and works."""
    deadline = time.monotonic() + TERMINAL_WITHIN
    while True:
      s = e2e.state(ec2, iid)
      if s in ('running', 'stopped'):
        break
      self.assertIn(s, ('pending', 'stopping'), 'impossible state after a restart')
      if time.monotonic() > deadline:
        self.fail('%s still %s after the restart' % (iid, s))
      time.sleep(0.5)
    samples = []
    for _ in range(10):
      samples.append(e2e.state(ec2, iid))
      time.sleep(0.2)
    self.assertEqual(set(samples), {s}, 'the state flips after the restart: %s' % samples)
    boots = e2e.console(ec2, iid).count('E2E-BOOT')
    if s == 'stopped':
      ec2.start_instances(InstanceIds=[iid])
    else:
      ec2.reboot_instances(InstanceIds=[iid])
    e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
    e2e.wait_console(ec2, iid, 'E2E-BOOT', count=boots + 1)
    self.assertEqual(e2e.state(ec2, iid), 'running')


if __name__ == '__main__':
  e2e.main()
