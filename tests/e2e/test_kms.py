#!/usr/bin/env python3
"""The KMS JSON API on kilnd's listener (issue 6) through real clients: boto3's kms client
(CreateKey, DescribeKey by id, ARN, alias and alias ARN, ListKeys and ListAliases paging,
CreateAlias and its errors), isolation between two accounts, authentication errors as KMS names
them, raw requests with bad targets and bodies, and the AWS CLI (`aws kms ...`, both
generations). The EC2 Query API keeps working on the same port.

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43).
"""

import datetime
import json
import os
import re
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import kiln_e2e as e2e  # noqa: E402

MOTO = e2e.MOTO
KEY_ARN = re.compile(r'^arn:aws:kms:[a-z0-9-]+:(\d{12}):key/([0-9a-f-]{36})$')


class KmsTest(e2e.KilnTestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.kms = cls.kiln.client(service='kms')

  def new_key(self, description='e2e'):
    return self.kms.create_key(Description=description)['KeyMetadata']

  def raw(self, target, body, secret=None, sign=True):
    """POSTs a KMS JSON request as is: (HTTP status, parsed body or text)."""
    headers = {'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target}
    url = self.kiln.url + '/'
    if sign:
      p = self.kiln.profile()
      creds = botocore.credentials.Credentials(p['aws_access_key_id'],
                                               secret or p['aws_secret_access_key'])
      req = botocore.awsrequest.AWSRequest(method='POST', url=url, data=body, headers=headers)
      botocore.auth.SigV4Auth(creds, 'kms', e2e.REGION).add_auth(req)
      headers = dict(req.headers.items())
    status, text, _ = self.kiln.http('POST', url, body, headers)
    try:
      return status, json.loads(text) if text else {}
    except ValueError:
      return status, text

  # --- keys --------------------------------------------------------------------------------------

  def test_create_key_metadata(self):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    m = self.new_key('volumes of e2e')
    m_arn = KEY_ARN.match(m['Arn'])
    self.assertTrue(m_arn, m['Arn'])
    if not MOTO:
      self.assertEqual(m_arn.group(1), self.account)
      self.assertEqual(m['AWSAccountId'], self.account)
    self.assertEqual(m_arn.group(2), m['KeyId'])
    self.assertEqual(str(uuid.UUID(m['KeyId'])), m['KeyId'])
    self.assertIsInstance(m['CreationDate'], datetime.datetime)  # a number on the wire
    self.assertGreater(m['CreationDate'], before)
    self.assertIs(m['Enabled'], True)
    self.assertEqual(m['Description'], 'volumes of e2e')
    self.assertEqual(m['KeyUsage'], 'ENCRYPT_DECRYPT')
    self.assertEqual(m['KeyState'], 'Enabled')
    self.assertEqual(m['Origin'], 'AWS_KMS')
    self.assertEqual(m['KeyManager'], 'CUSTOMER')
    self.assertEqual(m['KeySpec'], 'SYMMETRIC_DEFAULT')
    self.assertEqual(m['CustomerMasterKeySpec'], 'SYMMETRIC_DEFAULT')
    self.assertEqual(m['EncryptionAlgorithms'], ['SYMMETRIC_DEFAULT'])

  def test_describe_key_by_id_arn_and_alias(self):
    m = self.new_key()
    alias = e2e.unique('alias/e2e-describe')
    self.kms.create_alias(AliasName=alias, TargetKeyId=m['KeyId'])
    alias_arn = m['Arn'].rsplit(':', 1)[0] + ':' + alias
    for ref in (m['KeyId'], m['Arn'], alias, alias_arn):
      got = self.kms.describe_key(KeyId=ref)['KeyMetadata']
      self.assertEqual(got['KeyId'], m['KeyId'], ref)
      self.assertEqual(got['Arn'], m['Arn'], ref)
      self.assertEqual(got['CreationDate'], m['CreationDate'], ref)

  def test_unknown_key(self):
    for ref in (str(uuid.uuid4()), 'alias/e2e-no-such-alias',
                'arn:aws:kms:us-east-1:%s:key/%s' % (self.account, uuid.uuid4())):
      self.assertClientError('NotFoundException', self.kms.describe_key, KeyId=ref)
    e = self.assertClientError('NotFoundException', self.kms.create_alias,
                               AliasName='alias/e2e-orphan', TargetKeyId=str(uuid.uuid4()))
    self.assertEqual(e2e.http_status(e), 400)

  def test_list_keys_paging(self):
    made = {self.new_key('page %d' % i)['KeyId'] for i in range(5)}
    seen, marker, pages = [], None, 0
    while True:
      args = {'Limit': 2}
      if marker:
        args['Marker'] = marker
      resp = self.kms.list_keys(**args)
      pages += 1
      self.assertLessEqual(len(resp['Keys']), 2)
      for k in resp['Keys']:
        self.assertTrue(KEY_ARN.match(k['KeyArn']), k)
        seen.append(k['KeyId'])
      if not resp['Truncated']:
        self.assertNotIn('NextMarker', resp)
        break
      marker = resp['NextMarker']
      self.assertLess(pages, 100, 'paging does not end')
    self.assertEqual(len(seen), len(set(seen)), 'a key on two pages')
    self.assertLessEqual(made, set(seen))
    self.assertGreaterEqual(pages, 3)
    # botocore's paginator follows the same markers.
    paged = [k['KeyId'] for page in self.kms.get_paginator('list_keys').paginate(
        PaginationConfig={'PageSize': 3}) for k in page['Keys']]
    self.assertEqual(sorted(paged), sorted(seen))
    self.assertClientError('ValidationException', self.kiln.client(
        service='kms', parameter_validation=False).list_keys, Limit=0)

  # --- aliases -----------------------------------------------------------------------------------

  def test_aliases(self):
    a = self.new_key('alias target a')
    b = self.new_key('alias target b')
    name_a = e2e.unique('alias/e2e-a')
    name_b1, name_b2 = e2e.unique('alias/e2e-b1'), e2e.unique('alias/e2e-b2')
    self.kms.create_alias(AliasName=name_a, TargetKeyId=a['KeyId'])
    self.kms.create_alias(AliasName=name_b1, TargetKeyId=b['Arn'])  # by ARN too
    self.kms.create_alias(AliasName=name_b2, TargetKeyId=b['KeyId'])

    every = [x for page in self.kms.get_paginator('list_aliases').paginate(
        PaginationConfig={'PageSize': 2}) for x in page['Aliases']]
    by_name = {x['AliasName']: x for x in every}
    self.assertEqual(len(by_name), len(every), 'an alias on two pages')
    self.assertEqual(by_name[name_a]['TargetKeyId'], a['KeyId'])
    self.assertEqual(by_name[name_a]['AliasArn'],
                     a['Arn'].rsplit(':', 1)[0] + ':' + name_a)
    self.assertIsInstance(by_name[name_a]['CreationDate'], datetime.datetime)
    self.assertEqual(by_name[name_b1]['TargetKeyId'], b['KeyId'])
    self.assertIn('alias/aws/ebs', by_name)  # predefined, as in KMS

    only_b = self.kms.list_aliases(KeyId=b['KeyId'])['Aliases']
    self.assertEqual(sorted(x['AliasName'] for x in only_b), sorted([name_b1, name_b2]))
    only_b_arn = self.kms.list_aliases(KeyId=b['Arn'])['Aliases']
    self.assertEqual(len(only_b_arn), 2)
    first = self.kms.list_aliases(Limit=1)
    self.assertEqual(len(first['Aliases']), 1)
    self.assertTrue(first['Truncated'])
    rest = self.kms.list_aliases(Limit=1, Marker=first['NextMarker'])
    self.assertNotEqual(rest['Aliases'][0]['AliasName'], first['Aliases'][0]['AliasName'])

    e = self.assertClientError('AlreadyExistsException', self.kms.create_alias,
                               AliasName=name_a, TargetKeyId=b['KeyId'])
    self.assertEqual(e2e.http_status(e), 400)
    self.assertClientError('NotAuthorizedException', self.kms.create_alias,
                           AliasName='alias/aws/e2e', TargetKeyId=a['KeyId'])
    self.assertClientError('ValidationException', self.kms.create_alias,
                           AliasName='e2e-no-prefix', TargetKeyId=a['KeyId'])
    self.assertClientError('ValidationException', self.kms.create_alias,
                           AliasName=e2e.unique('alias/e2e-to-alias'), TargetKeyId=name_a)
    # The duplicate did not move the alias.
    self.assertEqual(self.kms.describe_key(KeyId=name_a)['KeyMetadata']['KeyId'], a['KeyId'])

  # --- accounts and authentication ---------------------------------------------------------------

  def test_other_account_cannot_see_keys(self):
    if MOTO:
      self.skipTest('moto has one account')
    m = self.new_key('account a only')
    alias = e2e.unique('alias/e2e-private')
    self.kms.create_alias(AliasName=alias, TargetKeyId=m['KeyId'])
    other = e2e.unique('kms-other')
    self.kiln.create_account(other)
    kms_b = self.kiln.client(profile=other, service='kms')
    for ref in (m['KeyId'], m['Arn'], alias):
      self.assertClientError('NotFoundException', kms_b.describe_key, KeyId=ref)
    self.assertNotIn(m['KeyId'], [k['KeyId'] for k in kms_b.list_keys()['Keys']])
    self.assertNotIn(alias, [x['AliasName'] for x in kms_b.list_aliases()['Aliases']])
    self.assertClientError('NotFoundException', kms_b.create_alias,
                           AliasName=e2e.unique('alias/e2e-steal'), TargetKeyId=m['Arn'])
    # B's own key is B's, and A does not see it; the same alias name is B's to use.
    mb = kms_b.create_key()['KeyMetadata']
    self.assertEqual(mb['AWSAccountId'], self.kiln.profile(other)['account_id'])
    kms_b.create_alias(AliasName=alias, TargetKeyId=mb['KeyId'])
    self.assertEqual(kms_b.describe_key(KeyId=alias)['KeyMetadata']['KeyId'], mb['KeyId'])
    self.assertEqual(self.kms.describe_key(KeyId=alias)['KeyMetadata']['KeyId'], m['KeyId'])
    self.assertClientError('NotFoundException', self.kms.describe_key, KeyId=mb['KeyId'])

  def test_auth_errors(self):
    if MOTO:
      self.skipTest('moto does not authenticate')
    wrong = self.kiln.client(service='kms', secret='x' * 40)
    e = self.assertClientError('InvalidSignatureException', wrong.list_keys)
    self.assertEqual(e2e.http_status(e), 400)
    unknown = e2e.boto3.session.Session(
        aws_access_key_id='AKIAUNKNOWNUNKNOWN00', aws_secret_access_key='y' * 40,
        region_name=e2e.REGION).client('kms', endpoint_url=self.kiln.url,
                                       config=botocore.config.Config(retries={'max_attempts': 0}))
    self.assertClientError('UnrecognizedClientException', unknown.list_keys)
    unsigned = self.kiln.client(service='kms', signature_version=botocore.UNSIGNED)
    self.assertClientError('MissingAuthenticationTokenException', unsigned.list_keys)

  def test_raw_bad_requests(self):
    if MOTO:
      self.skipTest('kiln-specific error bodies')
    status, body = self.raw('TrentService.ListKeys', '{}')
    self.assertEqual(status, 200, body)
    self.assertIn('Keys', body)
    cases = [('TrentService.NoSuchOperation', '{}', 'UnknownOperationException'),
             ('DynamoDB_20120810.ListTables', '{}', 'UnknownOperationException'),
             ('TrentService.DescribeKey', '{"KeyId": ', 'SerializationException'),
             ('TrentService.DescribeKey', '["KeyId"]', 'SerializationException'),
             ('TrentService.DescribeKey', '{"KeyId": 17}', 'SerializationException'),
             ('TrentService.ListKeys', '{"Limit": "2"}', 'SerializationException'),
             ('TrentService.DescribeKey', '{}', 'ValidationException'),
             ('TrentService.ListKeys', '{"Limit": 1001}', 'ValidationException'),
             ('TrentService.ListKeys', '{"Marker": "not-a-marker"}', 'InvalidMarkerException'),
             ('TrentService.CreateKey', '{"KeySpec": "RSA_2048"}',
              'UnsupportedOperationException')]
    for target, payload, expected in cases:
      status, body = self.raw(target, payload)
      self.assertEqual(status, 400, (target, payload, body))
      self.assertEqual(body.get('__type'), expected, (target, payload, body))
      self.assertIn('message', body)
    status, body = self.raw('TrentService.ListKeys', '{}', sign=False)
    self.assertEqual((status, body.get('__type')), (400, 'MissingAuthenticationTokenException'))

  def test_ec2_beside_kms(self):
    """An EC2 Query request on the same port still answers in XML, and an EC2-scoped
    signature is not a KMS one."""
    if MOTO:
      self.skipTest('kiln-specific')
    self.assertTrue(self.ec2.describe_regions()['Regions'])
    p = self.kiln.profile()
    creds = botocore.credentials.Credentials(p['aws_access_key_id'], p['aws_secret_access_key'])
    headers = {'Content-Type': 'application/x-amz-json-1.1',
               'X-Amz-Target': 'TrentService.ListKeys'}
    req = botocore.awsrequest.AWSRequest(method='POST', url=self.kiln.url + '/', data='{}',
                                         headers=headers)
    botocore.auth.SigV4Auth(creds, 'ec2', e2e.REGION).add_auth(req)
    status, text, _ = self.kiln.http('POST', self.kiln.url + '/', '{}', dict(req.headers.items()))
    self.assertEqual(status, 400, text)
    self.assertEqual(json.loads(text)['__type'], 'IncompleteSignatureException')

  # --- the AWS CLI -------------------------------------------------------------------------------

  def aws_kms(self, cli, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_SHARED_CREDENTIALS_FILE=self.kiln.credentials_file,
               AWS_CONFIG_FILE='/dev/null', AWS_PROFILE='default',
               AWS_DEFAULT_REGION=e2e.REGION, AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
    cmd = [cli, '--endpoint-url', self.kiln.url, '--output', 'json', 'kms'] + list(args)
    out = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=120)
    return out.returncode, (json.loads(out.stdout) if out.stdout.strip() else None), out.stderr

  def cli_workflow(self, cli):
    rc, created, err = self.aws_kms(cli, 'create-key', '--description', 'from the cli')
    self.assertEqual(rc, 0, err)
    m = created['KeyMetadata']
    self.assertTrue(KEY_ARN.match(m['Arn']), m)
    self.assertEqual(m['Description'], 'from the cli')
    alias = e2e.unique('alias/e2e-cli')
    rc, out, err = self.aws_kms(cli, 'create-alias', '--alias-name', alias, '--target-key-id',
                                m['KeyId'])
    self.assertEqual(rc, 0, err)
    rc, out, err = self.aws_kms(cli, 'describe-key', '--key-id', alias)
    self.assertEqual(rc, 0, err)
    self.assertEqual(out['KeyMetadata']['KeyId'], m['KeyId'])
    # The CLI pages through ListAliases itself (Limit/NextMarker) with --page-size.
    rc, out, err = self.aws_kms(cli, 'list-aliases', '--page-size', '1')
    self.assertEqual(rc, 0, err)
    self.assertIn(alias, [x['AliasName'] for x in out['Aliases']])
    rc, out, err = self.aws_kms(cli, 'list-keys', '--page-size', '1')
    self.assertEqual(rc, 0, err)
    self.assertIn(m['KeyId'], [k['KeyId'] for k in out['Keys']])
    rc, out, err = self.aws_kms(cli, 'create-alias', '--alias-name', alias, '--target-key-id',
                                m['KeyId'])
    self.assertNotEqual(rc, 0)
    self.assertIn('AlreadyExistsException', err)
    rc, out, err = self.aws_kms(cli, 'describe-key', '--key-id', str(uuid.uuid4()))
    self.assertNotEqual(rc, 0)
    self.assertIn('NotFoundException', err)

  def test_cli_v2(self):
    cli = e2e.aws_cli_v2()
    self.assertTrue(os.access(cli, os.X_OK), '%s (AWS CLI v2) is missing' % cli)
    self.assertIn('aws-cli/2.', e2e.cli_version(cli))
    self.cli_workflow(cli)

  def test_cli_v1(self):
    cli = e2e.aws_cli_v1()
    self.assertTrue(cli, 'no AWS CLI v1 on PATH outside /usr/bin (set KILN_AWS_CLI_V1)')
    self.assertIn('aws-cli/1.', e2e.cli_version(cli))
    self.cli_workflow(cli)


if __name__ == '__main__':
  e2e.main()
