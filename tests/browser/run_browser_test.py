#!/usr/bin/env python3
"""Runs the web console's browser test (console_test.mjs) against a real kilnd.

Starts kilnd from KILN_BUILD_DIR (tests/e2e/kiln_daemon.py: a temp data dir, a free port, the
credentials file), creates a second account for the cross-account connect check, then runs
`node console_test.mjs` with the URL and keys in its environment. Afterwards it terminates any
instance the test left running, stops kilnd (which must exit 0) and removes the data dir.

Never skips: a missing prerequisite (node, Debian's chromium, tests/browser/node_modules, the
built console assets) is a failure with the command that fixes it, so CI cannot pass by not
running the test.
"""

import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'e2e'))

import kiln_daemon  # noqa: E402

CHROMIUM = os.environ.get('KILN_CHROMIUM', '/usr/bin/chromium')


def fail(message):
  sys.stderr.write('browser test: FAILED: %s\n' % message)
  sys.exit(1)


def prerequisites(build):
  node = os.environ.get('KILN_NODE') or shutil.which('node')
  if not node:
    fail('node is not on PATH: run `make deps` (scripts/install-deps.sh installs nodejs)')
  if not os.access(CHROMIUM, os.X_OK):
    fail('%s is missing: run `make deps` (scripts/install-deps.sh installs Debian\'s chromium)'
         % CHROMIUM)
  if not os.path.isdir(os.path.join(HERE, 'node_modules', 'playwright-core')):
    fail('%s/node_modules/playwright-core is missing: run `make deps` '
         '(it runs npm ci --prefix tests/browser)' % HERE)
  if not os.path.exists(os.path.join(build, 'console', 'index.html')):
    fail('%s/console/index.html is missing: build the console (ninja kiln_console, or make)'
         % build)
  if not os.access(os.path.join(build, 'kilnd'), os.X_OK):
    fail('%s/kilnd is missing: build kilnd first (or set KILN_BUILD_DIR)' % build)
  return node


def terminate_leftovers(daemon):
  """Terminates every instance of the default account that is not terminated yet."""
  ec2 = daemon.client()
  ids = [i['InstanceId']
         for r in ec2.describe_instances()['Reservations'] for i in r['Instances']
         if i['State']['Name'] not in ('terminated', 'shutting-down')]
  if not ids:
    return
  print('browser test: terminating instances the test left: %s' % ' '.join(ids), flush=True)
  ec2.terminate_instances(InstanceIds=ids)
  deadline = time.monotonic() + 120
  while time.monotonic() < deadline:
    states = [i['State']['Name'] for r in ec2.describe_instances(InstanceIds=ids)['Reservations']
              for i in r['Instances']]
    if all(s == 'terminated' for s in states):
      return
    time.sleep(0.5)


def main():
  build = kiln_daemon.build_dir()
  node = prerequisites(build)
  artifacts = os.environ.get('KILN_BROWSER_ARTIFACTS') or os.path.join(build, 'browser-artifacts')
  os.makedirs(artifacts, exist_ok=True)

  daemon = kiln_daemon.Daemon()
  rc = 1
  try:
    daemon.start()
    main_profile = daemon.profile()
    other = daemon.create_account('browser-other')
    env = dict(os.environ)
    env.update(
        KILN_URL=daemon.url,
        KILN_ACCESS_KEY_ID=main_profile['aws_access_key_id'],
        KILN_SECRET_ACCESS_KEY=main_profile['aws_secret_access_key'],
        KILN_ACCOUNT_ID=main_profile['account_id'],
        KILN_OTHER_ACCESS_KEY_ID=other['aws_access_key_id'],
        KILN_OTHER_SECRET_ACCESS_KEY=other['aws_secret_access_key'],
        KILN_ARTIFACTS_DIR=artifacts,
        KILN_CHROMIUM=CHROMIUM,
    )
    print('browser test: kilnd at %s (data %s)' % (daemon.url, daemon.data_dir), flush=True)
    rc = subprocess.call([node, os.path.join(HERE, 'console_test.mjs')], env=env, cwd=HERE,
                         stdin=subprocess.DEVNULL)
    if rc != 0:
      print('browser test: kilnd log tail (%s):\n%s' % (daemon.log_path, daemon.log_tail(120)),
            flush=True)
    try:
      terminate_leftovers(daemon)
    finally:
      daemon.stop()
  except Exception as e:  # the harness itself: report it as a failure with kilnd's log
    print('browser test: %s\nkilnd log tail:\n%s' % (e, daemon.log_tail(120)), flush=True)
    rc = rc or 1
  finally:
    daemon.cleanup()
  if rc == 0:
    print('browser test: passed')
  sys.exit(rc)


if __name__ == '__main__':
  main()
