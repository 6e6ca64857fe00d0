// Memory checks beyond the request loop: many idle mTLS connections, and a large upload streamed through a contender.
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { sleep, treeFdCount, treeMemoryMb } from './procs.mjs';

export function clientTlsOptions(certs, port) {
  return {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: readFileSync(certs.ca),
    cert: readFileSync(certs.clientCert),
    key: readFileSync(certs.clientKey),
  };
}

/** One keep-alive GET on a fresh TLS connection; resolves with the socket left open, or null on failure. */
export function openIdleConnection(opts, session, onSession) {
  return new Promise((resolve) => {
    const s = tls.connect({ ...opts, session });
    const timer = setTimeout(() => (s.destroy(), resolve(null)), 15_000);
    s.on('session', onSession);
    s.once('error', () => (clearTimeout(timer), resolve(null)));
    s.once('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n'));
    let seen = '';
    const onData = (chunk) => {
      seen += chunk.toString('latin1');
      // The fixed upstream body ends with a newline after the header block.
      if (/\r\n\r\n[\s\S]*\n/.test(seen)) {
        s.off('data', onData);
        clearTimeout(timer);
        resolve(s);
      }
    };
    s.on('data', onData);
  });
}

/**
 * Opens `count` mTLS connections in batches (sessions resumed where the server allows), each with one
 * request served, and reports the contender's RSS before, with all open, and its peak.
 */
export async function measureIdleConnections({ port, pid, certs, count, batch = 100, timeBudgetMs = 60_000 }) {
  const opts = clientTlsOptions(certs, port);
  let session;
  const sockets = [];
  let failures = 0;
  const rssBeforeMb = treeMemoryMb(pid, 'VmRSS');
  const started = Date.now();
  try {
    while (sockets.length < count && failures < 50 && Date.now() - started < timeBudgetMs) {
      const n = Math.min(batch, count - sockets.length);
      const opened = await Promise.all(
        Array.from({ length: n }, () => openIdleConnection(opts, session, (t) => (session = t))),
      );
      for (const s of opened) {
        if (s) {
          s.on('error', () => undefined);
          sockets.push(s);
        } else failures += 1;
      }
    }
    await sleep(1000);
    const rssOpenMb = treeMemoryMb(pid, 'VmRSS');
    const stillOpen = sockets.filter((s) => !s.destroyed).length;
    const fdsOpen = treeFdCount(pid);
    const opened = sockets.length;
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    // RSS after close is read once the contender itself has let go of the sockets (its descriptor count, read from
    // /proc).
    const closeDeadline = Date.now() + 15_000;
    while (treeFdCount(pid) > fdsOpen - stillOpen * 0.95 && Date.now() < closeDeadline) await sleep(200);
    await sleep(1000);
    return {
      requested: count,
      opened,
      stillOpen,
      failures,
      seconds: (Date.now() - started) / 1000,
      rssBeforeMb,
      rssOpenMb,
      peakRssMb: treeMemoryMb(pid, 'VmHWM'),
      rssAfterCloseMb: treeMemoryMb(pid, 'VmRSS'),
      fdsOpen,
      fdsAfterClose: treeFdCount(pid),
      kbPerConnection: stillOpen > 0 ? ((rssOpenMb - rssBeforeMb) * 1024) / stillOpen : null,
    };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/**
 * Streams `bytes` of request body through the contender to the discarding upstream (POST /upload),
 * sampling the contender's RSS every 50 ms. The upstream answers with the byte count it received.
 */
export async function measureUpload({ port, pid, certs, bytes, timeBudgetMs = 120_000 }) {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const rssBeforeMb = treeMemoryMb(pid, 'VmRSS');
  let rssMaxMb = rssBeforeMb;
  const sampler = setInterval(() => (rssMaxMb = Math.max(rssMaxMb, treeMemoryMb(pid, 'VmRSS'))), 50);
  const started = Date.now();
  try {
    const result = await new Promise((resolve) => {
      const req = https.request({
        ...clientTlsOptions(certs, port),
        method: 'POST',
        path: '/upload',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
      });
      const timer = setTimeout(() => (req.destroy(new Error('time budget exceeded')), undefined), timeBudgetMs);
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => (clearTimeout(timer), resolve({ status: res.statusCode, body: body.slice(0, 200) })));
      });
      req.on('error', (err) => (clearTimeout(timer), resolve({ status: 0, body: err.message })));
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const n = Math.min(chunk.length, bytes - sent);
          sent += n;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    let received = null;
    try {
      received = JSON.parse(result.body).bytes ?? null;
    } catch {
      /* not the upstream's answer */
    }
    const seconds = (Date.now() - started) / 1000;
    return {
      bytes,
      status: result.status,
      upstreamReceived: received,
      ok: result.status === 200 && received === bytes,
      error: result.status === 200 ? undefined : result.body,
      seconds,
      mbPerSecond: bytes / 1048576 / seconds,
      rssBeforeMb,
      rssMaxMb,
      rssGrowthMb: rssMaxMb - rssBeforeMb,
    };
  } finally {
    clearInterval(sampler);
  }
}
