"""kilnd as a child process for the end-to-end tests (see kiln_e2e.py for the environment).

Daemon starts kilnd (or, as a development aid, moto_server) in the foreground on a free port
with a data dir under /tmp, and offers what a test needs to talk to it through its public
interface only: boto3 clients, raw Query requests (signed, unsigned, with a skewed clock), the
AWS CLI, `kilnd account create`, SIGTERM and kill -9.
"""

import configparser
import http.client
import json
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

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

REGION = 'us-east-1'
TARGET = os.environ.get('KILN_E2E_TARGET', 'kiln')
MOTO = TARGET == 'moto'
BASE_IMAGE_NAME = 'minimal-linux-x86_64'
GiB = 1 << 30

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Waiters poll fast: kiln is local, and the suite must stay quick.
FAST = {'Delay': 1, 'MaxAttempts': 300}

_daemons = []  # every Daemon started by this process, for logs after a failure (kiln_e2e.main)


def build_dir():
  return os.environ.get('KILN_BUILD_DIR') or os.path.join(REPO, 'build')


def kilnd_path():
  return os.path.join(build_dir(), 'kilnd')


def free_port():
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def unique(prefix):
  """A name unique across runs (images are unique per account; data dirs are fresh anyway)."""
  return '%s-%d-%s' % (prefix, os.getpid(), os.urandom(3).hex())


def error_code(err):
  return err.response.get('Error', {}).get('Code')


def http_status(err):
  return err.response.get('ResponseMetadata', {}).get('HTTPStatusCode')


def _tail(path, lines):
  try:
    with open(path, 'rb') as f:
      f.seek(0, os.SEEK_END)
      size = f.tell()
      f.seek(max(0, size - 256 * 1024))
      text = f.read().decode('utf-8', 'replace')
  except OSError as e:
    return '(no log: %s)' % e
  return '\n'.join(text.splitlines()[-lines:])


def _mounts_under(path):
  """Mount points at or below path: never rm -rf through a mount (an instance's FUSE volume)."""
  path = os.path.realpath(path)
  found = []
  try:
    with open('/proc/self/mounts') as f:
      for line in f:
        mnt = line.split()[1].replace('\\040', ' ')
        if mnt == path or mnt.startswith(path + '/'):
          found.append(mnt)
  except OSError:
    pass
  return found


class SkewedSigV4(botocore.auth.SigV4Auth):
  """SigV4 signing as if the clock read `when` (for the clock-skew rule)."""

  def __init__(self, credentials, service, region, when):
    super().__init__(credentials, service, region)
    self._when = when

  def add_auth(self, request):
    request.context['timestamp'] = self._when.strftime(botocore.auth.SIGV4_TIMESTAMP)
    self._modify_request_before_signing(request)
    canonical = self.canonical_request(request)
    signature = self.signature(self.string_to_sign(request, canonical), request)
    self._inject_signature_to_request(request, signature)


class Daemon:
  """One kilnd (or, as a development aid, moto_server) in the foreground of a child process.

  Owns a temp root /tmp/kiln-e2e-XXXX with data/ (the data dir) and kilnd.log (stdout and
  stderr). start() returns once the port accepts connections (kilnd listens only when its base
  images are available). stop() sends SIGTERM and requires exit status 0 within 30 s.
  """

  def __init__(self, root=None, env=None):
    """`env`: variables added to kilnd's environment. KILN_RUN_DIR (where kilnd writes
    kilnd.json) defaults to ROOT/run, so a test's kilnd never replaces the one `make run`
    started in /run/kiln."""
    self.root = root or tempfile.mkdtemp(prefix='kiln-e2e-', dir='/tmp')
    self.env = dict(env or {})
    self.env.setdefault('KILN_RUN_DIR', os.path.join(self.root, 'run'))
    self.data_dir = os.path.join(self.root, 'data')
    self.log_path = os.path.join(self.root, 'kilnd.log')
    self.proc = None
    self.port = None
    self.starts = 0
    _daemons.append(self)

  @property
  def url(self):
    return 'http://127.0.0.1:%d' % self.port

  @property
  def credentials_file(self):
    return os.path.join(self.data_dir, 'credentials')

  # --- lifecycle -------------------------------------------------------------------------------

  def start(self, timeout=120):
    """Starts the daemon (again, on the same data dir, after stop or kill9) on a new port."""
    assert self.proc is None, 'already running'
    self.port = free_port()
    self.starts += 1
    log = open(self.log_path, 'ab')
    log.write(('\n=== e2e harness: start #%d on port %d ===\n' % (self.starts, self.port)).encode())
    log.flush()
    if MOTO:
      cmd = [os.environ.get('KILN_MOTO_SERVER') or shutil.which('moto_server') or 'moto_server',
             '-H', '127.0.0.1', '-p', str(self.port)]
      os.makedirs(self.data_dir, exist_ok=True)
      if not os.path.exists(self.credentials_file):
        self._write_moto_profile('default')
    else:
      exe = kilnd_path()
      if not os.access(exe, os.X_OK):
        raise RuntimeError('%s is missing: build kilnd first (or set KILN_BUILD_DIR)' % exe)
      cmd = [exe, '--data-dir', self.data_dir, '--listen', '127.0.0.1:%d' % self.port]
    self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 cwd=self.root, close_fds=True, env=dict(os.environ, **self.env))
    log.close()
    deadline = time.monotonic() + timeout
    while True:
      rc = self.proc.poll()
      if rc is not None:
        self.proc = None
        raise RuntimeError('%s exited with status %s before listening; log tail:\n%s' %
                           (cmd[0], rc, self.log_tail()))
      try:
        with socket.create_connection(('127.0.0.1', self.port), timeout=1):
          break
      except OSError:
        pass
      if time.monotonic() > deadline:
        self.kill9()
        raise RuntimeError('%s did not listen on port %d within %d s; log tail:\n%s' %
                           (cmd[0], self.port, timeout, self.log_tail()))
      time.sleep(0.1)
    if not os.path.exists(self.credentials_file):
      raise RuntimeError('%s listens but wrote no %s' % (cmd[0], self.credentials_file))
    return self

  def stop(self, timeout=30):
    """SIGTERM; the daemon must exit with status 0 within timeout seconds."""
    if self.proc is None:
      return
    proc, self.proc = self.proc, None
    proc.send_signal(signal.SIGTERM)
    try:
      rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait()
      raise AssertionError('kilnd did not exit within %d s of SIGTERM; log tail:\n%s' %
                           (timeout, self.log_tail()))
    if MOTO:
      return  # moto_server's exit status on SIGTERM is not ours to check
    if rc != 0:
      raise AssertionError('kilnd exited with status %d after SIGTERM; log tail:\n%s' %
                           (rc, self.log_tail()))
    # A clean exit leaves nothing mounted (instances' volumes, FUSE files, loop mounts).
    deadline = time.monotonic() + 5
    while _mounts_under(self.data_dir) and time.monotonic() < deadline:
      time.sleep(0.1)
    left = _mounts_under(self.data_dir)
    if left:
      raise AssertionError('kilnd exited 0 but left mounts under its data dir: %s' % left)

  def kill9(self):
    """kill -9, as a crash: nothing of kilnd runs after this."""
    if self.proc is None:
      return
    proc, self.proc = self.proc, None
    proc.kill()
    proc.wait()

  def cleanup(self):
    """Removes the data dir (keeps the log for main()). Refuses while anything is mounted in it."""
    if self.proc is not None:
      self.kill9()
    if os.environ.get('KILN_E2E_KEEP') == '1':
      return
    mounts = _mounts_under(self.data_dir)
    if mounts:
      sys.stderr.write('e2e: NOT removing %s: still mounted: %s\n' % (self.data_dir, mounts))
      return
    shutil.rmtree(self.data_dir, ignore_errors=True)

  def log_tail(self, lines=80):
    return _tail(self.log_path, lines)

  # --- accounts and clients --------------------------------------------------------------------

  def profile(self, name='default'):
    """The profile `name` of DIR/credentials: aws_access_key_id, aws_secret_access_key,
    account_id."""
    cp = configparser.ConfigParser(interpolation=None)
    with open(self.credentials_file) as f:
      cp.read_file(f)
    if not cp.has_section(name):
      raise KeyError('no profile [%s] in %s' % (name, self.credentials_file))
    p = dict(cp.items(name))
    for key in ('aws_access_key_id', 'aws_secret_access_key', 'account_id'):
      if not p.get(key):
        raise AssertionError('profile [%s] has no %s' % (name, key))
    if not MOTO and not re.fullmatch(r'\d{12}', p['account_id']):
      raise AssertionError('account id %r is not 12 digits' % p['account_id'])
    return p

  def _write_moto_profile(self, name):
    with open(self.credentials_file, 'a') as f:
      f.write('[%s]\naws_access_key_id = AKIA%s\naws_secret_access_key = %s\n'
              'account_id = 123456789012\n' % (name, os.urandom(8).hex().upper(),
                                              os.urandom(20).hex()))

  def create_account(self, name):
    """`kilnd account create --data-dir DIR NAME`; returns the new profile."""
    if MOTO:
      self._write_moto_profile(name)
      return self.profile(name)
    out = subprocess.run([kilnd_path(), 'account', 'create', '--data-dir', self.data_dir, name],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
      raise AssertionError('kilnd account create %s: status %d\n%s%s' %
                           (name, out.returncode, out.stdout, out.stderr))
    p = self.profile(name)
    if p['aws_access_key_id'] not in out.stdout:
      raise AssertionError('kilnd account create did not print the new key:\n' + out.stdout)
    return p

  def session(self, profile='default', secret=None):
    p = self.profile(profile)
    return boto3.session.Session(aws_access_key_id=p['aws_access_key_id'],
                                 aws_secret_access_key=secret or p['aws_secret_access_key'],
                                 region_name=REGION)

  def client(self, profile='default', service='ec2', secret=None, **config):
    """A boto3 client on this daemon. No retries: a retry would hide a server error."""
    opts = dict(retries={'max_attempts': 0}, connect_timeout=10, read_timeout=300)
    opts.update(config)
    return self.session(profile, secret).client(service, endpoint_url=self.url,
                                                config=botocore.config.Config(**opts))

  # --- raw requests ----------------------------------------------------------------------------

  def raw(self, params, profile='default', method='POST', sign=True, when=None, secret=None):
    """Sends an EC2 Query request without botocore's serializer or validation.

    Returns (HTTP status, body text, error code or None). `when` signs with a skewed clock;
    `secret` signs with another secret; sign=False sends no Authorization at all.
    """
    body = urllib.parse.urlencode(params)
    headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
    url = self.url + '/'
    if method == 'GET':
      url, data = url + '?' + body, None
    else:
      data = body
    if sign:
      p = self.profile(profile)
      creds = botocore.credentials.Credentials(p['aws_access_key_id'],
                                               secret or p['aws_secret_access_key'])
      req = botocore.awsrequest.AWSRequest(method=method, url=url, data=data, headers=headers)
      if when is None:
        botocore.auth.SigV4Auth(creds, 'ec2', REGION).add_auth(req)
      else:
        SkewedSigV4(creds, 'ec2', REGION, when).add_auth(req)
      headers = dict(req.headers.items())
    return self.http(method, url, data, headers)

  def http(self, method, url, data=None, headers=None):
    """A plain HTTP request to the daemon: (status, body text, error code or None)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
      path = u.path + ('?' + u.query if u.query else '')
      conn.request(method, path, body=data.encode() if isinstance(data, str) else data,
                   headers=headers or {})
      resp = conn.getresponse()
      text = resp.read().decode('utf-8', 'replace')
      m = re.search(r'<Code>([^<]*)</Code>', text)
      return resp.status, text, (m.group(1) if m else None)
    finally:
      conn.close()

  # --- the AWS CLI -----------------------------------------------------------------------------

  def aws(self, cli, args, profile='default', check=True, timeout=300):
    """Runs `CLI --endpoint-url URL --output json ec2 ARGS...` with DIR/credentials.

    Returns (exit status, parsed JSON or None, stderr). With check, a non-zero status raises.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_SHARED_CREDENTIALS_FILE=self.credentials_file, AWS_CONFIG_FILE='/dev/null',
               AWS_PROFILE=profile, AWS_DEFAULT_REGION=REGION, AWS_PAGER='',
               AWS_MAX_ATTEMPTS='1', AWS_RETRY_MODE='standard')
    cmd = [cli, '--endpoint-url', self.url, '--output', 'json', 'ec2'] + list(args)
    out = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout)
    if check and out.returncode != 0:
      raise AssertionError('%s: status %d\nstdout: %s\nstderr: %s' %
                           (' '.join(cmd), out.returncode, out.stdout, out.stderr))
    parsed = json.loads(out.stdout) if out.stdout.strip() else None
    return out.returncode, parsed, out.stderr


# --- the AWS CLI binaries ----------------------------------------------------------------------


def cli_version(path):
  out = subprocess.run([path, '--version'], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
  return (out.stdout + out.stderr).strip()


def aws_cli_v2():
  return os.environ.get('KILN_AWS_CLI') or '/usr/bin/aws'


def aws_cli_v1():
  """The pyenv's AWS CLI v1: KILN_AWS_CLI_V1, else the first `aws` on PATH outside /usr/bin."""
  if os.environ.get('KILN_AWS_CLI_V1'):
    return os.environ['KILN_AWS_CLI_V1']
  system = {os.path.realpath(d) for d in ('/usr/bin', '/bin', '/usr/local/bin')}
  for d in os.environ.get('PATH', '').split(os.pathsep):
    if not d or os.path.realpath(d) in system:
      continue
    candidate = os.path.join(d, 'aws')
    if os.access(candidate, os.X_OK):
      return candidate
  return None
