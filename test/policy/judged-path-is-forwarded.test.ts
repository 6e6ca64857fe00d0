// The path in the access log (the one the policy judged) is byte for byte the path the upstream receives, even for
// characters a URL parser re-encodes.
import t from 'tap';
import { startPolicyRig } from './lib/policy-proxy.js';

const get = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Request-Id: probe\r\n\r\n`;

t.test('judged path === forwarded path', async (t) => {
  const rig = await startPolicyRig();
  t.teardown(() => rig.close());
  // Raw `"<>\`{}` are not allowed in a URI path; the upstream URL builder encodes them, so the judge must too.
  // A segment that only starts with dots is an ordinary name, forwarded as written.
  const targets = [
    '/files/..hidden',
    '/a/...b',
    '/a{b}',
    '/a"b',
    '/a<b>',
    '/a`b',
    '/a|b^c[d]',
    '/caf%C3%A9',
    '/caf%c3%a9',
    '/a%25',
    '/a%7b%7D',
  ];
  for (const target of targets) {
    const r = await rig.send(rig.orders, get(target));
    t.equal(r.status, 200, `${target} forwarded`);
    const access = rig.proxy
      .logLines()
      .filter((l) => l.msg === 'access')
      .at(-1);
    t.equal(
      rig.upstream.received.at(-1)?.url,
      access?.path,
      `${target}: upstream saw ${String(access?.path)}, the judged path`,
    );
  }
  t.equal(rig.upstream.received.at(-1)?.url, '/a%7B%7D', 'escapes upper-cased');
});

t.test('a target the router cannot decode gets the fixed 400, without echoing it', async (t) => {
  const rig = await startPolicyRig();
  t.teardown(() => rig.close());
  const before = rig.proxy.logLines().filter((l) => l.msg === 'access').length;
  const r = await rig.send(rig.orders, get('/%FF%FE'));
  t.equal(r.status, 400);
  t.match(r.raw, /\r\n\r\n\{"error":"bad_request","requestId":"probe"\}$/);
  t.notMatch(r.raw, /%FF|FST_/, 'the target and framework codes are not echoed');
  const access = rig.proxy.logLines().filter((l) => l.msg === 'access');
  t.equal(access.length, before + 1, 'one access line');
  t.equal(access.at(-1)?.decision, 'bad_request');
  t.equal(rig.upstream.received.length, 0);
});
