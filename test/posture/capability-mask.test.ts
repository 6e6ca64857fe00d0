// Capability masks decode to the same names util-linux's setpriv prints, and odd masks are handled.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { decodeCapabilityMask } from '../../src/posture/capabilities.js';

t.test("this process's bounding set matches setpriv --dump", async (t) => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const mask = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '';
  const dump = spawnSync('setpriv', ['--dump'], { encoding: 'utf8' }).stdout;
  const line = dump.split('\n').find((l) => l.startsWith('Capability bounding set:')) ?? '';
  const value = line.slice('Capability bounding set:'.length).trim();
  const expected = value === '[none]' ? [] : value.split(',').map((n) => `CAP_${n.toUpperCase()}`);
  t.same(decodeCapabilityMask(mask), expected);
});

t.test('single bits from linux/capability.h', async (t) => {
  t.same(decodeCapabilityMask('0000000000200000'), ['CAP_SYS_ADMIN']); // bit 21
  t.same(decodeCapabilityMask('0000000000001000'), ['CAP_NET_ADMIN']); // bit 12
  t.same(decodeCapabilityMask('0000000000080000'), ['CAP_SYS_PTRACE']); // bit 19
  t.same(decodeCapabilityMask('0000000000010000'), ['CAP_SYS_MODULE']); // bit 16
  t.same(decodeCapabilityMask('0000000000000006'), ['CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH']);
  t.same(decodeCapabilityMask('0000010000000000'), ['CAP_CHECKPOINT_RESTORE']); // bit 40
  t.same(decodeCapabilityMask('0000000000000000'), []);
});

t.test('a capability newer than the table keeps its bit number', async (t) => {
  t.same(decodeCapabilityMask('8000000000000001'), ['CAP_CHOWN', 'CAP_63']);
});

t.test('text that is not a mask is refused', async (t) => {
  t.equal(decodeCapabilityMask(''), null);
  t.equal(decodeCapabilityMask('xyz'), null);
  t.equal(decodeCapabilityMask('00000000000000000'), null, 'more than 64 bits');
});
