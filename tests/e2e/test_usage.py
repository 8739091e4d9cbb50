#!/usr/bin/env python3
"""DescribeStorageUsage (kiln's extension of the Query API, issue 7) against the real kilnd:
two images of one instance, the second after a small change, so the second's unique bytes
are a small part of its stored bytes; the figures agree with each other; restrictions by
ImageId.N and SnapshotId.N and their errors; another account sees nothing of ours; deleting
an image's snapshot takes it out of the listing and makes the chunks it shared the other
snapshot's own. boto3 does not know the action: requests are signed and sent raw.

Runs once, under the newest interpreter (no client-generation concerns: no boto3 shapes).
"""

import os
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

MiB = 1 << 20
NS = {'ec2': 'http://ec2.amazonaws.com/doc/2016-11-15/'}
BIG_MIB = 24

# First boot: 24 MiB of random data (incompressible: its stored size is its size), and a
# script the base image runs at every later boot that writes 256 KiB more (the small change).
UD_DATA = e2e.user_data(
    'dd if=/dev/urandom of=/e2e-big bs=1M count=%d 2>/dev/null; echo "E2E big=$?"' % BIG_MIB,
    'mkdir -p /etc/rc.local.d',
    'printf "#!/bin/sh\\ndd if=/dev/urandom of=/e2e-small-\\$\\$ bs=64k count=4 2>/dev/null\\n'
    'sync\\necho E2E-BOOT-WROTE\\n" > /etc/rc.local.d/50-e2e-small',
    'chmod 0755 /etc/rc.local.d/50-e2e-small',
    'sync',
    'echo E2E-DATA-READY')


def text(node, tag):
  found = node.find('ec2:' + tag, NS)
  return None if found is None else (found.text or '')


def figures(node):
  return {k: int(text(node, k)) for k in ('storedBytes', 'uniqueBytes', 'sharedBytes')}


class UsageTest(e2e.KilnTestCase):

  def usage(self, profile='default', **lists):
    """DescribeStorageUsage with ImageId.N / SnapshotId.N from `lists`; returns the parsed
    answer {'storedBytes', 'images': {id: {...}}, 'snapshots': {id: {...}}}."""
    status, body, code = self.usage_raw(profile, **lists)
    self.assertEqual(status, 200, body)
    root = ET.fromstring(body)
    self.assertEqual(root.tag, '{%s}DescribeStorageUsageResponse' % NS['ec2'])
    self.assertTrue(text(root, 'requestId'))
    out = {'storedBytes': int(text(root, 'storedBytes')), 'images': {}, 'snapshots': {}}
    for item in root.findall('ec2:imageSet/ec2:item', NS):
      img = dict(figures(item), name=text(item, 'name'), state=text(item, 'state'),
                 creationDate=text(item, 'creationDate'),
                 snapshots=[text(s, 'snapshotId')
                            for s in item.findall('ec2:snapshotSet/ec2:item', NS)])
      out['images'][text(item, 'imageId')] = img
    for item in root.findall('ec2:snapshotSet/ec2:item', NS):
      snap = dict(figures(item), volumeId=text(item, 'volumeId'), state=text(item, 'state'),
                  volumeSize=int(text(item, 'volumeSize')), startTime=text(item, 'startTime'),
                  imageId=text(item, 'imageId'))
      out['snapshots'][text(item, 'snapshotId')] = snap
    for entry in list(out['images'].values()) + list(out['snapshots'].values()):
      self.assertEqual(entry['storedBytes'], entry['uniqueBytes'] + entry['sharedBytes'], entry)
    return out

  def usage_raw(self, profile='default', **lists):
    params = {'Action': 'DescribeStorageUsage', 'Version': '2016-11-15'}
    for key, values in lists.items():
      for i, v in enumerate(values, 1):
        params['%s.%d' % (key, i)] = v
    return self.kiln.raw(params, profile=profile)

  def make_image(self, iid, name, no_reboot):
    ami = self.ec2.create_image(InstanceId=iid, Name=name, NoReboot=no_reboot)['ImageId']
    # At once, while pending: the image is listed; its snapshot counts once its map is durable.
    early = self.usage(ImageId=[ami])
    self.assertEqual(list(early['images']), [ami])
    self.assertIn(early['images'][ami]['state'], ('pending', 'available'))
    e2e.wait(self.ec2, 'image_available', ImageIds=[ami])
    snaps = [m['Ebs']['SnapshotId'] for m in e2e.image(self.ec2, ami)['BlockDeviceMappings']
             if m.get('Ebs', {}).get('SnapshotId')]
    self.assertEqual(len(snaps), 1, snaps)  # a t3.micro from the base image: the root only
    return ami, snaps[0]

  def test_images_of_one_instance(self):
    ec2 = self.ec2
    other = e2e.unique('usage-other')
    self.kiln.create_account(other)
    iid = e2e.run_one(ec2, self.base['ImageId'], 't3.micro', user_data=UD_DATA)
    amis = []
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      out = e2e.wait_console(ec2, iid, 'E2E-DATA-READY')
      self.assertEqual(e2e.console_values(out).get('big'), '0', out)
      self.assertEqual(self.usage(), {'storedBytes': 0, 'images': {}, 'snapshots': {}})

      # Image 1 reboots the instance: the boot script then writes the small change.
      wrote = e2e.console(ec2, iid).count('E2E-BOOT-WROTE')
      ami1, snap1 = self.make_image(iid, e2e.unique('usage-1'), no_reboot=False)
      amis.append(ami1)
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      e2e.wait_console(ec2, iid, 'E2E-BOOT-WROTE', count=wrote + 1)
      ami2, snap2 = self.make_image(iid, e2e.unique('usage-2'), no_reboot=True)
      amis.append(ami2)

      start = time.monotonic()
      u = self.usage()
      elapsed = time.monotonic() - start
      print('DescribeStorageUsage: %.3f s; %r' % (elapsed, u))
      self.assertLess(elapsed, 5)
      self.check_two_images(u, ami1, snap1, ami2, snap2)
      self.check_restrictions(u, ami1, snap1, ami2, snap2)
      self.check_errors(other, ami1, snap1)

      # Another account: nothing of ours, and its own listing is empty.
      self.assertEqual(self.usage(profile=other),
                       {'storedBytes': 0, 'images': {}, 'snapshots': {}})

      # Deleting image 1 and its snapshot: gone from the listing; what it shared with
      # snapshot 2 (the 24 MiB and more) is now snapshot 2's alone.
      e2e.delete_image(ec2, ami1)
      amis.remove(ami1)
      after = self.usage()
      self.assertEqual(list(after['images']), [ami2])
      self.assertEqual(list(after['snapshots']), [snap2])
      s2_before, s2_after = u['snapshots'][snap2], after['snapshots'][snap2]
      self.assertEqual(s2_after['storedBytes'], s2_before['storedBytes'])
      self.assertGreaterEqual(s2_after['uniqueBytes'], s2_before['uniqueBytes'] + BIG_MIB * MiB)
      self.assertEqual(after['storedBytes'], s2_after['storedBytes'])
    finally:
      e2e.terminate(ec2, iid)
      for ami in amis:
        e2e.delete_image(ec2, ami)
    final = self.usage()
    self.assertEqual((final['images'], final['snapshots']), ({}, {}))

  def check_two_images(self, u, ami1, snap1, ami2, snap2):
    self.assertEqual(set(u['images']), {ami1, ami2})
    self.assertEqual(set(u['snapshots']), {snap1, snap2})
    for ami, snap in ((ami1, snap1), (ami2, snap2)):
      img, s = u['images'][ami], u['snapshots'][snap]
      self.assertEqual(img['state'], 'available')
      self.assertEqual(img['snapshots'], [snap])
      self.assertTrue(img['creationDate'])
      self.assertEqual(s['imageId'], ami)
      self.assertEqual(s['state'], 'completed')
      self.assertEqual(s['volumeSize'], self.base_root_size())
      self.assertRegex(s['volumeId'], r'^vol-[0-9a-f]{17}$')
      # One snapshot per image: the image's figures are its snapshot's.
      self.assertEqual(figures_of(img), figures_of(s))
      # The random data is stored (about) at its size; the base image's chunks are shared
      # with the kiln account's base snapshot.
      self.assertGreaterEqual(s['storedBytes'], BIG_MIB * MiB)
      self.assertGreater(s['sharedBytes'], BIG_MIB * MiB)
    s1, s2 = u['snapshots'][snap1], u['snapshots'][snap2]
    # The second image is the first plus a small change: most of it is shared.
    self.assertLess(s2['uniqueBytes'], s2['storedBytes'] // 8, s2)
    self.assertGreater(s2['uniqueBytes'], 0, s2)  # the 256 KiB written at the reboot
    self.assertLess(s2['uniqueBytes'], 16 * MiB, s2)
    self.assertLess(s1['uniqueBytes'], 16 * MiB, s1)
    # Account-wide: the two snapshots' chunks once. Whatever is unique to one is not in the
    # other, so the union holds at least either snapshot plus the other's unique bytes.
    total = u['storedBytes']
    self.assertGreaterEqual(total, s1['storedBytes'] + s2['uniqueBytes'])
    self.assertGreaterEqual(total, s2['storedBytes'] + s1['uniqueBytes'])
    self.assertLess(total, s1['storedBytes'] + s2['storedBytes'])

  def check_restrictions(self, u, ami1, snap1, ami2, snap2):
    only_image = self.usage(ImageId=[ami2])
    self.assertEqual(only_image['images'], {ami2: u['images'][ami2]})
    self.assertEqual(only_image['snapshots'], {})
    self.assertEqual(only_image['storedBytes'], u['storedBytes'])  # always account-wide
    only_snaps = self.usage(SnapshotId=[snap1, snap2])
    self.assertEqual(only_snaps['images'], {})
    self.assertEqual(only_snaps['snapshots'], u['snapshots'])
    both = self.usage(ImageId=[ami1], SnapshotId=[snap2])
    self.assertEqual(list(both['images']), [ami1])
    self.assertEqual(list(both['snapshots']), [snap2])
    self.assertEqual(both['snapshots'][snap2]['imageId'], ami2)

  def check_errors(self, other, ami1, snap1):
    cases = [
        ({'ImageId': ['ami-nope']}, 'default', 'InvalidAMIID.Malformed'),
        ({'ImageId': ['ami-0123456789abcdef0']}, 'default', 'InvalidAMIID.NotFound'),
        ({'ImageId': [self.base['ImageId']]}, 'default', 'InvalidAMIID.NotFound'),  # kiln's
        ({'ImageId': [ami1]}, other, 'InvalidAMIID.NotFound'),
        ({'SnapshotId': ['snap-xyz']}, 'default', 'InvalidSnapshotID.Malformed'),
        ({'SnapshotId': ['snap-0123456789abcdef0']}, 'default', 'InvalidSnapshot.NotFound'),
        ({'SnapshotId': [snap1]}, other, 'InvalidSnapshot.NotFound'),
    ]
    for lists, profile, want in cases:
      status, body, code = self.usage_raw(profile, **lists)
      self.assertEqual((status, code), (400, want), (lists, profile, body))
    status, body, code = self.kiln.raw({'Action': 'DescribeStorageUsage',
                                        'Version': '2016-11-15', 'Bogus': '1'})
    self.assertEqual((status, code), (400, 'UnknownParameter'), body)
    status, body, code = self.kiln.raw({'Action': 'DescribeStorageUsage',
                                        'Version': '2016-11-15'}, sign=False)
    self.assertNotEqual(status, 200, body)

  def base_root_size(self):
    return [m['Ebs']['VolumeSize'] for m in self.base['BlockDeviceMappings']
            if m['DeviceName'] == self.base['RootDeviceName']][0]


def figures_of(entry):
  return {k: entry[k] for k in ('storedBytes', 'uniqueBytes', 'sharedBytes')}


if __name__ == '__main__':
  if e2e.MOTO:
    print('DescribeStorageUsage is kiln\'s own action: nothing to run against moto')
    sys.exit(0)
  e2e.main()
