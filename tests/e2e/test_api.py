#!/usr/bin/env python3
"""EC2 API behaviour through boto3 against the real kilnd (issue 5): errors and validation,
UnknownParameter and InvalidAction, DryRun, authentication (SigV4 header and presigned,
clock skew), pagination, security groups, and isolation between two accounts.

Runs under both interpreters: /usr/bin/python3 (boto3 1.26) and the pyenv's (boto3 1.43);
parameters only the newer model knows are exercised with the newer client only.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore  # noqa: E402
import botocore.config  # noqa: E402
import kiln_e2e as e2e  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

MOTO = e2e.MOTO


class ApiTest(e2e.KilnTestCase):

  def no_validation_client(self):
    """boto3 that sends what it is given: the server must do its own validation."""
    return self.kiln.client(parameter_validation=False)

  # --- errors and validation ---------------------------------------------------------------------

  def test_errors_not_found_and_malformed(self):
    ec2 = self.ec2
    missing_ami = 'ami-0123456789abcdef0'
    missing_i = 'i-0123456789abcdef0'
    self.assertClientError('InvalidAMIID.NotFound', ec2.describe_images, ImageIds=[missing_ami])
    self.assertClientError('InvalidInstanceID.NotFound', ec2.describe_instances,
                           InstanceIds=[missing_i])
    if MOTO:
      return
    self.assertClientError('InvalidAMIID.Malformed', ec2.describe_images, ImageIds=['ami-xyz'])
    self.assertClientError('InvalidAMIID.Malformed', ec2.describe_images, ImageIds=['bogus'])
    self.assertClientError('InvalidAMIID.NotFound', ec2.run_instances, ImageId=missing_ami,
                           MinCount=1, MaxCount=1)
    self.assertClientError('InvalidAMIID.NotFound', ec2.deregister_image, ImageId=missing_ami)
    self.assertClientError('InvalidInstanceID.NotFound', ec2.create_image,
                           InstanceId=missing_i, Name='e2e-missing')
    self.assertClientError('InvalidInstanceID.NotFound', ec2.terminate_instances,
                           InstanceIds=[missing_i])
    self.assertClientError('InvalidInstanceID.NotFound', ec2.get_console_output,
                           InstanceId=missing_i)
    self.assertClientError(('InvalidInstanceID.Malformed', 'InvalidInstanceID.NotFound'),
                           ec2.describe_instances, InstanceIds=['i-nothex'])
    self.assertClientError('InvalidSnapshot.NotFound', ec2.describe_snapshots,
                           SnapshotIds=['snap-0123456789abcdef0'])
    self.assertClientError('InvalidSnapshot.NotFound', ec2.delete_snapshot,
                           SnapshotId='snap-0123456789abcdef0')
    self.assertClientError('InvalidVolume.NotFound', ec2.describe_volumes,
                           VolumeIds=['vol-0123456789abcdef0'])
    # An unsupported filter name is an error, never a silent match-all.
    self.assertClientError('InvalidParameterValue', ec2.describe_images,
                           Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])
    # Unknown instance type; bad device name.
    self.assertClientError(('InvalidParameterValue', 'InvalidInstanceType'), ec2.run_instances,
                           ImageId=self.base['ImageId'], MinCount=1, MaxCount=1,
                           InstanceType='no.such')
    self.assertClientError('InvalidBlockDeviceMapping', ec2.run_instances,
                           ImageId=self.base['ImageId'], MinCount=1, MaxCount=1,
                           InstanceType='t3.micro',
                           BlockDeviceMappings=[{'DeviceName': '/dev/hda',
                                                 'Ebs': {'VolumeSize': 1}}])

  def test_errors_image_name_and_description(self):
    if MOTO:
      self.skipTest('moto does not validate image names')
    ec2 = self.no_validation_client()
    iid = self.scratch()
    for bad in ('ab', 'x' * 129, 'bad*name', 'bad\u00e9name', 'semi;colon', 'tab\tname'):
      self.assertClientError('InvalidAMIName.Malformed', ec2.create_image, InstanceId=iid,
                             Name=bad, NoReboot=True)
    self.assertClientError('InvalidParameterValue', ec2.create_image, InstanceId=iid,
                           Name=e2e.unique('e2e-desc'), Description='d' * 256, NoReboot=True)
    # Every allowed character, 128 long: accepted; then the same name is a duplicate.
    name = ("Az09 ()[]./-'@_" + e2e.unique('n')).ljust(128, 'x')
    ami = ec2.create_image(InstanceId=iid, Name=name, Description='d' * 255,
                           NoReboot=True)['ImageId']
    e = self.assertClientError('InvalidAMIName.Duplicate', ec2.create_image, InstanceId=iid,
                               Name=name, NoReboot=True)
    self.assertIn(ami, str(e))
    e2e.wait(ec2, 'image_available', ImageIds=[ami])
    self.assertEqual(e2e.image(ec2, ami)['Name'], name)
    e2e.delete_image(ec2, ami)
    # The name is free again once the image is deregistered.
    ami = ec2.create_image(InstanceId=iid, Name=name, NoReboot=True)['ImageId']
    e2e.wait(ec2, 'image_available', ImageIds=[ami])
    e2e.delete_image(ec2, ami)

  def test_errors_instance_store_image(self):
    if MOTO:
      self.skipTest('kiln only')
    ec2 = self.ec2
    twin = ec2.describe_images(Owners=['kiln'], Filters=[
        {'Name': 'name', 'Values': ['minimal-linux-x86_64-instance-store']}])['Images']
    self.assertEqual(len(twin), 1)
    self.assertEqual(twin[0]['RootDeviceType'], 'instance-store')
    iid = e2e.run_one(ec2, twin[0]['ImageId'], 'm1.small')
    try:
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
      self.assertEqual(e2e.instance(ec2, iid)['RootDeviceType'], 'instance-store')
      # EC2: CreateImage needs an EBS-backed instance.
      self.assertClientError(('InvalidParameterValue', 'UnsupportedOperation'), ec2.create_image,
                             InstanceId=iid, Name=e2e.unique('e2e-is'))
      # And EBS mappings are refused for instance-store images.
      self.assertClientError(('UnsupportedOperation', 'InvalidBlockDeviceMapping',
                              'InvalidParameterCombination'), ec2.run_instances,
                             ImageId=twin[0]['ImageId'], MinCount=1, MaxCount=1,
                             BlockDeviceMappings=[{'DeviceName': '/dev/sdf',
                                                   'Ebs': {'VolumeSize': 1}}])
    finally:
      e2e.terminate(ec2, iid)

  def test_unknown_parameter_and_action(self):
    if MOTO:
      self.skipTest('moto ignores unknown parameters')
    status, body, code = self.kiln.raw({'Action': 'DescribeRegions', 'Version': '2016-11-15'})
    self.assertEqual(status, 200, body)
    self.assertIn('<DescribeRegionsResponse', body)
    self.assertIn('http://ec2.amazonaws.com/doc/2016-11-15/', body)
    status, body, code = self.kiln.raw({'Action': 'DescribeRegions', 'Version': '2016-11-15'},
                                       method='GET')
    self.assertEqual(status, 200, body)
    status, body, code = self.kiln.raw({'Action': 'DescribeImages', 'Version': '2016-11-15',
                                        'ImageId.1': self.base['ImageId'], 'Bogus': '1'})
    self.assertEqual((status, code), (400, 'UnknownParameter'), body)
    self.assertIn('<RequestID>', body)
    status, body, code = self.kiln.raw({'Action': 'FrobnicateWidgets', 'Version': '2016-11-15'})
    self.assertEqual((status, code), (400, 'InvalidAction'), body)
    # Empty optional values mean unset (Packer sends them).
    status, body, code = self.kiln.raw({'Action': 'DescribeImages', 'Version': '2016-11-15',
                                        'ImageId.1': self.base['ImageId'], 'NextToken': '',
                                        'MaxResults': ''})
    self.assertEqual(status, 200, body)
    status, body, code = self.kiln.raw({'Action': 'RunInstances', 'Version': '2016-11-15',
                                        'ImageId': self.base['ImageId'], 'MinCount': '1',
                                        'MaxCount': '1', 'InstanceType': 't3.micro',
                                        'DryRun': 'true', 'KeyName': '',
                                        'Placement.AvailabilityZone': ''})
    self.assertEqual((status, code), (412, 'DryRunOperation'), body)

  def test_dry_run(self):
    ec2 = self.ec2
    e = self.assertClientError('DryRunOperation', ec2.describe_images, DryRun=True,
                               ImageIds=[self.base['ImageId']])
    self.assertEqual(e2e.http_status(e), 412)
    if MOTO:
      return
    before = self.instance_ids()
    e = self.assertClientError('DryRunOperation', ec2.run_instances, DryRun=True,
                               ImageId=self.base['ImageId'], MinCount=1, MaxCount=1,
                               InstanceType='t3.micro')
    self.assertEqual(e2e.http_status(e), 412)
    self.assertEqual(self.instance_ids(), before)
    iid = self.scratch()
    name = e2e.unique('e2e-dry')
    self.assertClientError('DryRunOperation', ec2.create_image, DryRun=True, InstanceId=iid,
                           Name=name)
    self.assertEqual(ec2.describe_images(Owners=['self'], Filters=[
        {'Name': 'name', 'Values': [name]}])['Images'], [])
    self.assertClientError('DryRunOperation', ec2.terminate_instances, DryRun=True,
                           InstanceIds=[iid])
    self.assertEqual(e2e.state(ec2, iid), 'running')
    # A DryRun of something that would fail gives that failure, not DryRunOperation.
    self.assertClientError('InvalidInstanceID.NotFound', ec2.terminate_instances, DryRun=True,
                           InstanceIds=['i-0123456789abcdef0'])

  def instance_ids(self):
    return {i['InstanceId'] for r in self.ec2.describe_instances()['Reservations']
            for i in r['Instances']}

  def test_auth_failures(self):
    if MOTO:
      self.skipTest('moto does not authenticate')
    wrong = self.kiln.client(secret='x' * 40)
    e = self.assertClientError(('AuthFailure', 'SignatureDoesNotMatch'), wrong.describe_regions)
    self.assertIn(e2e.http_status(e), (401, 403))
    unknown = e2e.boto3.session.Session(
        aws_access_key_id='AKIAUNKNOWNUNKNOWN00', aws_secret_access_key='y' * 40,
        region_name=e2e.REGION).client('ec2', endpoint_url=self.kiln.url,
                                       config=botocore.config.Config(retries={'max_attempts': 0}))
    e = self.assertClientError('AuthFailure', unknown.describe_regions)
    self.assertIn(e2e.http_status(e), (401, 403))
    unsigned = self.kiln.client(signature_version=botocore.UNSIGNED)
    e = self.assertClientError(('MissingAuthenticationToken', 'AuthFailure'),
                               unsigned.describe_regions)
    self.assertIn(e2e.http_status(e), (401, 403))
    status, body, code = self.kiln.raw({'Action': 'DescribeRegions', 'Version': '2016-11-15'},
                                       sign=False)
    self.assertIn(status, (401, 403), body)
    self.assertIn(code, ('MissingAuthenticationToken', 'AuthFailure'), body)
    # The 15-minute clock-skew rule.
    now = datetime.datetime.utcnow()
    params = {'Action': 'DescribeRegions', 'Version': '2016-11-15'}
    status, body, code = self.kiln.raw(params, when=now - datetime.timedelta(minutes=5))
    self.assertEqual(status, 200, body)
    for skew in (-20, 20):
      status, body, code = self.kiln.raw(params, when=now + datetime.timedelta(minutes=skew))
      self.assertIn(code, ('RequestExpired', 'AuthFailure', 'SignatureDoesNotMatch'), body)
      self.assertIn(status, (400, 401, 403), body)

  def test_presigned_query(self):
    if MOTO:
      self.skipTest('moto does not authenticate')
    url = self.ec2.generate_presigned_url('describe_regions', Params={}, ExpiresIn=300)
    self.assertIn('X-Amz-Signature=', url)
    method = 'POST'
    status, body, code = self.kiln.http(method, url)
    if status == 403 and code == 'SignatureDoesNotMatch':
      method = 'GET'  # in case the signer signed a GET
      status, body, code = self.kiln.http(method, url)
    self.assertEqual(status, 200, body)
    self.assertIn('<DescribeRegionsResponse', body)
    tampered = url.replace('Action=DescribeRegions', 'Action=DescribeImages')
    self.assertNotEqual(tampered, url)
    status, body, code = self.kiln.http(method, tampered)
    self.assertEqual(code, 'SignatureDoesNotMatch', body)

  # --- pagination --------------------------------------------------------------------------------

  def test_pagination(self):
    ec2 = self.ec2
    tag = e2e.unique('e2e-page')
    vols, snaps, amis = [], [], []
    try:
      for _ in range(7):
        vols.append(ec2.create_volume(AvailabilityZone=self.az(), Size=1, TagSpecifications=[
            {'ResourceType': 'volume', 'Tags': [{'Key': 'page', 'Value': tag}]}])['VolumeId'])
      e2e.wait(ec2, 'volume_available', VolumeIds=vols)
      for _ in range(7):
        snaps.append(ec2.create_snapshot(VolumeId=vols[0], TagSpecifications=[
            {'ResourceType': 'snapshot', 'Tags': [{'Key': 'page', 'Value': tag}]}])['SnapshotId'])
        e2e.wait(ec2, 'snapshot_completed', SnapshotIds=snaps[-1:])
      for n in range(7):
        amis.append(ec2.register_image(
            Name='%s-%d' % (tag, n), RootDeviceName='/dev/xvda', Architecture='x86_64',
            VirtualizationType='hvm',
            BlockDeviceMappings=[{'DeviceName': '/dev/xvda',
                                  'Ebs': {'SnapshotId': snaps[0]}}])['ImageId'])
      e2e.wait(ec2, 'image_available', ImageIds=amis)

      cases = [
          (ec2.describe_volumes, 'Volumes', 'VolumeId', vols,
           dict(Filters=[{'Name': 'tag:page', 'Values': [tag]}])),
          (ec2.describe_snapshots, 'Snapshots', 'SnapshotId', snaps,
           dict(OwnerIds=['self'], Filters=[{'Name': 'tag:page', 'Values': [tag]}])),
          (ec2.describe_images, 'Images', 'ImageId', amis,
           dict(Owners=['self'], Filters=[{'Name': 'name', 'Values': [tag + '-*']}])),
      ]
      for call, key, id_key, expected, kwargs in cases:
        with self.subTest(key=key):
          op = call.__name__
          members = ec2.meta.service_model.operation_model(
              ec2.meta.method_to_api_mapping[op]).input_shape.members
          if 'MaxResults' not in members:  # DescribeImages before botocore 1.29.x's model
            continue
          pages = e2e.all_pages(call, key, 5, **kwargs)
          ids = [item[id_key] for page in pages for item in page]
          if not MOTO:  # moto ignores MaxResults here
            self.assertGreaterEqual(len(pages), 2, pages)
            self.assertTrue(all(len(p) <= 5 for p in pages), [len(p) for p in pages])
          self.assertEqual(len(ids), len(set(ids)), 'duplicates across pages')
          self.assertEqual(set(ids), set(expected))
          if ec2.can_paginate(op):  # boto3 1.26 has no DescribeImages paginator
            items = [item[id_key] for page in ec2.get_paginator(op).paginate(
                PaginationConfig={'PageSize': 5}, **kwargs) for item in page[key]]
            self.assertEqual(sorted(items), sorted(expected))
      if not MOTO:
        self.assertClientError(('InvalidParameterValue', 'InvalidNextToken'),
                               ec2.describe_snapshots, OwnerIds=['self'], MaxResults=5,
                               NextToken='not-a-token')
        self.assertClientError('InvalidParameterValue', ec2.describe_snapshots,
                               OwnerIds=['self'], MaxResults=4)
        # InvalidSnapshot.InUse while registered images use it.
        self.assertClientError('InvalidSnapshot.InUse', ec2.delete_snapshot,
                               SnapshotId=snaps[0])
    finally:
      for ami in amis:
        ec2.deregister_image(ImageId=ami)
      for s in snaps:
        ec2.delete_snapshot(SnapshotId=s)
      for v in vols:
        ec2.delete_volume(VolumeId=v)

  # --- security groups ---------------------------------------------------------------------------

  def test_security_groups(self):
    """The default VPC and group, a group's life (create, authorize, describe shapes, duplicate)
    and DependencyViolation while an instance is in it."""
    ec2 = self.ec2
    vpcs = ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs']
    self.assertEqual(len(vpcs), 1)
    vpc = vpcs[0]['VpcId']
    self.assertEqual(vpcs[0]['CidrBlock'], '172.31.0.0/16')
    attrs = ec2.describe_account_attributes(AttributeNames=['default-vpc'])['AccountAttributes']
    self.assertEqual(attrs[0]['AttributeValues'], [{'AttributeValue': vpc}])
    subnets = ec2.describe_subnets(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['Subnets']
    self.assertEqual(len(subnets), 3)
    self.assertTrue(all(s['DefaultForAz'] for s in subnets), subnets)
    name = e2e.unique('e2e-sg')
    gid = ec2.create_security_group(GroupName=name, Description='e2e group')['GroupId']
    self.assertTrue(gid.startswith('sg-'), gid)
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,
         'IpRanges': [{'CidrIp': '10.0.0.0/8', 'Description': 'ssh'}]}])
    group = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    self.assertEqual((group['GroupName'], group['Description'], group['VpcId']),
                     (name, 'e2e group', vpc))
    self.assertEqual(group['IpPermissions'], [
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'UserIdGroupPairs': [],
         'IpRanges': [{'CidrIp': '10.0.0.0/8', 'Description': 'ssh'}], 'Ipv6Ranges': [],
         'PrefixListIds': []}])
    self.assertEqual(group['IpPermissionsEgress'][0]['IpProtocol'], '-1')
    self.assertClientError('InvalidPermission.Duplicate', ec2.authorize_security_group_ingress,
                           GroupId=gid, IpProtocol='tcp', FromPort=22, ToPort=22,
                           CidrIp='10.0.0.0/8')
    self.assertClientError('InvalidGroup.Duplicate', ec2.create_security_group, GroupName=name,
                           Description='again')
    iid = ec2.run_instances(ImageId=self.base['ImageId'], MinCount=1, MaxCount=1,
                            InstanceType='t3.micro', SecurityGroupIds=[gid])['Instances'][0]
    iid = iid['InstanceId']
    try:
      inst = e2e.instance(ec2, iid)
      self.assertEqual(inst['SecurityGroups'], [{'GroupName': name, 'GroupId': gid}])
      self.assertEqual(inst['VpcId'], vpc)
      self.assertIn(inst['SubnetId'], [s['SubnetId'] for s in subnets])
      if not MOTO:
        self.assertClientError('DependencyViolation', ec2.delete_security_group, GroupId=gid)
      e2e.wait(ec2, 'instance_running', InstanceIds=[iid])
    finally:
      e2e.terminate(ec2, iid)
    ec2.delete_security_group(GroupId=gid)
    self.assertClientError('InvalidGroup.NotFound', ec2.describe_security_groups, GroupIds=[gid])

  # --- isolation between accounts ----------------------------------------------------------------

  def test_isolation(self):
    if MOTO:
      self.skipTest('accounts are kiln only')
    a = self.ec2
    b_name = e2e.unique('b').replace('-', '_')
    b_profile = self.kiln.create_account(b_name)
    self.assertNotEqual(b_profile['account_id'], self.account)
    b = self.kiln.client(b_name)
    vol = a.create_volume(AvailabilityZone=self.az(), Size=1)['VolumeId']
    e2e.wait(a, 'volume_available', VolumeIds=[vol])
    snap = a.create_snapshot(VolumeId=vol)['SnapshotId']
    e2e.wait(a, 'snapshot_completed', SnapshotIds=[snap])
    private = a.register_image(Name=e2e.unique('e2e-private'), RootDeviceName='/dev/xvda',
                               Architecture='x86_64', VirtualizationType='hvm',
                               BlockDeviceMappings=[{'DeviceName': '/dev/xvda',
                                                     'Ebs': {'SnapshotId': snap}}])['ImageId']
    iid = self.scratch()
    b_iid = None
    try:
      self.assertClientError('InvalidAMIID.NotFound', b.describe_images, ImageIds=[private])
      self.assertEqual(b.describe_images(Owners=[self.account])['Images'], [])
      visible = {i['ImageId'] for i in b.describe_images()['Images']}
      self.assertNotIn(private, visible)
      self.assertIn(self.base['ImageId'], visible)
      self.assertClientError('InvalidAMIID.NotFound', b.run_instances, ImageId=private,
                             MinCount=1, MaxCount=1)
      self.assertClientError('InvalidAMIID.NotFound', b.deregister_image, ImageId=private)
      self.assertClientError('InvalidInstanceID.NotFound', b.describe_instances,
                             InstanceIds=[iid])
      self.assertNotIn(iid, [i['InstanceId'] for r in b.describe_instances()['Reservations']
                             for i in r['Instances']])
      self.assertClientError('InvalidInstanceID.NotFound', b.terminate_instances,
                             InstanceIds=[iid])
      self.assertClientError('InvalidInstanceID.NotFound', b.stop_instances, InstanceIds=[iid])
      self.assertClientError('InvalidInstanceID.NotFound', b.get_console_output,
                             InstanceId=iid)
      self.assertClientError('InvalidInstanceID.NotFound', b.create_image, InstanceId=iid,
                             Name=e2e.unique('e2e-steal'))
      self.assertEqual(e2e.state(a, iid), 'running')
      self.assertClientError('InvalidVolume.NotFound', b.describe_volumes, VolumeIds=[vol])
      self.assertClientError('InvalidVolume.NotFound', b.delete_volume, VolumeId=vol)
      self.assertNotIn(vol, [v['VolumeId'] for v in b.describe_volumes()['Volumes']])
      self.assertClientError('InvalidSnapshot.NotFound', b.describe_snapshots,
                             SnapshotIds=[snap])
      self.assertClientError('InvalidSnapshot.NotFound', b.delete_snapshot, SnapshotId=snap)
      self.assertNotIn(snap, [s['SnapshotId'] for s in b.describe_snapshots()['Snapshots']])
      self.assertClientError('InvalidSnapshot.NotFound', b.create_volume,
                             AvailabilityZone=self.az(), SnapshotId=snap)
      # Nobody deregisters the base image.
      with self.assertRaises(ClientError):
        b.deregister_image(ImageId=self.base['ImageId'])
      with self.assertRaises(ClientError):
        a.deregister_image(ImageId=self.base['ImageId'])
      # B sees and launches the public base image, and may restore its public snapshot.
      self.assertEqual(e2e.base_image(b)['ImageId'], self.base['ImageId'])
      base_snap = [m['Ebs']['SnapshotId'] for m in self.base['BlockDeviceMappings']
                   if m['DeviceName'] == '/dev/xvda'][0]
      b_vol = b.create_volume(AvailabilityZone=self.az(), SnapshotId=base_snap)['VolumeId']
      e2e.wait(b, 'volume_available', VolumeIds=[b_vol])
      b.delete_volume(VolumeId=b_vol)
      b_iid = e2e.run_one(b, self.base['ImageId'], 't3.micro')
      e2e.wait(b, 'instance_running', InstanceIds=[b_iid])
      res = b.describe_instances(InstanceIds=[b_iid])['Reservations'][0]
      self.assertEqual(res['OwnerId'], b_profile['account_id'])
      self.assertClientError('InvalidInstanceID.NotFound', a.describe_instances,
                             InstanceIds=[b_iid])
    finally:
      if b_iid:
        e2e.terminate(b, b_iid, wait_done=False)
      a.deregister_image(ImageId=private)
      a.delete_snapshot(SnapshotId=snap)
      a.delete_volume(VolumeId=vol)



if __name__ == '__main__':
  e2e.main()
