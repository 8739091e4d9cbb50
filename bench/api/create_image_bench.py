#!/usr/bin/env python3
"""CreateImage end to end, against restic in the same run, and launching from the new image.

Issue 5's benchmark, through the public API only (boto3 against a fresh kilnd):

  1. An instance (t3.micro) with an 8 GiB extra EBS volume at /dev/sdf; its user data writes
     512 MiB of fresh random data onto that volume (and syncs).
  2. CreateImage (with its reboot): time from the call until the image is `available`.
  3. restic backs up 512 MiB of fresh random data from a local directory into a new local
     repository (`restic backup`), timed: the same amount of new data as step 2 stores.
  4. From an instance launched from that image, 16 MiB is changed on /dev/sdf; CreateImage
     again: the incremental image's time to `available`.
  5. Launch-to-user-data-done (RunInstances to the user data's marker on the console), median
     of N launches each, from the new image and from the base image.

Goals (issue 5): full image at least as fast as restic; the incremental image under 10% of the
full one; launch from the new image within 1.5x of the base image.

Usage: sudo python3 bench/api/create_image_bench.py [--build-dir build] [--launches 9]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'tests', 'e2e'))

import kiln_daemon  # noqa: E402

MiB = 1 << 20
# The image waiter polls every 20 ms: the incremental image's goal is a few hundred ms, which a
# coarser poll would blur (DescribeImages is a cheap local call).
FAST = {'Delay': 0.02, 'MaxAttempts': 30000}


def wait_console(ec2, instance_id, marker, timeout=300):
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    out = ec2.get_console_output(InstanceId=instance_id).get('Output', '')
    if marker in out:
      return out
    time.sleep(0.05)
  raise RuntimeError('%s never showed %r' % (instance_id, marker))


def launch(ec2, image_id, user_data, mappings=None):
  kwargs = dict(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType='t3.micro',
                UserData=user_data)
  if mappings:
    kwargs['BlockDeviceMappings'] = mappings
  return ec2.run_instances(**kwargs)['Instances'][0]['InstanceId']


def timed_image(ec2, instance_id, name):
  start = time.monotonic()
  image_id = ec2.create_image(InstanceId=instance_id, Name=name)['ImageId']
  ec2.get_waiter('image_available').wait(ImageIds=[image_id], WaiterConfig=FAST)
  return image_id, time.monotonic() - start


def restic_backup(megabytes):
  work = tempfile.mkdtemp(prefix='kiln-bench-restic-')
  try:
    data = os.path.join(work, 'data')
    os.makedirs(data)
    with open(os.path.join(data, 'random.bin'), 'wb') as f:
      for _ in range(megabytes):
        f.write(os.urandom(MiB))
      f.flush()
      os.fsync(f.fileno())
    env = dict(os.environ, RESTIC_PASSWORD='bench', RESTIC_REPOSITORY=os.path.join(work, 'repo'))
    subprocess.run(['restic', 'init', '--quiet'], check=True, env=env)
    start = time.monotonic()
    subprocess.run(['restic', 'backup', '--quiet', data], check=True, env=env)
    return time.monotonic() - start, subprocess.run(
        ['restic', 'version'], capture_output=True, text=True).stdout.strip()
  finally:
    shutil.rmtree(work, ignore_errors=True)


def launch_times(ec2, image_id, n):
  times = []
  for i in range(n):
    marker = 'BENCH-UD-%d-%d' % (os.getpid(), i)
    start = time.monotonic()
    iid = launch(ec2, image_id, '#!/bin/sh\necho %s\n' % marker)
    wait_console(ec2, iid, marker)
    times.append(time.monotonic() - start)
    ec2.terminate_instances(InstanceIds=[iid])
  return times


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--build-dir', default=os.path.join(kiln_daemon.REPO, 'build'))
  ap.add_argument('--data-mib', type=int, default=512)
  ap.add_argument('--change-mib', type=int, default=16)
  ap.add_argument('--launches', type=int, default=9)
  ap.add_argument('--keep-log', metavar='PATH',
                  help="copy kilnd's log here before its data dir is removed (to see where time goes)")
  args = ap.parse_args()
  os.environ['KILN_BUILD_DIR'] = os.path.abspath(args.build_dir)

  daemon = kiln_daemon.Daemon()
  daemon.start()
  try:
    ec2 = daemon.client()
    base = ec2.describe_images(Owners=['kiln'], Filters=[
        {'Name': 'name', 'Values': [kiln_daemon.BASE_IMAGE_NAME]}])['Images'][0]['ImageId']
    fill = ('#!/bin/sh\nmke2fs -F /dev/sdf >/dev/null 2>&1 && mkdir -p /data && mount /dev/sdf /data && '
            'dd if=/dev/urandom of=/data/fresh.bin bs=1M count=%d 2>/dev/null && sync && '
            'echo BENCH-FILLED\n' % args.data_mib)
    src = launch(ec2, base, fill, [{'DeviceName': '/dev/sdf', 'Ebs': {'VolumeSize': 8}}])
    wait_console(ec2, src, 'BENCH-FILLED', timeout=900)
    full_image, full_s = timed_image(ec2, src, 'bench-full-%d' % os.getpid())
    restic_s, restic_version = restic_backup(args.data_mib)

    change = ('#!/bin/sh\nmkdir -p /data && mount /dev/sdf /data && '
              'dd if=/dev/urandom of=/data/changed.bin bs=1M count=%d 2>/dev/null && sync && '
              'echo BENCH-CHANGED\n' % args.change_mib)
    second = launch(ec2, full_image, change)
    wait_console(ec2, second, 'BENCH-CHANGED', timeout=300)
    incr_image, incr_s = timed_image(ec2, second, 'bench-incr-%d' % os.getpid())

    # The two customized instances are done with: their volumes' background hydration would
    # otherwise compete with the launches below. Launches alternate between the two images so
    # both see the same machine.
    ec2.terminate_instances(InstanceIds=[src, second])
    ec2.get_waiter('instance_terminated').wait(InstanceIds=[src, second], WaiterConfig=FAST)
    from_image, from_base = [], []
    for _ in range(args.launches):
      from_image += launch_times(ec2, full_image, 1)
      from_base += launch_times(ec2, base, 1)
  finally:
    daemon.stop()
    if args.keep_log:
      shutil.copyfile(daemon.log_path, args.keep_log)
    daemon.cleanup()

  med_img, med_base = statistics.median(from_image), statistics.median(from_base)
  print('kiln-bench create-image (%s; %d MiB fresh data on an 8 GiB volume, %d MiB changed)'
        % (time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()), args.data_mib,
           args.change_mib))
  print('  full image to available     %7.2f s' % full_s)
  print('  restic backup of %4d MiB    %7.2f s   (%s)' % (args.data_mib, restic_s, restic_version))
  print('    full image / restic        %6.2fx  goal <= 1.00  %s'
        % (full_s / restic_s, 'MET' if full_s <= restic_s else 'NOT MET'))
  print('  incremental image           %7.2f s' % incr_s)
  print('    incremental / full         %6.1f%%  goal < 10%%   %s'
        % (100 * incr_s / full_s, 'MET' if incr_s < 0.1 * full_s else 'NOT MET'))
  print('  launch to user data, median of %d: from the image %.1f ms, from the base %.1f ms'
        % (args.launches, 1000 * med_img, 1000 * med_base))
  print('    each launch (ms), image: %s; base: %s'
        % (' '.join('%.0f' % (1000 * t) for t in from_image),
           ' '.join('%.0f' % (1000 * t) for t in from_base)))
  print('    image / base               %6.2fx  goal <= 1.50  %s'
        % (med_img / med_base, 'MET' if med_img <= 1.5 * med_base else 'NOT MET'))
  return 0


if __name__ == '__main__':
  sys.exit(main())
