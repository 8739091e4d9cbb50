#!/usr/bin/env python3
"""EC2 API throughput of kilnd against moto_server, in the same run (issue 6's benchmark).

  1. Starts a fresh kilnd and moto_server (the machine's pyenv), each on a free port, and
     prints both versions.
  2. Registers N images (200) on each: RegisterImage from the base image's root snapshot on
     kilnd; RegisterImage (moto's own, no snapshot needed) on moto.
  3. Client throughput: P concurrent boto3 clients (8 processes, not threads: the GIL), each
     alternating DescribeImages with a name filter and CreateTags on one of the images, for a
     fixed duration: requests/s and p50/p99 latency per operation and overall, per server.
  4. Server capacity: wrk (16 connections) replays ONE SigV4-signed DescribeImages request (an
     Authorization header with X-Amz-Date: kilnd accepts it for 15 minutes) for a fixed
     duration against each server: requests/s and latency, and the ratio.

Goal (issue 6): kilnd's capacity at least 20x moto's. The verdict is printed as MET or NOT MET.

Usage: python3 bench/api/api_throughput_bench.py [--build-dir build] [--images 200]
         [--clients 8] [--client-seconds 10] [--wrk-seconds 10] [--connections 16]
Needs: kilnd built (build/kilnd and build/images), moto_server and wrk on PATH.
"""

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'tests', 'e2e'))

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import kiln_daemon  # noqa: E402

REGION = 'us-east-1'
NAME_PREFIX = 'bench-img-'
# Matches bench-img-7 and bench-img-70..79 (and 700.. with more images): a handful per call.
NAME_FILTER = NAME_PREFIX + '7*'


class Server:
  """Where a server listens and the credentials to sign with."""

  def __init__(self, label, url, key_id, secret):
    self.label, self.url, self.key_id, self.secret = label, url, key_id, secret

  def client(self):
    return boto3.session.Session(
        aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
        region_name=REGION).client('ec2', endpoint_url=self.url, config=botocore.config.Config(
            retries={'max_attempts': 0}, connect_timeout=10, read_timeout=120,
            max_pool_connections=2))


# --- starting the servers ----------------------------------------------------------------------


def start_moto(root):
  port = kiln_daemon.free_port()
  exe = os.environ.get('KILN_MOTO_SERVER') or shutil.which('moto_server')
  if not exe:
    raise RuntimeError('moto_server is not on PATH (set KILN_MOTO_SERVER)')
  log = open(os.path.join(root, 'moto.log'), 'wb')
  proc = subprocess.Popen([exe, '-H', '127.0.0.1', '-p', str(port)], stdin=subprocess.DEVNULL,
                          stdout=log, stderr=log, close_fds=True)
  log.close()
  deadline = time.monotonic() + 60
  while True:
    if proc.poll() is not None:
      raise RuntimeError('moto_server exited with %s; see %s/moto.log' % (proc.returncode, root))
    try:
      with socket.create_connection(('127.0.0.1', port), timeout=1):
        break
    except OSError:
      if time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError('moto_server did not listen within 60 s')
      time.sleep(0.1)
  return proc, Server('moto', 'http://127.0.0.1:%d' % port, 'AKIAMOTOBENCH0000000', 'x' * 40)


def moto_version(exe):
  """moto's version as the interpreter that runs moto_server sees it."""
  real = exe
  if 'pyenv/shims' in exe:  # a pyenv shim: the script it runs names its interpreter
    real = subprocess.run(['pyenv', 'which', 'moto_server'], capture_output=True,
                          text=True).stdout.strip() or exe
  with open(real, 'rb') as f:
    shebang = f.readline().decode('utf-8', 'replace')
  py = shebang[2:].strip().split()[0] if shebang.startswith('#!') else sys.executable
  out = subprocess.run([py, '-c', 'import moto; print(moto.__version__)'], capture_output=True,
                       text=True)
  return out.stdout.strip() or '?'


def versions(build_dir):
  git = subprocess.run(['git', '-C', kiln_daemon.REPO, 'describe', '--always', '--dirty'],
                       capture_output=True, text=True).stdout.strip()
  exe = os.environ.get('KILN_MOTO_SERVER') or shutil.which('moto_server')
  return ('kilnd %s (commit %s)' % (os.path.join(build_dir, 'kilnd'), git or '?'),
          'moto_server %s (%s)' % (moto_version(exe), exe))


# --- images ------------------------------------------------------------------------------------


def register_images(server, n, snapshot_id):
  ec2 = server.client()
  ids = []
  for i in range(n):
    kwargs = dict(Name='%s%d' % (NAME_PREFIX, i), RootDeviceName='/dev/xvda',
                  Architecture='x86_64', VirtualizationType='hvm')
    if snapshot_id:
      kwargs['BlockDeviceMappings'] = [{'DeviceName': '/dev/xvda',
                                        'Ebs': {'SnapshotId': snapshot_id}}]
    ids.append(ec2.register_image(**kwargs)['ImageId'])
  seen = ec2.describe_images(Owners=['self'], Filters=[
      {'Name': 'name', 'Values': [NAME_PREFIX + '*']}])['Images']
  if len(seen) != n:
    raise RuntimeError('%s: %d images registered, %d described' % (server.label, n, len(seen)))
  return ids


# --- client throughput -------------------------------------------------------------------------


def client_worker(server, image_ids, seconds, start_at, worker, out):
  """One process: alternates DescribeImages (name filter) and CreateTags until the deadline;
  sends back {op: [latency s]} and the error count."""
  ec2 = server.client()
  lat = {'DescribeImages': [], 'CreateTags': []}
  errors = 0
  while time.time() < start_at:
    time.sleep(0.001)
  deadline = time.monotonic() + seconds
  i = 0
  while time.monotonic() < deadline:
    t0 = time.perf_counter()
    try:
      if i % 2 == 0:
        ec2.describe_images(Owners=['self'], Filters=[{'Name': 'name', 'Values': [NAME_FILTER]}])
        op = 'DescribeImages'
      else:
        ec2.create_tags(Resources=[image_ids[(worker * 7 + i) % len(image_ids)]],
                        Tags=[{'Key': 'bench-w%d' % worker, 'Value': str(i)}])
        op = 'CreateTags'
      lat[op].append(time.perf_counter() - t0)
    except Exception:  # counted and reported: a failing server must not look fast
      errors += 1
    i += 1
  out.put((lat, errors))


def pct(values, p):
  if not values:
    return float('nan')
  s = sorted(values)
  return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def client_throughput(server, image_ids, clients, seconds):
  ctx = multiprocessing.get_context('spawn')  # fresh interpreters: no inherited sockets
  out = ctx.Queue()
  start_at = time.time() + 3  # all spawned and connected before the clock starts
  procs = [ctx.Process(target=client_worker, args=(server, image_ids, seconds, start_at, w, out))
           for w in range(clients)]
  for p in procs:
    p.start()
  results = [out.get(timeout=seconds + 120) for _ in procs]
  for p in procs:
    p.join(30)
  merged = {'DescribeImages': [], 'CreateTags': []}
  errors = 0
  for lat, err in results:
    errors += err
    for op, v in lat.items():
      merged[op].extend(v)
  return merged, errors


# --- server capacity with wrk ------------------------------------------------------------------


def signed_request(server):
  """One header-signed DescribeImages POST: (body, headers)."""
  body = urllib.parse.urlencode([('Action', 'DescribeImages'), ('Version', '2016-11-15'),
                                 ('Owner.1', 'self'), ('Filter.1.Name', 'name'),
                                 ('Filter.1.Value.1', NAME_FILTER)])
  req = botocore.awsrequest.AWSRequest(
      method='POST', url=server.url + '/', data=body,
      headers={'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'})
  botocore.auth.SigV4Auth(botocore.credentials.Credentials(server.key_id, server.secret), 'ec2',
                          REGION).add_auth(req)
  return body, dict(req.headers.items())


def lua_string(s):
  return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def wrk_capacity(server, seconds, connections, tmp):
  body, headers = signed_request(server)
  # The request must succeed before it is replayed: a fast error is not capacity.
  u = urllib.parse.urlsplit(server.url)
  conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
  conn.request('POST', '/', body=body.encode(), headers=headers)
  resp = conn.getresponse()
  text = resp.read().decode('utf-8', 'replace')
  conn.close()
  if resp.status != 200 or '<DescribeImagesResponse' not in text:
    raise RuntimeError('%s: the signed request fails: %d %s' % (server.label, resp.status,
                                                                text[:500]))
  matched = text.count('<imageId>')
  script = os.path.join(tmp, 'wrk-%s.lua' % server.label)
  with open(script, 'w') as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.body = %s\n' % lua_string(body))
    for k, v in headers.items():
      if k.lower() not in ('content-length', 'host'):
        f.write('wrk.headers[%s] = %s\n' % (lua_string(k), lua_string(v)))
  cmd = ['wrk', '-t', '2', '-c', str(connections), '-d', '%ds' % seconds, '--latency',
         '--timeout', '10s', '-s', script, server.url + '/']
  out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
  if out.returncode != 0:
    raise RuntimeError('wrk failed: %s%s' % (out.stdout, out.stderr))
  return parse_wrk(out.stdout), matched, ' '.join(cmd[:-3] + ['SCRIPT', cmd[-1]])


def to_ms(text):
  m = re.match(r'([\d.]+)(us|ms|s|m)$', text)
  if not m:
    return float('nan')
  return float(m.group(1)) * {'us': 0.001, 'ms': 1.0, 's': 1000.0, 'm': 60000.0}[m.group(2)]


def parse_wrk(text):
  r = {'raw': text}
  m = re.search(r'Requests/sec:\s+([\d.]+)', text)
  r['rps'] = float(m.group(1)) if m else float('nan')
  m = re.search(r'Latency\s+(\S+)\s+(\S+)\s+(\S+)', text)
  r['avg_ms'], r['max_ms'] = (to_ms(m.group(1)), to_ms(m.group(3))) if m else (None, None)
  for p in ('50', '99'):
    m = re.search(r'^\s+%s%%\s+(\S+)' % p, text, re.M)
    r['p%s_ms' % p] = to_ms(m.group(1)) if m else float('nan')
  m = re.search(r'(\d+) requests in', text)
  r['requests'] = int(m.group(1)) if m else 0
  m = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
  r['non2xx'] = int(m.group(1)) if m else 0
  m = re.search(r'Socket errors: (.*)', text)
  r['socket_errors'] = m.group(1).strip() if m else ''
  return r


# --- main --------------------------------------------------------------------------------------


def report_clients(label, lat, errors, seconds):
  every = lat['DescribeImages'] + lat['CreateTags']
  print('  %-6s %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms   (%d requests, %d errors)' % (
      label, len(every) / seconds, 1000 * pct(every, 50), 1000 * pct(every, 99), len(every),
      errors))
  for op in ('DescribeImages', 'CreateTags'):
    v = lat[op]
    print('         %-15s %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms' % (
        op, len(v) / seconds, 1000 * pct(v, 50), 1000 * pct(v, 99)))
  return len(every) / seconds


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument('--build-dir', default=os.path.join(kiln_daemon.REPO, 'build'))
  ap.add_argument('--images', type=int, default=200)
  ap.add_argument('--clients', type=int, default=8)
  ap.add_argument('--client-seconds', type=float, default=10)
  ap.add_argument('--wrk-seconds', type=int, default=10)
  ap.add_argument('--connections', type=int, default=16)
  args = ap.parse_args()
  build = os.path.abspath(args.build_dir)
  os.environ['KILN_BUILD_DIR'] = build
  if not shutil.which('wrk'):
    raise SystemExit('wrk is not installed (scripts/install-deps.sh installs it)')

  tmp = tempfile.mkdtemp(prefix='kiln-bench-api-')
  daemon = kiln_daemon.Daemon()
  moto_proc = None
  try:
    daemon.start()
    p = daemon.profile()
    kiln = Server('kilnd', daemon.url, p['aws_access_key_id'], p['aws_secret_access_key'])
    moto_proc, moto = start_moto(tmp)
    kiln_version, moto_version = versions(build)

    base = kiln.client().describe_images(Owners=['kiln'], Filters=[
        {'Name': 'name', 'Values': [kiln_daemon.BASE_IMAGE_NAME]}])['Images'][0]
    snap = base['BlockDeviceMappings'][0]['Ebs']['SnapshotId']
    timings = {}
    ids = {}
    for server, snapshot in ((kiln, snap), (moto, None)):
      t0 = time.monotonic()
      ids[server.label] = register_images(server, args.images, snapshot)
      timings[server.label] = time.monotonic() - t0

    clients = {}
    for server in (kiln, moto):
      clients[server.label] = client_throughput(server, ids[server.label], args.clients,
                                                args.client_seconds)
    capacity = {}
    for server in (kiln, moto):
      capacity[server.label] = wrk_capacity(server, args.wrk_seconds, args.connections, tmp)
  finally:
    if moto_proc is not None:
      moto_proc.send_signal(signal.SIGTERM)
      try:
        moto_proc.wait(15)
      except subprocess.TimeoutExpired:
        moto_proc.kill()
        moto_proc.wait()
    daemon.stop()
    daemon.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)

  print('kiln-bench api-throughput (%s; %d cores)' % (
      time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()), os.cpu_count()))
  print('  %s' % kiln_version)
  print('  %s' % moto_version)
  print('  %d images registered: kilnd %.2f s, moto %.2f s' % (
      args.images, timings['kilnd'], timings['moto']))
  print('  %d boto3 client processes, %.0f s each, DescribeImages (name=%s) + CreateTags:' % (
      args.clients, args.client_seconds, NAME_FILTER))
  rates = {label: report_clients(label, *clients[label], args.client_seconds)
           for label in ('kilnd', 'moto')}
  print('    client throughput kilnd / moto  %.1fx' % (rates['kilnd'] / rates['moto']))
  print('  server capacity: wrk, %d connections, %d s, one signed DescribeImages '
        '(name=%s) replayed:' % (args.connections, args.wrk_seconds, NAME_FILTER))
  for label in ('kilnd', 'moto'):
    r, matched, cmd = capacity[label]
    print('  %-6s %9.1f req/s  avg %7.2f ms  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  '
          '(%d requests, %d non-2xx, %d images per response%s)' % (
              label, r['rps'], r['avg_ms'], r['p50_ms'], r['p99_ms'], r['max_ms'],
              r['requests'], r['non2xx'], matched,
              ', socket errors: ' + r['socket_errors'] if r['socket_errors'] else ''))
  print('    (%s)' % capacity['kilnd'][2])
  k, m = capacity['kilnd'][0], capacity['moto'][0]
  ratio = k['rps'] / m['rps'] if m['rps'] else float('inf')
  clean = k['non2xx'] == 0 and m['non2xx'] == 0
  print('    capacity kilnd / moto  %.1fx  goal >= 20x  %s%s' % (
      ratio, 'MET' if ratio >= 20 and clean else 'NOT MET',
      '' if clean else ' (non-2xx responses: figures invalid)'))


if __name__ == '__main__':
  main()
