"""Harness for kiln's end-to-end tests: the real kilnd, real clients (issue 5).

Each test module starts one kilnd (Daemon) in setUpClass on a free port with a fresh data dir
under /tmp, and talks to it only through its public interface (DESIGN.md, Interface contract):
the EC2 Query API with boto3, the AWS CLI (both generations), raw SigV4 requests, and
`kilnd account create`. Standard library plus boto3/botocore only, so it runs under both
interpreters on the machine (/usr/bin/python3 with boto3 1.26, the pyenv's with boto3 1.43).

Environment:
  KILN_BUILD_DIR    where build/kilnd is (default: <repo>/build)
  KILN_AWS_CLI      the AWS CLI v2 (default /usr/bin/aws)
  KILN_AWS_CLI_V1   the AWS CLI v1 (default: the first `aws` on PATH outside /usr/bin, /bin)
  KILN_E2E_KEEP=1   keep data dirs and logs of kilnd under /tmp for a post-mortem
  KILN_E2E_TARGET=moto  DEVELOPMENT AID ONLY: run against moto_server instead of kilnd and skip
                    what only kiln does (guest contents, accounts, exact states). Never what
                    ctest runs.
"""

import configparser
import os
import re
import shutil
import sys
import threading
import time
import unittest

import boto3
import botocore
import botocore.config
from botocore.exceptions import ClientError

from kiln_daemon import (FAST, GiB, HERE, MOTO, REGION, REPO, TARGET, BASE_IMAGE_NAME,  # noqa: F401
                         Daemon, aws_cli_v1, aws_cli_v2, build_dir, cli_version, error_code,
                         free_port,
                         http_status, kilnd_path, unique, _daemons, _mounts_under)

# --- EC2 helpers -------------------------------------------------------------------------------


def wait(ec2, name, **kwargs):
  """A boto3 waiter (image_available, instance_running, ...) polling every second."""
  kwargs.setdefault('WaiterConfig', FAST)
  ec2.get_waiter(name).wait(**kwargs)


def base_image(ec2):
  """The public base image, found the way the seed does: by owner alias and name filter."""
  if MOTO:
    images = ec2.describe_images(Owners=['amazon'])['Images']
    images = [i for i in images if i.get('RootDeviceType') == 'ebs']
    return sorted(images, key=lambda i: i['ImageId'])[0]
  images = ec2.describe_images(
      Owners=['kiln'], Filters=[{'Name': 'name', 'Values': ['minimal-linux-*']}])['Images']
  named = [i for i in images if i['Name'] == BASE_IMAGE_NAME]
  if len(named) != 1:
    raise AssertionError('base image %s not found by Owners=[kiln]: %s' %
                         (BASE_IMAGE_NAME, [i['Name'] for i in images]))
  return named[0]


def instance(ec2, instance_id):
  res = ec2.describe_instances(InstanceIds=[instance_id])['Reservations']
  return res[0]['Instances'][0]


def state(ec2, instance_id):
  return instance(ec2, instance_id)['State']['Name']


def image(ec2, image_id):
  return ec2.describe_images(ImageIds=[image_id])['Images'][0]


def console(ec2, instance_id):
  return ec2.get_console_output(InstanceId=instance_id).get('Output') or ''


def wait_console(ec2, instance_id, marker, timeout=180, count=1):
  """Polls GetConsoleOutput until `marker` appears `count` times; returns the output.

  On moto (which runs no guests) returns None at once: callers skip content checks then.
  """
  if MOTO:
    return None
  deadline = time.monotonic() + timeout
  out = ''
  while time.monotonic() < deadline:
    out = console(ec2, instance_id)
    if out.count(marker) >= count:
      return out
    time.sleep(0.5)
  raise AssertionError('%r did not appear %d time(s) on the console of %s within %d s; '
                       'console tail:\n%s' % (marker, count, instance_id, timeout,
                                              '\n'.join(out.splitlines()[-40:])))


def console_values(out, prefix='E2E'):
  """Lines `PREFIX key=value` printed by a test's user data, as a dict."""
  values = {}
  for m in re.finditer(r'^%s ([A-Za-z0-9_.-]+)=(.*?)\s*$' % re.escape(prefix), out or '', re.M):
    values[m.group(1)] = m.group(2)
  return values


def run_one(ec2, image_id, instance_type='t3.micro', user_data=None, mappings=None, tags=None):
  """RunInstances of one instance; returns its id (the instance is `pending` or later)."""
  kwargs = dict(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType=instance_type)
  if user_data is not None:
    kwargs['UserData'] = user_data
  if mappings:
    kwargs['BlockDeviceMappings'] = mappings
  if tags:
    kwargs['TagSpecifications'] = [{'ResourceType': 'instance',
                                    'Tags': [{'Key': k, 'Value': v} for k, v in tags.items()]}]
  return ec2.run_instances(**kwargs)['Instances'][0]['InstanceId']


def volume_ids(ec2, instance_id, delete_on_termination=None):
  """{device: volume id} of the instance's EBS volumes (only those whose DeleteOnTermination
  equals the argument, unless None)."""
  return {m['DeviceName']: m['Ebs']['VolumeId']
          for m in instance(ec2, instance_id).get('BlockDeviceMappings', []) if 'Ebs' in m and (
              delete_on_termination is None or
              m['Ebs'].get('DeleteOnTermination') == delete_on_termination)}


def terminate(ec2, *instance_ids, wait_done=True):
  ids = [i for i in instance_ids if i]
  if not ids:
    return
  ec2.terminate_instances(InstanceIds=ids)
  if wait_done:
    wait(ec2, 'instance_terminated', InstanceIds=ids)


def delete_image(ec2, image_id):
  """DeregisterImage, then DeleteSnapshot of its snapshots at once (as Terraform does)."""
  img = image(ec2, image_id)
  snaps = [m['Ebs']['SnapshotId'] for m in img.get('BlockDeviceMappings', [])
           if m.get('Ebs', {}).get('SnapshotId')]
  ec2.deregister_image(ImageId=image_id)
  for s in snaps:
    ec2.delete_snapshot(SnapshotId=s)
  return snaps


def all_pages(call, key, page_size, **kwargs):
  """Follows NextToken by hand (boto3 1.26 has no DescribeImages paginator); returns the list
  of pages, each a list of items."""
  pages, token = [], None
  while True:
    args = dict(kwargs, MaxResults=page_size)
    if token:
      args['NextToken'] = token
    resp = call(**args)
    pages.append(resp.get(key, []))
    token = resp.get('NextToken')
    if not token:
      return pages
    if len(pages) > 1000:
      raise AssertionError('pagination does not end')


class Sampler:
  """Samples an instance's state in a thread (own client) until stopped; .states is the list."""

  def __init__(self, client, instance_id, period=0.1):
    self.client, self.instance_id, self.period = client, instance_id, period
    self.states, self.errors = [], []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)

  def __enter__(self):
    self._thread.start()
    return self

  def __exit__(self, *exc):
    self._stop.set()
    self._thread.join(30)

  def more(self, n, timeout=30):
    """Waits until n more samples (or errors) are in."""
    target = len(self.states) + len(self.errors) + n
    deadline = time.monotonic() + timeout
    while len(self.states) + len(self.errors) < target and time.monotonic() < deadline:
      time.sleep(0.02)

  def _run(self):
    while not self._stop.is_set():
      try:
        self.states.append(state(self.client, self.instance_id))
      except Exception as e:  # recorded, reported by the test
        self.errors.append(repr(e))
      self._stop.wait(self.period)


def user_data(*lines):
  return '#!/bin/sh\n' + '\n'.join(lines) + '\n'


# --- test base and main ------------------------------------------------------------------------


class KilnTestCase(unittest.TestCase):
  """One daemon per test class: self.kiln (Daemon), self.ec2 (boto3 client, profile default),
  self.account (its account id), self.base (the base image, as DescribeImages shows it)."""

  kiln = None
  ec2 = None
  account = None
  base = None
  _scratch = None
  _az = None

  @classmethod
  def setUpClass(cls):
    cls.kiln = Daemon()
    try:
      cls.kiln.start()
      cls.ec2 = cls.kiln.client()
      cls.account = cls.kiln.profile()['account_id']
      cls.base = base_image(cls.ec2)
    except BaseException:
      cls.kiln.cleanup()
      raise

  @classmethod
  def tearDownClass(cls):
    try:
      if cls._scratch and cls.kiln.proc is not None:
        terminate(cls.ec2, cls._scratch, wait_done=False)
      cls.kiln.stop()
    finally:
      cls.kiln.cleanup()

  @classmethod
  def scratch(cls):
    """A running t3.micro from the base image shared by a class's tests (launched at first
    use, terminated in tearDownClass)."""
    if cls._scratch is None:
      iid = run_one(cls.ec2, cls.base['ImageId'], 't3.micro')
      wait(cls.ec2, 'instance_running', InstanceIds=[iid])
      cls._scratch = iid
    return cls._scratch

  @classmethod
  def az(cls):
    if cls._az is None:
      cls._az = cls.ec2.describe_availability_zones()['AvailabilityZones'][0]['ZoneName']
    return cls._az

  def assertClientError(self, codes, fn, *args, **kwargs):
    """fn(*args, **kwargs) must fail with one of `codes` (a string or a tuple); returns the
    ClientError."""
    codes = (codes,) if isinstance(codes, str) else tuple(codes)
    try:
      result = fn(*args, **kwargs)
    except ClientError as e:
      self.assertIn(error_code(e), codes, 'expected %s, got %s' % (codes, e))
      return e
    self.fail('expected %s, but the call succeeded: %r' % (codes, result))


def main():
  """unittest.main, then on failure the tail of every daemon's log; removes the temp roots."""
  prog = unittest.main(exit=False, verbosity=2)
  ok = prog.result.wasSuccessful()
  for d in _daemons:
    if not ok:
      sys.stderr.write('\n===== kilnd log tail (%s) =====\n%s\n' % (d.log_path, d.log_tail(120)))
    if d.proc is not None:
      d.kill9()
    if os.environ.get('KILN_E2E_KEEP') != '1' and not _mounts_under(d.root):
      shutil.rmtree(d.root, ignore_errors=True)
  sys.exit(0 if ok else 1)


def _command_line(argv):
  """`kiln_e2e.py wait-console ENDPOINT TIMEOUT MARKER INSTANCE_ID`: for tools a test drives
  (Packer's shell-local provisioner appends the instance id) to wait for a guest's console.
  Credentials: profile default of AWS_SHARED_CREDENTIALS_FILE."""
  if len(argv) != 5 or argv[0] != 'wait-console':
    sys.stderr.write('usage: kiln_e2e.py wait-console ENDPOINT TIMEOUT MARKER INSTANCE_ID\n')
    return 2
  endpoint, timeout, marker, instance_id = argv[1], int(argv[2]), argv[3], argv[4]
  cp = configparser.ConfigParser(interpolation=None)
  cp.read(os.environ['AWS_SHARED_CREDENTIALS_FILE'])
  ec2 = boto3.session.Session(
      aws_access_key_id=cp.get('default', 'aws_access_key_id'),
      aws_secret_access_key=cp.get('default', 'aws_secret_access_key'),
      region_name=REGION).client('ec2', endpoint_url=endpoint,
                                 config=botocore.config.Config(retries={'max_attempts': 0}))
  wait_console(ec2, instance_id, marker, timeout=timeout)
  print('kiln_e2e: %r is on the console of %s' % (marker, instance_id))
  return 0


if __name__ == '__main__':
  sys.exit(_command_line(sys.argv[1:]))
