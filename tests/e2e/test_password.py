#!/usr/bin/env python3
"""Generated admin passwords and GetPasswordData against the real kilnd (issue 6).

An image asks for a generated password in /etc/kiln/launch-settings (docs/launch-settings.md).
The test makes one: the base image launched with user data that writes the settings and an
rc.local.d script printing root's /etc/shadow line at every boot, then CreateImage. An instance
launched from it with an RSA key pair gets a random password at its first boot; GetPasswordData
returns it encrypted for the key pair (RSA PKCS#1 v1.5, base64). The test decrypts it with the
private key and proves it is the password set inside: the SHA-512 crypt hash the guest prints
matches it (python's crypt, or `openssl passwd -6`). The password stays across a reboot; an
Ed25519 key pair and an image that does not ask give empty password data; EC2's errors for bad
and other accounts' ids; one case through the AWS CLI v2 (`--priv-launch-key` decrypts).

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43).
"""

import base64
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kiln_e2e as e2e  # noqa: E402

SHADOW_SCRIPT = r'''#!/bin/sh
echo "E2E-SHADOW $(grep '^root:' /etc/shadow)"
'''

USER_DATA = e2e.user_data(
    'mkdir -p /etc/kiln /etc/rc.local.d',
    "printf '# kiln launch settings\\nadmin_user=root\\nadmin_password=random\\n' "
    '> /etc/kiln/launch-settings',
    "cat > /etc/rc.local.d/e2e-shadow <<'EOF'\n" + SHADOW_SCRIPT + 'EOF',
    'chmod 0755 /etc/rc.local.d/e2e-shadow',
    'sync',
    'echo E2E-PW-READY')


def decrypt(private_pem, password_data):
  """What boto3 users and the AWS CLI do: base64, then RSA PKCS#1 v1.5 with the private key."""
  from cryptography.hazmat.primitives import serialization
  from cryptography.hazmat.primitives.asymmetric import padding
  key = serialization.load_pem_private_key(private_pem.encode(), password=None)
  return key.decrypt(base64.b64decode(password_data), padding.PKCS1v15()).decode('utf-8')


def crypt_matches(password, hashed):
  """Whether the SHA-512 crypt hash `hashed` ($6$SALT$...) is of `password`."""
  try:
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', DeprecationWarning)
      import crypt  # noqa: deprecated in 3.11, still there
    return crypt.crypt(password, hashed) == hashed
  except ImportError:
    salt = hashed.split('$')[2]
    out = subprocess.run(['openssl', 'passwd', '-6', '-salt', salt, password],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip() == hashed


def shadow_hashes(out):
  return re.findall(r'^E2E-SHADOW root:([^:]*):', out or '', re.M)


class PasswordTest(e2e.KilnTestCase):
  image_id = None
  rsa = None  # (name, private PEM)

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    if e2e.MOTO:
      raise unittest.SkipTest('kiln only: guests and their /etc/shadow')
    ec2 = cls.ec2
    name = e2e.unique('e2e-pw-rsa')
    cls.rsa = (name, ec2.create_key_pair(KeyName=name, KeyType='rsa')['KeyMaterial'])
    src = e2e.run_one(ec2, cls.base['ImageId'], user_data=USER_DATA)
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[src])
      e2e.wait_console(ec2, src, 'E2E-PW-READY')
      cls.source = src
      cls.image_id = ec2.create_image(InstanceId=src, Name=e2e.unique('e2e-pw-image'))['ImageId']
      e2e.wait(ec2, 'image_available', ImageIds=[cls.image_id],
               WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
    except BaseException:
      e2e.terminate(ec2, src, wait_done=False)
      raise

  @classmethod
  def tearDownClass(cls):
    try:
      if cls.kiln.proc is not None:
        e2e.terminate(cls.ec2, getattr(cls, 'source', None), wait_done=False)
    finally:
      super().tearDownClass()

  def launch(self, key_name):
    resp = self.ec2.run_instances(ImageId=self.image_id, MinCount=1, MaxCount=1,
                                  InstanceType='t3.micro', KeyName=key_name)
    iid = resp['Instances'][0]['InstanceId']
    self.addCleanup(e2e.terminate, self.ec2, iid, wait_done=False)
    e2e.wait(self.ec2, 'instance_running', InstanceIds=[iid])
    return iid

  def wait_password_data(self, iid, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
      resp = self.ec2.get_password_data(InstanceId=iid)
      self.assertEqual(resp['InstanceId'], iid)
      self.assertIn('Timestamp', resp)
      if resp.get('PasswordData'):
        return resp['PasswordData']
      time.sleep(0.5)
    self.fail('no password data for %s within %d s' % (iid, timeout))

  def test_password_is_the_one_set_inside_and_survives_a_reboot(self):
    ec2 = self.ec2
    iid = self.launch(self.rsa[0])
    data = self.wait_password_data(iid)
    ciphertext = base64.b64decode(data)
    self.assertEqual(len(ciphertext), 256)  # a 2048-bit key's modulus
    password = decrypt(self.rsa[1], data)
    self.assertGreaterEqual(len(password), 16)
    self.assertRegex(password, r'^[A-Za-z0-9._!@%-]+$')
    out = e2e.wait_console(ec2, iid, 'E2E-SHADOW root:$6$')
    hashes = shadow_hashes(out)
    self.assertEqual(len(hashes), 1, out)
    self.assertTrue(hashes[0].startswith('$6$'), hashes)
    self.assertTrue(crypt_matches(password, hashes[0]), 'the guest hash is not of the password')
    self.assertFalse(crypt_matches(password + 'x', hashes[0]))
    # The plaintext is nowhere in kilnd's log.
    with open(self.kiln.log_path, errors='replace') as f:
      self.assertNotIn(password, f.read())
    # A reboot keeps it: no new password, the same hash inside.
    ec2.reboot_instances(InstanceIds=[iid])
    out = e2e.wait_console(ec2, iid, 'E2E-SHADOW root:', count=2)
    self.assertEqual(shadow_hashes(out), [hashes[0]] * 2)
    self.assertEqual(ec2.get_password_data(InstanceId=iid)['PasswordData'], data)

  def test_no_password_data_without_an_rsa_key_or_a_request(self):
    ec2 = self.ec2
    # The image's source instance: launched from the base image, which does not ask.
    resp = ec2.get_password_data(InstanceId=self.source)
    self.assertEqual(resp['InstanceId'], self.source)
    self.assertEqual(resp.get('PasswordData', ''), '')
    name = e2e.unique('e2e-pw-ed')
    ec2.create_key_pair(KeyName=name, KeyType='ed25519')
    iid = self.launch(name)
    # The password is set inside (the image asks) but cannot be handed out for Ed25519.
    out = e2e.wait_console(ec2, iid, 'E2E-SHADOW root:')
    self.assertTrue(shadow_hashes(out)[0].startswith('$6$'), out)
    self.assertEqual(ec2.get_password_data(InstanceId=iid).get('PasswordData', ''), '')

  def test_errors(self):
    ec2 = self.ec2
    self.assertClientError('InvalidInstanceID.Malformed', ec2.get_password_data,
                           InstanceId='i-nothex')
    self.assertClientError('InvalidInstanceID.NotFound', ec2.get_password_data,
                           InstanceId='i-0123456789abcdef0')
    self.assertClientError('DryRunOperation', ec2.get_password_data, InstanceId=self.source,
                           DryRun=True)
    self.kiln.create_account('pwother')
    other = self.kiln.client('pwother')
    self.assertClientError('InvalidInstanceID.NotFound', other.get_password_data,
                           InstanceId=self.source)

  def test_cli_v2_priv_launch_key(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    iid = self.launch(self.rsa[0])
    data = self.wait_password_data(iid)
    with tempfile.NamedTemporaryFile('w', suffix='.pem') as f:
      f.write(self.rsa[1])
      f.flush()
      out = self.kiln.aws(cli, ['get-password-data', '--instance-id', iid,
                                '--priv-launch-key', f.name])[1]
    self.assertEqual(out['InstanceId'], iid)
    self.assertEqual(out['PasswordData'], decrypt(self.rsa[1], data))
    hashes = shadow_hashes(e2e.wait_console(self.ec2, iid, 'E2E-SHADOW root:$6$'))
    self.assertTrue(crypt_matches(out['PasswordData'], hashes[0]))


if __name__ == '__main__':
  e2e.main()
