// A plain-HTTP upstream is a warning only when its host is not loopback; unix and https upstreams never are.
import t from 'tap';
import type { Upstream } from '../../../src/config/types.js';
import { evaluatePosture } from '../../../src/posture/findings.js';
import { probePosture } from '../../../src/posture/probe.js';
import { makeFsRoot } from '../../posture/helpers/fixtures.js';

function upstreamFor(text: string): Upstream {
  const url = new URL(text);
  const kind = url.protocol === 'https:' ? 'https' : 'http';
  return { kind, url, host: url.hostname, port: Number(url.port || (kind === 'https' ? 443 : 80)), origin: url.origin };
}

const cases: { upstream: Upstream; flagged: boolean }[] = [
  { upstream: upstreamFor('http://127.0.0.1:8080'), flagged: false },
  { upstream: upstreamFor('http://127.10.0.3:8080'), flagged: false },
  { upstream: upstreamFor('http://localhost:8080'), flagged: false },
  { upstream: upstreamFor('http://[::1]:8080'), flagged: false },
  { upstream: upstreamFor('http://[::ffff:127.0.0.1]:8080'), flagged: false },
  { upstream: upstreamFor('http://10.0.0.5:8080'), flagged: true },
  { upstream: upstreamFor('http://api:8080'), flagged: true },
  { upstream: upstreamFor('http://[2001:db8::1]:8080'), flagged: true },
  { upstream: upstreamFor('http://128.0.0.1:8080'), flagged: true },
  { upstream: upstreamFor('http://localhost.example.com:8080'), flagged: true },
  { upstream: upstreamFor('https://10.0.0.5:8443'), flagged: false },
  { upstream: { kind: 'unix', socketPath: '/run/api.sock', origin: 'http://localhost' }, flagged: false },
];

t.test('upstreams', async (t) => {
  const fs = makeFsRoot();
  t.teardown(fs.cleanup);
  for (const { upstream, flagged } of cases) {
    const facts = probePosture({ keyFiles: [], upstream }, { fsRoot: fs.fsRoot });
    const finding = evaluatePosture(facts).find((f) => f.id === 'plaintext-upstream');
    const name = upstream.kind === 'unix' ? upstream.socketPath : upstream.url.href;
    if (flagged) {
      t.equal(facts.plainHttpUpstream, upstream.origin, name);
      t.equal(finding?.severity, 'warn', name);
      t.match(finding?.message, 'forge identity headers', name);
    } else {
      t.equal(facts.plainHttpUpstream, null, name);
      t.equal(finding, undefined, name);
    }
  }
});
