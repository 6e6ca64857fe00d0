// Hostile certificates over real TLS: unusual string types, empty and huge subjects, hundreds of SANs, control bytes,
// odd serials — admitted with printable identity headers or refused with a reason, never a crash.
import t from 'tap';
import http from 'node:http';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { openssl } from '../helpers/pki.js';
import { parseResponses, type ParsedResponse } from '../soak/lib/http1-parse.mjs';
import { proxyArgs, startProxyProcess } from '../soak/lib/processes.mjs';
import { ALLOW_PROD, makeReliabilityPki } from './lib/fixture.js';
import { hostileSpecs, makeHostileLeaf } from './lib/hostile-certs.js';

const IDENTITY_HEADERS = /^(x-client-|x-forwarded-client-cert$|client-cert)/;
const PRINTABLE = /^[\x20-\x7e]*$/;

function requestOnce(
  port: number,
  ca: string,
  cert: string,
  key: string,
  path: string,
): Promise<{ response?: ParsedResponse; error?: string }> {
  return new Promise((resolve) => {
    let response: ParsedResponse | undefined;
    let error: string | undefined;
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, cert, key });
    const timer = setTimeout(() => s.destroy(), 5000);
    const parser = parseResponses(
      (r) => {
        response = r;
        s.destroy();
      },
      () => s.destroy(),
    );
    s.on('secureConnect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    s.on('data', (c: Buffer) => parser.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ response, error });
    });
  });
}

t.test('hostile certificates: admitted with printable identity headers, or refused with a reason', async (t) => {
  const pki = makeReliabilityPki();
  const received = new Map<string, string[]>();
  // Large header limit: identity headers of a 120-RDN subject or 400 SANs are big, and that is not what is tested here.
  const upstream = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    received.set(req.url ?? '', req.rawHeaders);
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await startProxyProcess({
    args: proxyArgs({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      cert: pki.server.cert,
      key: pki.server.key,
      clientCa: pki.ca.cert,
      extra: ALLOW_PROD,
    }),
  });
  t.teardown(async () => {
    await proxy.stop('SIGKILL', 2000);
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    pki.cleanup();
  });

  const summary: string[] = [];
  for (const spec of hostileSpecs()) {
    const leaf = makeHostileLeaf(pki.dir, spec, pki.ca);
    const path = `/hostile/${spec.name}`;
    const logsBefore = proxy.logLines().length;
    const { response, error } = await requestOnce(proxy.port, pki.caPem, leaf.certPem, leaf.keyPem, path);
    t.ok(proxy.alive(), `${spec.name}: proxy still running`);
    const headers = received.get(path);
    if (response?.status === 200) {
      t.ok(headers, `${spec.name}: admitted, and the upstream got the request`);
      const identity: Array<[string, string]> = [];
      for (let i = 0; i < (headers ?? []).length; i += 2) {
        const name = (headers![i] ?? '').toLowerCase();
        if (IDENTITY_HEADERS.test(name)) identity.push([name, headers![i + 1] ?? '']);
      }
      t.ok(
        identity.some(([n]) => n === 'x-client-subject'),
        `${spec.name}: X-Client-Subject present`,
      );
      t.same(
        identity.filter(([, v]) => !PRINTABLE.test(v)).map(([n]) => n),
        [],
        `${spec.name}: every identity header value is printable ASCII`,
      );
      t.notOk(
        (headers ?? []).some((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-injected'),
        `${spec.name}: no header injected from certificate contents`,
      );
      // The serial is the one part with a single right answer that openssl states independently.
      const serial = identity.find(([n]) => n === 'x-client-serial')?.[1];
      const expected = openssl(['x509', '-noout', '-serial', '-in', leaf.cert])
        .replace(/\\\s*\n\s*/g, '')
        .trim()
        .replace(/^serial=/, '')
        .toUpperCase();
      if (!expected.startsWith('-'))
        t.equal(
          serial?.replace(/^0+(?=.)/, ''),
          expected.replace(/^0+(?=.)/, ''),
          `${spec.name}: serial matches openssl`,
        );
      const size = identity.reduce((n, [k, v]) => n + k.length + v.length, 0);
      summary.push(
        `${spec.name}: admitted (${identity.length} identity headers, ${size} bytes, serial ${serial}, subject ${JSON.stringify(identity.find(([n]) => n === 'x-client-subject')?.[1]?.slice(0, 90))})`,
      );
    } else {
      t.notOk(headers, `${spec.name}: refused, and the upstream saw nothing`);
      const reasons = proxy
        .logLines()
        .slice(logsBefore)
        .map((l) => l.reason)
        .filter((r): r is string => typeof r === 'string');
      const why = response ? `HTTP ${response.status}` : `connection closed (${error ?? 'no error'})`;
      t.ok(
        response?.status === 403 || reasons.length > 0,
        `${spec.name}: refused with a reason (${why}; logged ${JSON.stringify(reasons)})`,
      );
      summary.push(`${spec.name}: refused, ${why}, reason ${reasons.join('/') || 'n/a'}`);
    }
  }
  t.comment(`hostile certificates:\n  ${summary.join('\n  ')}`);
});
