// Pure checks the pages share (no DOM): EC2's image-name rules and device names.

// EC2's AMI name rule: 3-128 characters of letters, numbers, ( ) [ ] space . / - ' @ _.
const NAME_CHARS = /^[A-Za-z0-9()[\] ./\-'@_]*$/;

// Returns null when name is a valid AMI name, else the reason to show.
export function imageNameProblem(name) {
  if (name.length < 3) return 'The name must be at least 3 characters long.';
  if (name.length > 128) return 'The name must be at most 128 characters long.';
  if (!NAME_CHARS.test(name)) {
    const bad = [...new Set([...name].filter((c) => !NAME_CHARS.test(c)))].join(' ');
    return 'Not allowed: ' + bad + ' (use letters, numbers, spaces and ( ) [ ] . / - \' @ _).';
  }
  return null;
}

export const MAX_DESCRIPTION = 255;

// The letter part of a device name, so /dev/sdb and /dev/xvdb compare equal (EC2 treats them
// as the same device; kilnd's SameDevice does the same).
export function deviceKey(device) {
  const m = /^\/dev\/(?:xv|s|h)d([a-z]+)(\d*)$/.exec(device || '');
  return m ? m[1] + m[2] : device;
}

// The devices /dev/sdb../dev/sdz that none of `used` occupies.
export function freeDevices(used) {
  const taken = new Set(used.map(deviceKey));
  const out = [];
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const dev = '/dev/sd' + String.fromCharCode(c);
    if (!taken.has(deviceKey(dev))) out.push(dev);
  }
  return out;
}

// The first ephemeralN name that none of `used` (virtual names) takes.
export function nextEphemeral(used) {
  for (let n = 0; ; n++) {
    if (!used.includes('ephemeral' + n)) return 'ephemeral' + n;
  }
}

// A search box's text as a name filter: kept as typed when it has a wildcard, else a
// substring match.
export function namePattern(text) {
  const t = text.trim();
  if (!t) return null;
  return /[*?]/.test(t) ? t : '*' + t + '*';
}

// UTF-8 text as base64 (RunInstances' UserData).
export function base64Utf8(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
