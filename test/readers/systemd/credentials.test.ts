import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { readUnit, unitCredentials } from '../../../src/readers/systemd/index.js';

function creds(service: string, passwd = 'root:x:0:0::/root:/bin/sh\nmail:x:8:8::/var/mail:/usr/sbin/nologin\n') {
  const root = mkdtempSync(join(tmpdir(), 'bc-creds-'));
  for (const [p, t] of Object.entries({ '/etc/passwd': passwd, '/etc/systemd/system/d.service': `[Service]\nExecStart=/usr/sbin/d\n${service}` })) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), t);
  }
  const fs = new RootFs(root);
  const unit = readUnit(fs, 'd.service').unit;
  if (!unit) throw new Error('unit not read');
  return unitCredentials(unit, fs);
}

describe('unitCredentials', () => {
  it('root keeps CAP_NET_BIND_SERVICE unless the bounding set drops it', () => {
    expect(creds('').capNetBindService).toBeUndefined();
    expect(creds('CapabilityBoundingSet=~CAP_NET_BIND_SERVICE\n').capNetBindService).toBe(false);
    expect(creds('CapabilityBoundingSet=CAP_CHOWN CAP_SETUID\n').capNetBindService).toBe(false);
    expect(creds('CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID\n').capNetBindService).toBeUndefined();
    // Merged: a plain line by OR, a ~ line by AND NOT.
    expect(creds('CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n').capNetBindService).toBeUndefined();
  });

  it('a non-root User= needs CAP_NET_BIND_SERVICE as an ambient capability that the bounding set keeps', () => {
    expect(creds('User=mail\n')).toMatchObject({ uid: 8, capNetBindService: false });
    expect(creds('User=mail\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n')).toMatchObject({ uid: 8, capNetBindService: true });
    expect(creds('User=mail\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=~CAP_NET_BIND_SERVICE\n')).toMatchObject({ capNetBindService: false });
    expect(creds('User=nobody-here\n')).toMatchObject({ uid: 65534, capNetBindService: false });
    expect(creds('User=1234\n').uid).toBe(1234);
  });
});
