// The hand-built access line is byte for byte the line pino writes for `log.info(entry, 'access')` with the same
// base fields (a lone surrogate aside, checked separately): pino is the independent source here, and the format
// operators parse must not change under them.
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { formatAccessLine, type AccessEntry } from '../../../src/record/access-log.js';

function pinoLine(entry: AccessEntry, time: string, pid: number): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  const log = pino({ level: 'info', base: { pid }, timestamp: () => `,"time":"${time}"` }, sink);
  log.info(entry, 'access');
  return out;
}

const time = '2026-11-28T16:40:01.123Z';

const entries: Array<[string, AccessEntry]> = [
  [
    'allowed, every field',
    {
      requestId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      method: 'GET',
      path: '/api/v1/items',
      status: 200,
      durationMs: 1.234,
      subject: 'CN=billing,OU=payments,O=Example Corp',
      uri: 'spiffe://example.org/ns/prod/sa/billing',
      serial: '0A1B2C',
      issuer: 'CN=Payments CA\\, EU,O=Example Corp',
      decision: 'allow',
      route: 'routes[0] /api',
      rule: 'billing-read',
      reason: undefined,
      grpcStatus: undefined,
    },
  ],
  [
    'refused by a route: route label, null rule, fixed reason',
    {
      requestId: 'r-0',
      method: 'GET',
      path: '/admin/x',
      status: 403,
      durationMs: 0.5,
      subject: 'CN=orders',
      serial: '0A',
      decision: 'deny',
      route: 'routes[0] /admin',
      rule: null,
      reason: 'no_rule_matched',
    },
  ],
  [
    'decided by the default',
    {
      requestId: 'r-00',
      method: 'GET',
      path: '/',
      status: 403,
      durationMs: 1,
      decision: 'deny',
      route: 'default',
      rule: null,
      reason: 'no_default',
    },
  ],
  [
    'a route label that needs escaping (route paths are operator config)',
    {
      requestId: 'r-000',
      method: 'GET',
      path: '/a',
      status: 200,
      durationMs: 1,
      decision: 'allow',
      route: 'routes[3] /a"b\\c*',
      rule: 'cn=x',
    },
  ],
  [
    'refused before identity, null rule, reason',
    {
      requestId: 'r-1',
      method: 'POST',
      path: '/',
      status: 403,
      durationMs: 0,
      decision: 'deny',
      rule: null,
      reason: 'no rule matched',
    },
  ],
  [
    'gRPC status',
    {
      requestId: 'r-2',
      method: 'POST',
      path: '/pkg.Svc/Call',
      status: 200,
      durationMs: 12.5,
      decision: 'allow',
      rule: null,
      grpcStatus: 7,
    },
  ],
  [
    'strings that need escaping',
    {
      requestId: 'r-"3"',
      method: 'G\\ET',
      path: '/a"b\\c\u0001\n\t/é/日本/😀',
      status: 502,
      durationMs: 1e-7,
      subject: 'CN=Ünïcødé\\, Inc.,O="quoted"',
      uri: 'spiffe://x/\u001f',
      serial: '00',
      decision: 'allow',
      reason: 'upstream cut\r\n',
    },
  ],
  [
    'long strings (pino has a short-string fast path)',
    {
      requestId: 'x'.repeat(200),
      method: 'PATCH',
      path: `/${'p'.repeat(5000)}"`,
      status: 499,
      durationMs: 123456.789,
      subject: 'CN=' + 'long name '.repeat(50),
      decision: 'allow',
    },
  ],
];

// Durations as the proxy logs them (rounded to the microsecond) and a few it never produces.
const durations = [
  0,
  0.001,
  2 ** 43 - 0.001,
  2 ** 43 + 0.5,
  0.01,
  0.1,
  0.5,
  1,
  1.05,
  2.1,
  9.999,
  12.034,
  100.1,
  999.999,
  1000,
  1000.5,
  86_400_000.001,
  1e-7,
  1.0001,
  -1,
  NaN,
  Infinity,
  1e21,
];
entries.push(
  ...durations.map((durationMs): [string, AccessEntry] => [
    `durationMs ${durationMs}`,
    {
      requestId: 'r',
      method: 'GET',
      path: '/',
      status: 200,
      durationMs,
      decision: 'allow',
    },
  ]),
);

for (const [name, entry] of entries) {
  t.test(name, async (t) => {
    const ours = formatAccessLine(entry, time, 4242);
    t.equal(ours, pinoLine(entry, time, 4242), 'same bytes as pino');
    t.ok(ours.endsWith('}\n') && !ours.slice(0, -1).includes('\n'), 'one line');
    t.same(JSON.parse(ours).path, entry.path, 'path round-trips through JSON');
  });
}

t.test('a lone surrogate still gives valid JSON that names the character', async (t) => {
  const line = formatAccessLine(
    { requestId: 'r', method: 'GET', path: '/\ud800', status: 200, durationMs: 1, decision: 'allow' },
    time,
    1,
  );
  t.match(line, /"path":"\/\\ud800"/);
  t.equal(JSON.parse(line).path, '/\ud800');
});

t.test('callers alternating line after line: each line carries its own identity', async (t) => {
  const callers: Array<Partial<AccessEntry>> = [
    { subject: 'CN=a,O=Example', uri: 'spiffe://x/a', serial: '01', issuer: 'CN=CA' },
    { subject: 'CN=b,O=Example', uri: 'spiffe://x/b', serial: '01', issuer: 'CN=CA' },
    { subject: 'CN=a,O=Example', serial: '01', issuer: 'CN=CA' },
    { subject: 'CN=a,O=Example', uri: 'spiffe://x/a', serial: '02', issuer: 'CN=CA' },
    { subject: 'CN=a,O=Example', uri: 'spiffe://x/a', serial: '01', issuer: 'CN=Other CA' },
    {},
    { subject: '', uri: '', serial: '', issuer: '' },
    { subject: 'CN=q\\"uoted' },
  ];
  for (const order of [
    [0, 1, 0, 0, 2, 0, 3, 4, 5, 0, 6, 5, 7, 0],
    [5, 6, 7, 6, 5, 1, 1, 0],
  ]) {
    for (const i of order) {
      // In the entry type's field order, which pino follows.
      const entry: AccessEntry = {
        requestId: `r${i}`,
        method: 'GET',
        path: '/',
        status: 200,
        durationMs: 1,
        ...callers[i],
        decision: 'allow',
      };
      t.equal(formatAccessLine(entry, time, 7), pinoLine(entry, time, 7), `caller ${i}`);
    }
  }
});
