#!/usr/bin/env python3
"""The seed's workflow through the `kiln` command line only (issue 7), against the real kilnd:
find the base image, launch with user data and volumes, read the console, create an image with
live progress, launch from it, connect to a shell, list snapshots/volumes/instances/usage in
tables and JSON, deregister; plus the errors people meet (unknown image, malformed name, bad
flags) and the local-kilnd discovery (kilnd.json, no endpoint or keys in the environment).

Environment: KILN_BUILD_DIR holds kilnd and kiln (see kiln_e2e.py)."""

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

GiB = e2e.GiB
TOKEN = os.urandom(4).hex()

UD_FIRST = e2e.user_data(
    'echo "root-%s" > /e2e-root-marker' % TOKEN,
    'mke2fs -F /dev/sdf >/dev/null 2>&1; echo "E2E mkfs_sdf=$?"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf && echo "sdf-%s" > /mnt/sdf/m' % TOKEN,
    'printf "is-%s" | dd of=/dev/sdb bs=512 count=1 conv=sync 2>/dev/null' % TOKEN,
    'sync',
    'echo "E2E-KILN1-DONE-%s"' % TOKEN)

UD_SECOND = e2e.user_data(
    'echo "E2E root_bytes=$(blockdev --getsize64 /dev/xvda)"',
    'echo "E2E sdg_bytes=$(blockdev --getsize64 /dev/sdg)"',
    'echo "E2E root_marker=$(cat /e2e-root-marker)"',
    'mkdir -p /mnt/sdf && mount /dev/sdf /mnt/sdf',
    'echo "E2E sdf_marker=$(cat /mnt/sdf/m)"',
    'echo "E2E-KILN2-DONE-%s"' % TOKEN)


def kiln_path():
  return os.path.join(e2e.build_dir(), 'kiln')


def pid_alive(pid):
  try:
    os.kill(pid, 0)
    return True
  except ProcessLookupError:
    return False
  except PermissionError:
    return True


class KilnCliTest(e2e.KilnTestCase):
  """Tests run in name order and share the instances and image the workflow makes."""

  state = {}

  @classmethod
  def setUpClass(cls):
    cls.tmp = tempfile.mkdtemp(prefix='kiln-e2e-kcli-', dir='/tmp')
    cls.home = os.path.join(cls.tmp, 'home')
    os.makedirs(cls.home)
    super().setUpClass()
    # kilnd writes $KILN_RUN_DIR/kilnd.json (issue 7); the harness points it at ROOT/run.
    cls.run_dir = cls.kiln.env['KILN_RUN_DIR']

  @classmethod
  def tearDownClass(cls):
    try:
      ids = [i for i in (cls.state.get('first'), cls.state.get('second')) if i]
      if ids and cls.kiln.proc is not None:
        cls.ec2.terminate_instances(InstanceIds=ids)
    finally:
      super().tearDownClass()
      shutil.rmtree(cls.tmp, ignore_errors=True)

  # --- running kiln ------------------------------------------------------------------------------

  def env(self, discovery=False, **extra):
    """kiln's environment: nothing of the caller's AWS_*/KILN_*, HOME a temp dir; the daemon's
    endpoint and DIR/credentials unless `discovery` (then only KILN_RUN_DIR)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('AWS_', 'KILN_')) and k != 'NO_COLOR'}
    env['HOME'] = self.home
    env['KILN_RUN_DIR'] = self.run_dir
    if not discovery:
      env['KILN_ENDPOINT_URL'] = self.kiln.url
      env['AWS_SHARED_CREDENTIALS_FILE'] = self.kiln.credentials_file
    env.update(extra)
    return env

  def kiln_run(self, *args, status=0, stdin_text=None, timeout=600, env=None):
    """Runs kiln; the exit status must be `status` (None: any). Returns the CompletedProcess."""
    out = subprocess.run([kiln_path()] + list(args), env=env or self.env(),
                         input=stdin_text if stdin_text is not None else '',
                         capture_output=True, text=True, timeout=timeout)
    if status is not None and out.returncode != status:
      self.fail('kiln %s: status %d, expected %d\nstdout:\n%s\nstderr:\n%s' %
                (' '.join(args), out.returncode, status, out.stdout, out.stderr))
    return out

  def kiln_json(self, *args):
    return json.loads(self.kiln_run('--output', 'json', *args).stdout)

  def file(self, name, text):
    path = os.path.join(self.tmp, name)
    with open(path, 'w') as f:
      f.write(text)
    return path

  def console_until(self, iid, marker, timeout=180):
    deadline = time.monotonic() + timeout
    out = ''
    while time.monotonic() < deadline:
      out = self.kiln_run('console', iid).stdout
      if marker in out:
        return out
      time.sleep(1)
    self.fail('%r not on the console of %s within %d s:\n%s' % (marker, iid, timeout, out[-3000:]))

  def table_rows(self, text):
    """A table's lines split on runs of 2+ spaces (the header first)."""
    return [re.split(r'\s{2,}', line.strip()) for line in text.splitlines() if line.strip()]

  def error_line(self, out, code):
    """stderr is `kiln: CODE: message` (one line) plus optional hint lines; exit status 1."""
    lines = out.stderr.strip().splitlines()
    self.assertTrue(lines and lines[0].startswith('kiln: %s: ' % code), out.stderr)
    for extra in lines[1:]:
      self.assertTrue(extra.startswith('hint: '), out.stderr)
    self.assertEqual(out.stdout, '')

  # --- the workflow ------------------------------------------------------------------------------

  def test_1_images_finds_the_base_image(self):
    out = self.kiln_run('images', '--owner', 'kiln', '--name', 'minimal*').stdout
    rows = self.table_rows(out)
    self.assertEqual(rows[0][:4], ['IMAGE ID', 'NAME', 'STATE', 'OWNER'], out)
    named = [r for r in rows[1:] if r[1] == e2e.BASE_IMAGE_NAME]
    self.assertEqual(len(named), 1, out)
    self.assertEqual(named[0][0], self.base['ImageId'])
    self.assertEqual(named[0][2], 'available')
    self.assertTrue(named[0][3].startswith('kiln'), named[0])
    self.assertNotIn('\033[', out)  # not a terminal: no colour
    images = self.kiln_json('images', '--owner', 'kiln', '--name', 'minimal*')['Images']
    ids = {i['Name']: i['ImageId'] for i in images}
    self.assertEqual(ids[e2e.BASE_IMAGE_NAME], self.base['ImageId'])
    self.assertEqual(self.kiln_json('images', '--owner', 'self')['Images'], [])

  def test_2_workflow(self):
    # Launch by name, with user data, an extra EBS volume and an instance-store volume.
    out = self.kiln_run('launch', e2e.BASE_IMAGE_NAME, '--type', 'm5d.large',
                        '--user-data', self.file('ud1.sh', UD_FIRST), '--volume', 'sdf:1',
                        '--instance-store', 'sdb', '--name', 'kiln-cli-e2e', '--wait').stdout
    m = re.search(r'^launched (i-[0-9a-f]+) from (ami-[0-9a-f]+)', out, re.M)
    self.assertTrue(m, out)
    first = self.state['first'] = m.group(1)
    self.assertEqual(m.group(2), self.base['ImageId'])
    self.assertIn('instance %s: running' % first, out)
    console = self.console_until(first, 'E2E-KILN1-DONE-' + TOKEN)
    self.assertEqual(e2e.console_values(console).get('mkfs_sdf'), '0', console)

    # create-image --wait (with a reboot): progress lines, then the image id.
    name = e2e.unique('kiln-cli')
    self.state['name'] = name
    out = self.kiln_run('create-image', first, '--name', name, '--description', 'by kiln',
                        '--root-size', '10', '--add-volume', 'sdg:2', '--wait').stdout
    m = re.search(r'^creating image (ami-[0-9a-f]+) \(%s\) from %s' % (re.escape(name), first),
                  out, re.M)
    self.assertTrue(m, out)
    ami = self.state['ami'] = m.group(1)
    self.assertRegex(out, r'(?m)^snapshot snap-[0-9a-f]+ \(/dev/xvda\): 100% completed$')
    self.assertRegex(out, r'(?m)^snapshot snap-[0-9a-f]+ \(/dev/sdf\): 100% completed$')
    self.assertIn('image %s (%s): available' % (ami, name), out)
    self.assertIn('create-image: done', out)
    self.assertTrue(out.rstrip().splitlines()[-2] == 'image %s is available' % ami, out)
    # Progress lines print only on change: no line twice in a row.
    lines = out.splitlines()
    self.assertFalse([a for a, b in zip(lines, lines[1:]) if a == b], out)

    images = self.kiln_json('images', '--owner', 'self')['Images']
    self.assertEqual([i['ImageId'] for i in images], [ami])
    img = images[0]
    self.assertEqual(img['State'], 'available')
    self.assertEqual(img['Description'], 'by kiln')
    bdm = {d['DeviceName']: d for d in img['BlockDeviceMappings']}
    self.assertEqual(bdm['/dev/xvda']['Ebs']['VolumeSize'], 10)
    self.assertEqual(bdm['/dev/sdg']['Ebs']['VolumeSize'], 2)
    self.assertEqual(bdm['/dev/sdf']['Ebs']['VolumeSize'], 1)
    self.state['snapshots'] = sorted(d['Ebs']['SnapshotId'] for d in bdm.values()
                                     if d.get('Ebs', {}).get('SnapshotId'))
    # The instance was stopped for the image and runs again.
    inst = [i for i in self.kiln_json('instances')['Instances'] if i['InstanceId'] == first]
    self.assertEqual(inst[0]['State'], 'running')

    # Launch from the new image (by name) and check the data through the console.
    out = self.kiln_run('launch', name, '--type', 'm5d.large',
                        '--user-data', self.file('ud2.sh', UD_SECOND), '--wait').stdout
    second = self.state['second'] = re.search(r'^launched (i-[0-9a-f]+) from ' + ami, out,
                                              re.M).group(1)
    v = e2e.console_values(self.console_until(second, 'E2E-KILN2-DONE-' + TOKEN))
    self.assertEqual(v.get('root_bytes'), str(10 * GiB), v)
    self.assertEqual(v.get('sdg_bytes'), str(2 * GiB), v)
    self.assertEqual(v.get('root_marker'), 'root-' + TOKEN, v)
    self.assertEqual(v.get('sdf_marker'), 'sdf-' + TOKEN, v)

  def test_3_connect_runs_a_command(self):
    second = self.state.get('second')
    if not second:
      self.skipTest('the workflow did not launch an instance')
    out = self.kiln_run('connect', second, status=None,
                        stdin_text='echo "hi-$((40+2))-%s"; exit 3\n' % TOKEN, timeout=120)
    if 'has no connect endpoint' in out.stderr:
      self.skipTest('kilnd has no connect endpoint yet: ' + out.stderr.strip())
    self.assertEqual(out.returncode, 3, 'stdout:\n%s\nstderr:\n%s' % (out.stdout, out.stderr))
    self.assertIn('hi-42-' + TOKEN, out.stdout)  # the shell's output, not the echoed input
    # Another account's view: the instance is unknown (not leaked).
    other = self.kiln.create_account(e2e.unique('other'))
    env = self.env(AWS_ACCESS_KEY_ID=other['aws_access_key_id'],
                   AWS_SECRET_ACCESS_KEY=other['aws_secret_access_key'])
    out = self.kiln_run('connect', second, status=1, env=env, stdin_text='exit 0\n')
    self.error_line(out, 'InvalidInstanceID.NotFound')

  def test_4_lists(self):
    ami, first = self.state.get('ami'), self.state.get('first')
    if not ami:
      self.skipTest('the workflow did not make an image')
    snaps = self.state['snapshots']
    out = self.kiln_run('snapshots').stdout
    rows = self.table_rows(out)
    self.assertEqual(rows[0][0], 'SNAPSHOT ID', out)
    listed = {r[0]: r for r in rows[1:]}
    for s in snaps:
      self.assertIn(s, listed, out)
      self.assertEqual(listed[s][3], 'completed')
      self.assertEqual(listed[s][4], '100%')
    self.assertRegex(out, r'(just now|seconds? ago|minutes? ago)')
    js = {s['SnapshotId']: s for s in self.kiln_json('snapshots')['Snapshots']}
    self.assertTrue(set(snaps) <= set(js), js)
    self.assertIn(ami, js[snaps[0]]['Description'])

    out = self.kiln_run('volumes').stdout
    self.assertEqual(self.table_rows(out)[0][:4], ['VOLUME ID', 'SIZE', 'TYPE', 'STATE'], out)
    self.assertRegex(out, r'%s /dev/sdf' % first)
    vols = self.kiln_json('volumes')['Volumes']
    sdf = [v for v in vols if any(a['InstanceId'] == first and a['Device'] == '/dev/sdf'
                                  for a in v['Attachments'])]
    self.assertEqual(len(sdf), 1, vols)
    self.assertEqual(sdf[0]['Size'], 1)
    self.assertEqual(sdf[0]['State'], 'in-use')

    out = self.kiln_run('instances').stdout
    rows = {r[0]: r for r in self.table_rows(out)[1:]}
    self.assertEqual(rows[first][1], 'kiln-cli-e2e', out)
    self.assertEqual(rows[first][2], 'running', out)
    self.assertEqual(rows[first][3], 'm5d.large', out)
    insts = {i['InstanceId']: i for i in self.kiln_json('instances')['Instances']}
    self.assertEqual(insts[first]['ImageId'], self.base['ImageId'])
    self.assertEqual(insts[self.state['second']]['ImageId'], ami)

  def test_5_usage(self):
    ami = self.state.get('ami')
    if not ami:
      self.skipTest('the workflow did not make an image')
    out = self.kiln_run('usage', '--price-per-gb-month', '0.10', status=None)
    if 'InvalidAction' in out.stderr or 'DescribeStorageUsage' in out.stderr:
      self.skipTest('kilnd has no DescribeStorageUsage yet: ' + out.stderr.strip())
    self.assertEqual(out.returncode, 0, out.stderr)
    rows = self.table_rows(out.stdout)
    self.assertEqual(rows[0][:6], ['IMAGE ID', 'NAME', 'STATE', 'STORED', 'UNIQUE', 'SHARED'])
    self.assertIn(ami, out.stdout)
    self.assertIn('$0.10 per GB-month', out.stdout)
    self.assertRegex(out.stdout, r'total stored: [0-9.]+ [kMG]?B')
    usage = self.kiln_json('usage', '--price-per-gb-month', '0.10')
    imgs = {i['ImageId']: i for i in usage['Images']}
    self.assertIn(ami, imgs)
    img = imgs[ami]
    self.assertEqual(img['StoredBytes'], img['UniqueBytes'] + img['SharedBytes'])
    self.assertGreater(img['StoredBytes'], 0)
    self.assertAlmostEqual(img['MonthlyCost'], img['StoredBytes'] / 1e9 * 0.10)
    self.assertEqual(sorted(img['SnapshotIds']), self.state['snapshots'])
    self.assertTrue(set(self.state['snapshots']) <= {s['SnapshotId'] for s in usage['Snapshots']})

  def test_6_stop_terminate_deregister(self):
    ami, first, second = (self.state.get(k) for k in ('ami', 'first', 'second'))
    if not ami:
      self.skipTest('the workflow did not make an image')
    out = self.kiln_run('terminate', first, second).stdout
    self.assertIn('%s: running -> shutting-down' % first, out)
    out = self.kiln_run('deregister', self.state['name'], '--delete-snapshots').stdout
    self.assertIn('deregistered %s' % ami, out)
    for s in self.state['snapshots']:
      self.assertIn('deleted snapshot %s' % s, out)
    left = {s['SnapshotId'] for s in self.kiln_json('snapshots')['Snapshots']}
    self.assertFalse(left & set(self.state['snapshots']), left)
    self.assertEqual(self.kiln_json('images', '--owner', 'self')['Images'], [])
    self.state['first'] = self.state['second'] = None

  # --- errors ------------------------------------------------------------------------------------

  def test_7_unknown_image(self):
    out = self.kiln_run('launch', 'ami-0123456789abcdef0', status=1)
    self.error_line(out, 'InvalidAMIID.NotFound')
    self.assertIn('hint: list images with `kiln images --owner self`', out.stderr)
    out = self.kiln_run('launch', 'no-such-image-name', status=1)
    self.error_line(out, 'InvalidAMIID.NotFound')
    out = self.kiln_run('deregister', 'ami-0123456789abcdef0', status=1)
    self.error_line(out, 'InvalidAMIID.NotFound')

  def test_8_malformed_image_name(self):
    iid = self.scratch()
    out = self.kiln_run('create-image', iid, '--name', 'bad|name*', '--no-reboot', status=1)
    self.error_line(out, 'InvalidAMIName.Malformed')
    self.assertIn('3-128 characters', out.stderr)
    out = self.kiln_run('create-image', 'i-0123456789abcdef0', '--name', 'fine-name', status=1)
    self.error_line(out, 'InvalidInstanceID.NotFound')

  def test_8_bad_flags(self):
    for args in (['launch'], ['images', '--bogus'], ['create-image', 'i-1'],
                 ['launch', 'ami-1', '--volume', 'sdf'], ['--output', 'yaml', 'images'],
                 ['frobnicate']):
      out = self.kiln_run(*args, status=2)
      self.assertTrue(out.stderr.startswith('kiln: '), out.stderr)
      self.assertEqual(out.stdout, '')

  def test_8_bad_credentials(self):
    p = self.kiln.profile()
    out = self.kiln_run('images', status=1, env=self.env(
        AWS_ACCESS_KEY_ID=p['aws_access_key_id'], AWS_SECRET_ACCESS_KEY='wrong'))
    self.error_line(out, 'SignatureDoesNotMatch')
    out = self.kiln_run('images', status=1,
                        env=self.env(KILN_ENDPOINT_URL='http://127.0.0.1:%d' % e2e.free_port()))
    self.assertIn('hint: is kilnd running?', out.stderr)

  # --- discovery and terminals -------------------------------------------------------------------

  def test_9_discovery(self):
    path = os.path.join(self.run_dir, 'kilnd.json')
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
      time.sleep(0.1)
    with open(path) as f:
      info = json.load(f)
    self.assertEqual(info['endpoint'].rstrip('/'), self.kiln.url)
    self.assertEqual(info['pid'], self.kiln.proc.pid)
    # A ~/.aws/credentials meant for real AWS is not sent to the local kilnd.
    os.makedirs(os.path.join(self.home, '.aws'), exist_ok=True)
    with open(os.path.join(self.home, '.aws', 'credentials'), 'w') as f:
      f.write('[default]\naws_access_key_id = AKIAREALAWS\naws_secret_access_key = nope\n')
    out = self.kiln_run('images', '--owner', 'kiln', env=self.env(discovery=True)).stdout
    self.assertIn(e2e.BASE_IMAGE_NAME, out)
    # An explicit profile means the caller's own file: here that fails (AuthFailure).
    out = self.kiln_run('--profile', 'default', 'images', status=1,
                        env=self.env(discovery=True))
    self.error_line(out, 'AuthFailure')
    # A kilnd.json naming a dead pid is not used.
    dead = os.path.join(self.tmp, 'dead-run')
    os.makedirs(dead, exist_ok=True)
    proc = subprocess.Popen(['true'])
    proc.wait()
    self.assertFalse(pid_alive(proc.pid))
    with open(os.path.join(dead, 'kilnd.json'), 'w') as f:
      json.dump({'endpoint': self.kiln.url, 'dataDir': self.kiln.data_dir, 'pid': proc.pid}, f)
    out = self.kiln_run('images', status=1, env=self.env(discovery=True, KILN_RUN_DIR=dead))
    self.assertIn('kilnd is not running', out.stderr)
    self.assertIn('make run', out.stderr)

  def test_9_terminal_colour_and_no_color(self):
    """On a terminal states are coloured, unless NO_COLOR or --no-color; create-image --wait
    draws its progress in place with bars."""
    def on_tty(args, **extra):
      master, slave = pty.openpty()
      proc = subprocess.Popen([kiln_path()] + args, env=self.env(**extra), stdin=subprocess.DEVNULL,
                              stdout=slave, stderr=subprocess.PIPE)
      os.close(slave)
      data = b''
      while True:
        try:
          chunk = os.read(master, 65536)
        except OSError:
          break
        if not chunk:
          break
        data += chunk
      os.close(master)
      self.assertEqual(proc.wait(60), 0, proc.stderr.read())
      return data.decode('utf-8', 'replace')
    out = on_tty(['images', '--owner', 'kiln'])
    self.assertIn('\033[32mavailable\033[0m', out)
    self.assertNotIn('\033[', on_tty(['images', '--owner', 'kiln'], NO_COLOR='1'))
    self.assertNotIn('\033[', on_tty(['--no-color', 'images', '--owner', 'kiln']))
    name = e2e.unique('kiln-tty')
    out = on_tty(['create-image', self.scratch(), '--name', name, '--no-reboot', '--wait'])
    self.assertIn('\033[2K', out)  # lines redrawn in place
    self.assertRegex(out, r'snapshot snap-[0-9a-f]+ \(/dev/xvda\)\s+\[#{30}\] ')
    ami = re.search(r'image (ami-[0-9a-f]+) is available', out).group(1)
    self.kiln_run('deregister', ami, '--delete-snapshots')


if __name__ == '__main__':
  e2e.main()
