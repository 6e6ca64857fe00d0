// Read-only root detection from mountinfo text: per-mount and superblock flags, stacked and escaped mounts.
import t from 'tap';
import { isRootReadOnly, parseMountinfo } from '../../../src/posture/mountinfo.js';

const PROC = '22 27 0:21 / /proc rw,relatime - proc proc rw';

t.test('plain read-write root', async (t) => {
  t.equal(isRootReadOnly(`${PROC}\n27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n`), false);
});

t.test('per-mount ro (remount,bind,ro or readOnlyRootFilesystem)', async (t) => {
  t.equal(isRootReadOnly('43 42 254:0 / / ro,relatime - ext4 /dev/vda rw,discard\n'), true);
});

t.test('superblock ro with a rw mount', async (t) => {
  t.equal(isRootReadOnly('1 0 7:0 / / rw,relatime - squashfs /dev/loop0 ro\n'), true);
});

t.test('optional fields before the separator (docker overlay root)', async (t) => {
  const line =
    '612 540 0:52 / / ro,relatime master:233 shared:7 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w';
  t.equal(isRootReadOnly(line), true);
});

t.test('a writable mount stacked on a read-only one wins', async (t) => {
  const text = ['30 1 254:0 / / ro - ext4 /dev/vda rw', '31 30 0:40 / / rw - tmpfs tmpfs rw'].join('\n');
  t.equal(isRootReadOnly(text), false);
  const reversed = ['31 30 0:40 / / ro - tmpfs tmpfs rw', '30 1 254:0 / / rw - ext4 /dev/vda rw'].join('\n');
  t.equal(isRootReadOnly(reversed), true, 'the topmost by parent link, not by line order');
});

t.test('escaped mount points are decoded, so "/\\040" is not mistaken for /', async (t) => {
  const text = '27 1 254:0 / / ro - ext4 /dev/vda rw\n50 27 0:60 / /my\\040dir rw - tmpfs tmpfs rw\n';
  t.same(
    parseMountinfo(text).map((m) => m.mountPoint),
    ['/', '/my dir'],
  );
  t.equal(isRootReadOnly(text), true);
});

t.test('no root mount listed', async (t) => {
  t.equal(isRootReadOnly(PROC), null);
  t.equal(isRootReadOnly(''), null);
});
