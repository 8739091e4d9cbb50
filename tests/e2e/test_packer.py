#!/usr/bin/env python3
"""Packer 1.6.6 (Debian) builds an AMI on kilnd with its amazon-ebs builder and
`communicator: none`, customizing through user data; an instance launched from that AMI shows
the change (issue 5). Template: packer/kiln-ebs.json."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

TEMPLATE = os.path.join(e2e.HERE, 'packer', 'kiln-ebs.json')
PACKER_TIMEOUT = 600


class PackerTest(e2e.KilnTestCase):

  def setUp(self):
    self.packer = os.environ.get('KILN_PACKER') or shutil.which('packer')
    self.assertTrue(self.packer, 'packer is missing (apt-get install packer)')
    self.tmp = tempfile.mkdtemp(prefix='kiln-e2e-packer-', dir='/tmp')

  def tearDown(self):
    shutil.rmtree(self.tmp, ignore_errors=True)

  def test_packer_amazon_ebs(self):
    version = subprocess.run([self.packer, 'version'], capture_output=True, text=True,
                             timeout=60).stdout
    self.assertIn('Packer v1.6', version)
    token = os.urandom(4).hex()
    ud = os.path.join(self.tmp, 'user-data.sh')
    with open(ud, 'w') as f:
      f.write(e2e.user_data('echo "packer-%s" > /packer-marker' % token, 'sync',
                            'echo "E2E-PACKER-UD-DONE-%s"' % token))
    name = e2e.unique('e2e-packer')
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_SHARED_CREDENTIALS_FILE=self.kiln.credentials_file,
               AWS_CONFIG_FILE='/dev/null', AWS_PROFILE='default', AWS_REGION=e2e.REGION,
               AWS_POLL_DELAY_SECONDS='1', AWS_MAX_ATTEMPTS='600', CHECKPOINT_DISABLE='1',
               PACKER_CACHE_DIR=os.path.join(self.tmp, 'cache'), TMPDIR=self.tmp,
               PYTHONDONTWRITEBYTECODE='1')
    cmd = [self.packer, 'build', '-color=false', '-var', 'endpoint=' + self.kiln.url,
           '-var', 'ami_name=' + name, '-var', 'user_data_file=' + ud,
           '-var', 'wait_command=' + self.wait_command(token)]
    if e2e.MOTO:  # development aid: some EBS-backed image moto has
      cmd += ['-var', 'source_owner=amazon', '-var', 'source_name=' + e2e.base_image(self.ec2)['Name']]
    cmd.append(TEMPLATE)
    out = subprocess.run(cmd, env=env, cwd=self.tmp, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=PACKER_TIMEOUT)
    log = out.stdout + out.stderr
    self.assertEqual(out.returncode, 0, 'packer build failed:\n' + log[-6000:])

    ec2 = self.ec2
    images = ec2.describe_images(Owners=['self'],
                                 Filters=[{'Name': 'name', 'Values': [name]}])['Images']
    self.assertEqual(len(images), 1, images)
    ami = images[0]['ImageId']
    self.assertIn(ami, log)
    self.assertEqual(images[0]['State'], 'available')
    if not e2e.MOTO:
      self.assertIn({'Key': 'builder', 'Value': 'packer'}, images[0].get('Tags', []))
      self.assertTrue(images[0]['Description'].startswith('built by Packer from ami-'))
      # Packer cleaned up after itself: its source instance is gone, its key pair too.
      left = [i for r in ec2.describe_instances(Filters=[
          {'Name': 'tag:Name', 'Values': ['Packer Builder']}])['Reservations']
              for i in r['Instances'] if i['State']['Name'] not in ('terminated',)]
      self.assertEqual(left, [])
      self.assertEqual([k for k in ec2.describe_key_pairs()['KeyPairs']
                        if k['KeyName'].startswith('packer_')], [])

    child = e2e.run_one(ec2, ami, 't3.micro', user_data=e2e.user_data(
        'echo "E2E marker=$(cat /packer-marker)"', 'echo E2E-PACKER-CHILD-DONE'))
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[child])
      console = e2e.wait_console(ec2, child, 'E2E-PACKER-CHILD-DONE')
      if console is not None:
        self.assertEqual(e2e.console_values(console).get('marker'), 'packer-' + token, console)
        self.assertNotIn('E2E-PACKER-UD-DONE', console, 'Packer\'s user data ran again')
    finally:
      e2e.terminate(ec2, child)
    e2e.delete_image(ec2, ami)

  def wait_command(self, token):
    """The shell-local provisioner's command, to which the template appends the instance id.

    Packer stops the instance as soon as its provisioners are done; with communicator none,
    this waits until the user data has run, as its console shows."""
    if e2e.MOTO:
      return 'true'
    return '%s %s wait-console %s 300 E2E-PACKER-UD-DONE-%s' % (
        sys.executable, os.path.join(e2e.HERE, 'kiln_e2e.py'), self.kiln.url, token)


if __name__ == '__main__':
  e2e.main()
