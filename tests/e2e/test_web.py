#!/usr/bin/env python3
"""The web console's server side on a real kilnd (issue 7): sign-in (refused with a wrong
secret), the session cookie, /kiln/v1/ec2 refused without the cookie or the CSRF header and
answering DescribeImages with both, sign-out, the console's assets, kilnd.json in KILN_RUN_DIR,
and the connect endpoint: a shell in a running instance over a WebSocket, authenticated by the
cookie (with Origin) or by SigV4, running a command, resizing its terminal, sending the exit
frame; refusals for another account's instance (404), a stopped one (409), no credentials
(401) and a cookie without or with a foreign Origin (403); the shell killed when the client
goes.

Needs the `websocket` module (python3-websocket): Debian's /usr/bin/python3 has it, so ctest
runs this file under that interpreter only.
"""

import http.client
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
import websocket  # noqa: E402  (python3-websocket)

import kiln_e2e as e2e  # noqa: E402


def http_call(url, method, path, body=None, headers=None):
  """(status, headers as a list, body text)."""
  u = urllib.parse.urlsplit(url)
  conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
  try:
    conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                 headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.getheaders(), resp.read().decode('utf-8', 'replace')
  finally:
    conn.close()


def header(headers, name):
  for n, v in headers:
    if n.lower() == name.lower():
      return v
  return None


class Terminal:
  """A connect session as a client sees it: output bytes, the exit frame, the close code."""

  def __init__(self, ws):
    self.ws = ws
    self.out = b''
    self.exit_code = None
    self.close_code = None

  def type(self, text):
    self.ws.send_binary(text.encode())

  def resize(self, rows, cols):
    self.ws.send(json.dumps({'type': 'resize', 'rows': rows, 'cols': cols}))

  def _one(self):
    opcode, data = self.ws.recv_data()
    if opcode == websocket.ABNF.OPCODE_BINARY:
      self.out += data
    elif opcode == websocket.ABNF.OPCODE_TEXT:
      msg = json.loads(data)
      if msg.get('type') == 'exit':
        self.exit_code = msg['code']
    elif opcode == websocket.ABNF.OPCODE_CLOSE:
      payload = data.data if hasattr(data, 'data') else data
      self.close_code = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 1005
      return False
    return True

  def until(self, needle, timeout=60):
    """Reads until `needle` (bytes or str) shows in the output; returns the output."""
    needle = needle.encode() if isinstance(needle, str) else needle
    deadline = time.monotonic() + timeout
    while needle not in self.out:
      if time.monotonic() > deadline:
        raise AssertionError('%r not in the terminal within %d s; output:\n%r' %
                             (needle, timeout, self.out[-2000:]))
      if not self._one():
        raise AssertionError('connection closed before %r; output:\n%r' % (needle, self.out))
    return self.out.decode('utf-8', 'replace')

  def to_end(self, timeout=60):
    """Reads until the server closes."""
    deadline = time.monotonic() + timeout
    while self.close_code is None:
      if time.monotonic() > deadline:
        raise AssertionError('the server did not close within %d s' % timeout)
      self._one()


class WebTest(e2e.KilnTestCase):

  @classmethod
  def setUpClass(cls):
    # KilnTestCase's setup, with kilnd.json going to a directory of this test's own.
    cls.run_dir = tempfile.mkdtemp(prefix='kiln-e2e-run-', dir='/tmp')
    cls.kiln = e2e.Daemon(env={'KILN_RUN_DIR': cls.run_dir})
    try:
      cls.kiln.start()
      cls.ec2 = cls.kiln.client()
      cls.account = cls.kiln.profile()['account_id']
      cls.base = e2e.base_image(cls.ec2)
      cls.other = cls.kiln.create_account('other')
    except BaseException:
      cls.kiln.cleanup()
      raise

  @classmethod
  def tearDownClass(cls):
    try:
      super().tearDownClass()  # stops kilnd (SIGTERM, exit 0)
      left = os.path.exists(os.path.join(cls.run_dir, 'kilnd.json'))
    finally:
      shutil.rmtree(cls.run_dir, ignore_errors=True)
    if left:
      raise AssertionError('kilnd.json is still there after a clean exit')

  # --- helpers -----------------------------------------------------------------------------------

  @property
  def host(self):
    return '127.0.0.1:%d' % self.kiln.port

  def sign_in(self, profile='default', secret=None, key=None):
    """POST /kiln/v1/session: (status, parsed body, cookie value or None)."""
    p = self.kiln.profile(profile)
    body = json.dumps({'accessKeyId': key or p['aws_access_key_id'],
                       'secretAccessKey': secret or p['aws_secret_access_key']})
    status, headers, text = http_call(self.kiln.url, 'POST', '/kiln/v1/session', body,
                                      {'Content-Type': 'application/json'})
    cookie = None
    m = re.match(r'kiln_session=([0-9a-f]{64});', header(headers, 'Set-Cookie') or '')
    if m:
      cookie = m.group(1)
    return status, json.loads(text) if text else None, cookie, headers

  def session(self, profile='default'):
    status, body, cookie, _ = self.sign_in(profile)
    self.assertEqual(status, 200, body)
    return cookie, body['csrfToken']

  def console_ec2(self, params, cookie=None, csrf=None):
    headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
    if cookie:
      headers['Cookie'] = 'kiln_session=' + cookie
    if csrf:
      headers['X-Kiln-Csrf'] = csrf
    return http_call(self.kiln.url, 'POST', '/kiln/v1/ec2', urllib.parse.urlencode(params),
                     headers)

  def connect_path(self, instance_id, query=''):
    return '/kiln/v1/instances/%s/connect%s' % (instance_id, query)

  def connect_cookie(self, instance_id, cookie, query='', origin=True):
    kwargs = dict(cookie='kiln_session=' + cookie, timeout=60)
    if origin is True:
      kwargs['origin'] = 'http://' + self.host
    elif origin:
      kwargs['origin'] = origin
    else:
      kwargs['suppress_origin'] = True
    url = 'ws://%s%s' % (self.host, self.connect_path(instance_id, query))
    return Terminal(websocket.create_connection(url, **kwargs))

  def connect_signed(self, instance_id, profile='default', query=''):
    p = self.kiln.profile(profile)
    path = self.connect_path(instance_id, query)
    req = botocore.awsrequest.AWSRequest(method='GET', url=self.kiln.url + path)
    creds = botocore.credentials.Credentials(p['aws_access_key_id'], p['aws_secret_access_key'])
    botocore.auth.SigV4Auth(creds, 'ec2', e2e.REGION).add_auth(req)
    headers = ['%s: %s' % (k, v) for k, v in req.headers.items() if k.lower() != 'host']
    return Terminal(websocket.create_connection('ws://%s%s' % (self.host, path), header=headers,
                                                suppress_origin=True, timeout=60))

  def refused(self, fn, *args, **kwargs):
    """The HTTP status a refused connect answered with."""
    try:
      t = fn(*args, **kwargs)
    except websocket.WebSocketBadStatusException as e:
      return e.status_code
    t.ws.close()
    self.fail('the connect was accepted')

  # --- kilnd.json --------------------------------------------------------------------------------

  def test_run_file_names_this_kilnd(self):
    with open(os.path.join(self.run_dir, 'kilnd.json')) as f:
      info = json.load(f)
    self.assertEqual(info['endpoint'], self.kiln.url)
    self.assertEqual(info['dataDir'], os.path.abspath(self.kiln.data_dir))
    self.assertEqual(info['pid'], self.kiln.proc.pid)
    self.assertEqual(os.stat(os.path.join(self.run_dir, 'kilnd.json')).st_mode & 0o777, 0o644)

  # --- sign-in and the console's EC2 calls -------------------------------------------------------

  def test_sign_in_and_session(self):
    status, body, cookie, headers = self.sign_in()
    self.assertEqual(status, 200, body)
    self.assertEqual(body['accountId'], self.account)
    self.assertEqual(body['accessKeyId'], self.kiln.profile()['aws_access_key_id'])
    self.assertEqual(body['accountName'], 'default')
    self.assertRegex(body['csrfToken'], r'^[0-9a-f]{64}$')
    self.assertRegex(body['expiresAt'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
    self.assertRegex(header(headers, 'Set-Cookie'),
                     r'^kiln_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; '
                     r'Max-Age=43200$')
    status, _, text = http_call(self.kiln.url, 'GET', '/kiln/v1/session',
                                headers={'Cookie': 'kiln_session=' + cookie})
    self.assertEqual(status, 200, text)
    self.assertEqual(json.loads(text)['csrfToken'], body['csrfToken'])
    status, _, text = http_call(self.kiln.url, 'GET', '/kiln/v1/session')
    self.assertEqual((status, json.loads(text)['code']), (401, 'AuthFailure'))

  def test_sign_in_refused(self):
    status, body, cookie, _ = self.sign_in(secret='x' * 40)
    self.assertEqual((status, body['code'], cookie), (401, 'AuthFailure', None))
    status, body, cookie, _ = self.sign_in(key='AKIA' + 'Z' * 16)
    self.assertEqual((status, body['code'], cookie), (401, 'AuthFailure', None))
    status, _, text = http_call(self.kiln.url, 'POST', '/kiln/v1/session', '{"accessKeyId": 1}',
                                {'Content-Type': 'application/json'})
    self.assertEqual((status, json.loads(text)['code']), (400, 'MalformedRequest'))

  def test_console_ec2_needs_cookie_and_csrf(self):
    cookie, csrf = self.session()
    params = {'Action': 'DescribeImages', 'Version': '2016-11-15', 'Owner.1': 'kiln'}
    status, _, text = self.console_ec2(params)
    self.assertEqual(status, 401, text)
    self.assertIn('<Code>AuthFailure</Code>', text)
    status, _, text = self.console_ec2(params, csrf=csrf)
    self.assertEqual(status, 401, text)
    status, _, text = self.console_ec2(params, cookie=cookie)
    self.assertEqual(status, 403, text)
    self.assertIn('<Code>AuthFailure</Code>', text)
    self.assertIn('missing or invalid CSRF token', text)
    status, _, text = self.console_ec2(params, cookie=cookie, csrf='0' * 64)
    self.assertEqual(status, 403, text)
    status, _, text = self.console_ec2(params, cookie=cookie, csrf=csrf)
    self.assertEqual(status, 200, text)
    self.assertIn('<name>%s</name>' % e2e.BASE_IMAGE_NAME, text)
    # The Query API's own errors, as at "/".
    status, _, text = self.console_ec2({'Action': 'Nope', 'Version': '2016-11-15'}, cookie, csrf)
    self.assertEqual(status, 400)
    self.assertIn('<Code>InvalidAction</Code>', text)

  def test_logout(self):
    cookie, csrf = self.session()
    path = '/kiln/v1/session/logout'
    status, _, _ = http_call(self.kiln.url, 'POST', path,
                             headers={'Cookie': 'kiln_session=' + cookie})
    self.assertEqual(status, 403)
    status, headers, _ = http_call(self.kiln.url, 'POST', path,
                                   headers={'Cookie': 'kiln_session=' + cookie,
                                            'X-Kiln-Csrf': csrf})
    self.assertEqual(status, 204)
    self.assertIn('Max-Age=0', header(headers, 'Set-Cookie'))
    status, _, _ = self.console_ec2({'Action': 'DescribeImages', 'Version': '2016-11-15'},
                                    cookie, csrf)
    self.assertEqual(status, 401)

  def test_console_assets(self):
    status, headers, _ = http_call(self.kiln.url, 'GET', '/console')
    self.assertEqual((status, header(headers, 'Location')), (301, '/console/'))
    status, headers, text = http_call(self.kiln.url, 'GET', '/console/')
    if status == 404:
      self.assertIn('not built', text)
    else:
      self.assertEqual(status, 200)
      self.assertIn("script-src 'self'", header(headers, 'Content-Security-Policy'))
      self.assertEqual(header(headers, 'X-Content-Type-Options'), 'nosniff')
    status, _, _ = http_call(self.kiln.url, 'GET', '/console/../credentials')
    self.assertEqual(status, 404)
    # The Query API at "/" is unchanged.
    status, _, code = self.kiln.raw({'Action': 'DescribeRegions', 'Version': '2016-11-15'})
    self.assertEqual(status, 200, code)

  # --- connect -----------------------------------------------------------------------------------

  def test_connect_with_cookie_runs_a_shell(self):
    iid = self.scratch()
    cookie, _ = self.session()
    t = self.connect_cookie(iid, cookie, '?rows=20&cols=70')
    t.type('echo hi-$((6*7))\n')
    t.until('hi-42')
    t.type('stty size\n')
    t.until('20 70')
    t.resize(33, 111)
    t.type('stty size\n')
    t.until('33 111')
    t.type('echo host-$(hostname)\n')
    t.until('host-' + iid)
    t.type('exit 7\n')
    t.to_end()
    self.assertEqual(t.exit_code, 7)
    self.assertEqual(t.close_code, 1000)

  def test_connect_with_sigv4(self):
    iid = self.scratch()
    t = self.connect_signed(iid)
    t.type('echo signed-$((40+2))\n')
    t.until('signed-42')
    t.type('exit\n')
    t.to_end()
    self.assertEqual(t.exit_code, 0)
    self.assertEqual(t.close_code, 1000)

  def test_connect_refusals(self):
    iid = self.scratch()
    cookie, _ = self.session()
    url = 'ws://%s%s' % (self.host, self.connect_path(iid))
    self.assertEqual(self.refused(websocket.create_connection, url, suppress_origin=True), 401)
    self.assertEqual(self.refused(self.connect_cookie, iid, '0' * 64), 401)
    self.assertEqual(self.refused(self.connect_cookie, iid, cookie, origin=False), 403)
    self.assertEqual(self.refused(self.connect_cookie, iid, cookie, origin='http://evil.example'),
                     403)
    self.assertEqual(self.refused(self.connect_cookie, 'i-0123456789abcdef0', cookie), 404)
    # Another account, signed or signed in, sees the instance as not existing.
    self.assertEqual(self.refused(self.connect_signed, iid, 'other'), 404)
    other_cookie, _ = self.session('other')
    self.assertEqual(self.refused(self.connect_cookie, iid, other_cookie), 404)

  def test_connect_to_a_stopped_instance_is_409(self):
    iid = e2e.run_one(self.ec2, self.base['ImageId'], 't3.micro')
    try:
      e2e.wait(self.ec2, 'instance_running', InstanceIds=[iid])
      self.ec2.stop_instances(InstanceIds=[iid])
      e2e.wait(self.ec2, 'instance_stopped', InstanceIds=[iid])
      cookie, _ = self.session()
      self.assertEqual(self.refused(self.connect_cookie, iid, cookie), 409)
      self.assertEqual(self.refused(self.connect_signed, iid), 409)
    finally:
      e2e.terminate(self.ec2, iid, wait_done=False)

  def test_client_close_kills_the_shell(self):
    iid = self.scratch()
    t = self.connect_signed(iid)
    t.type('echo $$ > /tmp/e2e-shell.pid; echo saved-$((1+1))\n')
    t.until('saved-2')
    t.ws.close()
    deadline = time.monotonic() + 30
    while True:
      probe = self.connect_signed(iid)
      # $((0)) keeps the echoed command line from matching what it prints.
      probe.type('if kill -0 $(cat /tmp/e2e-shell.pid); then echo st$((0))-alive; '
                 'else echo st$((0))-gone; fi; echo end$((0))\n')
      out = probe.until('end0', timeout=30)
      probe.type('exit\n')
      probe.to_end()
      if 'st0-gone' in out:
        break
      self.assertIn('st0-alive', out)
      if time.monotonic() > deadline:
        self.fail('the shell still runs 30 s after its client went:\n' + out)
      time.sleep(0.5)


if __name__ == '__main__':
  e2e.main()
