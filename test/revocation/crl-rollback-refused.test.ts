// An older CRL never replaces a newer one for the same issuer: a lower cRLNumber, an older thisUpdate or an expired
// CRL over a current one is refused on reload (counted as a failure, logged), and the revoked caller stays refused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  baseConfig,
  httpsRequest,
  makeTestPki,
  metricValue,
  startRecordingUpstream,
  startTestProxy,
} from '../helpers/gate-harness.js';
import { chainPem, makeCa, makeCrlWithNumber, makeLeaf, openssl } from '../helpers/pki.js';

const HOUR = 3_600_000;

t.test('CRL rollbacks are refused per issuer', async (t) => {
  const pki = makeTestPki();
  const inter = makeCa(pki.dir, 'inter', { subject: '/CN=Team Intermediate', issuer: pki.ca });
  const revoked = makeLeaf(pki.dir, 'revoked', inter, {
    subject: '/CN=revoked',
    san: ['URI:spiffe://example.org/ns/prod/sa/revoked'],
  });
  const bundle = join(pki.dir, 'bundle.pem');
  writeFileSync(bundle, chainPem(pki.ca, inter));
  const now = Date.now();
  const current = makeCrlWithNumber(pki.dir, inter, [revoked], {
    crlNumber: 5,
    lastUpdateMs: now - 2 * HOUR,
    nextUpdateMs: now + 24 * HOUR,
  });
  const rootCrl = makeCrlWithNumber(pki.dir, pki.ca, [], { crlNumber: 9 });
  const crlPath = join(pki.dir, 'crls.pem');
  const writeCrls = (...files: string[]): void =>
    writeFileSync(crlPath, files.map((f) => openssl(['crl', '-in', f])).join(''));
  writeCrls(rootCrl, current);
  const upstream = await startRecordingUpstream();
  const proxy = await startTestProxy(baseConfig(pki, upstream.url, { clientCa: [bundle], crl: [crlPath] }));
  t.teardown(async () => {
    await proxy.close(0);
    await upstream.close();
    pki.cleanup();
  });
  const callRevoked = () =>
    httpsRequest({ port: proxy.port, ca: pki.ca.certPem, cert: chainPem(revoked, inter), key: revoked.keyPem }).then(
      (r) => r.status,
      () => 0,
    );
  t.equal(await callRevoked(), 0, 'at start the revoked caller is refused in the handshake');

  const rollbacks: [string, string, RegExp][] = [
    [
      'a lower cRLNumber',
      makeCrlWithNumber(pki.dir, inter, [], { crlNumber: 4, lastUpdateMs: now - HOUR }),
      /cRLNumber 4, lower than the loaded 5/,
    ],
    [
      'an older thisUpdate',
      makeCrlWithNumber(pki.dir, inter, [], { crlNumber: 6, lastUpdateMs: now - 3 * HOUR }),
      /was issued .* before the loaded one/,
    ],
    [
      'an expired CRL over a current one',
      makeCrlWithNumber(pki.dir, inter, [], { crlNumber: 7, lastUpdateMs: now - HOUR, nextUpdateMs: now - 60_000 }),
      /expired at .* while the loaded one is current/,
    ],
  ];
  let failures = await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' });
  for (const [name, older, message] of rollbacks) {
    writeCrls(rootCrl, older);
    t.equal(proxy.reload('signal'), 'failure', `${name}: the reload is refused`);
    failures += 1;
    t.equal(
      await metricValue(proxy, 'mtls_sidecar_reloads_total', { result: 'failure' }),
      failures,
      `${name}: counted as a failed reload`,
    );
    const logged = proxy
      .logLines()
      .filter((l) => l['msg'] === 'reload refused; the current certificates and policy keep serving')
      .at(-1);
    t.match(
      String((logged?.['problems'] as string[] | undefined)?.join('\n')),
      message,
      `${name}: logged with the reason`,
    );
    t.equal(await callRevoked(), 0, `${name}: the revoked caller is still refused`);
    t.equal(upstream.received.length, 0, `${name}: the upstream received nothing`);
  }

  writeCrls(rootCrl);
  t.equal(
    proxy.reload('signal'),
    'failure',
    "dropping the intermediate's CRL while it is still trusted is refused too",
  );
  t.equal(await callRevoked(), 0, 'the revoked caller is still refused');

  const newer = makeCrlWithNumber(pki.dir, inter, [], { crlNumber: 8, lastUpdateMs: now - 60_000 });
  writeCrls(rootCrl, newer);
  t.equal(proxy.reload('signal'), 'success', 'a newer CRL (higher cRLNumber, later thisUpdate) is loaded');
  t.equal(await callRevoked(), 200, 'and un-revokes the caller, as its issuer decided');
});
