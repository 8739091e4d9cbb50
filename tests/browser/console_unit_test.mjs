// Unit tests of the console's pure modules (no browser): EC2's image-name rule, device names,
// the name-search pattern, user data encoding and the chart's axis steps. `node --test`.

import assert from 'node:assert/strict';
import test from 'node:test';
import {niceStep} from '../../console/js/chart.js';
import {base64Utf8, deviceKey, freeDevices, imageNameProblem, namePattern, nextEphemeral} from '../../console/js/validate.js';

test('image names follow EC2\'s rule', () => {
  for (const ok of ['abc', 'web-2024.01', "my image (v2) [x] @home/o'neil_1", 'a'.repeat(128)]) {
    assert.equal(imageNameProblem(ok), null, ok);
  }
  assert.match(imageNameProblem('ab'), /at least 3/);
  assert.match(imageNameProblem('a'.repeat(129)), /at most 128/);
  assert.match(imageNameProblem('bad*name?'), /Not allowed: \* \?/);
  assert.match(imageNameProblem('tab\there'), /Not allowed/);
  assert.match(imageNameProblem('ünï'), /Not allowed/);
});

test('device names compare across sd/xvd', () => {
  assert.equal(deviceKey('/dev/sdb'), deviceKey('/dev/xvdb'));
  assert.notEqual(deviceKey('/dev/sdb'), deviceKey('/dev/sdc'));
  const free = freeDevices(['/dev/xvda', '/dev/xvdb', '/dev/sdf']);
  assert.equal(free[0], '/dev/sdc');
  assert.ok(!free.includes('/dev/sdb') && !free.includes('/dev/sdf'));
  assert.equal(free.at(-1), '/dev/sdz');
  assert.equal(free.length, 23);
  assert.equal(nextEphemeral(['ephemeral0', '']), 'ephemeral1');
});

test('name search: substring unless it has a wildcard', () => {
  assert.equal(namePattern('  '), null);
  assert.equal(namePattern('minimal'), '*minimal*');
  assert.equal(namePattern('minimal-*'), 'minimal-*');
  assert.equal(namePattern('web-?'), 'web-?');
});

test('user data is base64 of UTF-8', () => {
  assert.equal(base64Utf8('#!/bin/sh\necho é\n'), Buffer.from('#!/bin/sh\necho é\n').toString('base64'));
});

test('chart axis steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(0), 1);
  assert.equal(niceStep(812e6), 200e6);
  assert.equal(niceStep(5), 1);
  assert.equal(niceStep(9.5e9), 2e9);
});
