// What reading the client's certificate costs per handshake, by Node API: getPeerCertificate() (leaf as an object),
// getPeerCertificate(true) (the whole chain as objects), getPeerX509Certificate() (lazy X509Certificate, which keeps
// the extra certificates a client sent alive) and its .raw; each timed in-process around the call, median over N
// handshakes, for a leaf-only and a leaf + intermediate client; and the gate's own leaf read, the peer certificate
// taken from getSession()'s serialized session (dist/gate/peer-chain.js readSessionLeaf; needs `npm run build`).
// Usage: node bench/peer-cert-cost.mjs [--count N]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { makeCertificates } from './lib/certs.mjs';
import { median } from './lib/report.mjs';

// The built gate (npm run build), loaded at run time so the script also lints before a build.
const { readSessionLeaf } = await import('../dist/gate/peer-chain.js');

const { values: opt } = parseArgs({ options: { count: { type: 'string', default: '300' } } });
const count = Number(opt.count);
const READS = {
  'getPeerCertificate()': (s) => s.getPeerCertificate(),
  'getPeerCertificate(true)': (s) => s.getPeerCertificate(true),
  'getPeerX509Certificate()': (s) => s.getPeerX509Certificate(),
  'getPeerX509Certificate().raw': (s) => s.getPeerX509Certificate()?.raw,
  'readSessionLeaf() (getSession() + DER walk)': (s) => readSessionLeaf(s),
};

async function measure(certs, read, client, resume) {
  const times = [];
  const server = tls.createServer(
    {
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (s) => {
      const t0 = process.hrtime.bigint();
      read(s);
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
      s.end();
    },
  );
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const opts = {
    host: '127.0.0.1',
    port: server.address().port,
    servername: 'localhost',
    ca: readFileSync(certs.ca),
    cert: readFileSync(client.cert),
    key: readFileSync(client.key),
    maxVersion: 'TLSv1.2',
  };
  let session;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => {
      const c = tls.connect({ ...opts, session: resume ? session : undefined });
      c.on('session', (t) => (session = t));
      c.on('data', () => undefined);
      c.once('end', resolve);
      c.once('error', resolve);
    });
  }
  server.close();
  return median(times.slice(10));
}

const work = mkdtempSync(join(tmpdir(), 'peer-cert-cost-'));
try {
  const certs = await makeCertificates(work);
  const leafOnly = { cert: certs.clientCert, key: certs.clientKey };
  const chained = { cert: join(work, 'chained-bundle.pem'), key: certs.chainedClientKey };
  (await import('node:fs')).writeFileSync(
    chained.cert,
    readFileSync(certs.chainedClientCert, 'utf8') + readFileSync(join(work, 'intermediate.crt'), 'utf8'),
  );
  console.log(
    `Median µs per call on the server's 'secureConnection' (${count} TLS 1.2 handshakes each, ${process.version}):\n`,
  );
  console.log('| API | leaf only, new | leaf only, resumed | leaf + intermediate, new |');
  console.log('|---|--:|--:|--:|');
  for (const [name, read] of Object.entries(READS)) {
    const a = await measure(certs, read, leafOnly, false);
    const b = await measure(certs, read, leafOnly, true);
    const c = await measure(certs, read, chained, false);
    console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${c.toFixed(1)} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
