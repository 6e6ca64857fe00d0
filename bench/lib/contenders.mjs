// Starts the upstream and the contenders (sidecar, nginx, HAProxy), each configured for the same job: verify the
// client certificate, forward with identity headers, keep-alive upstream.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, hasCommand, startProcess, waitForPort } from './procs.mjs';
import { readShippedRuntime } from './shipped-runtime.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(HERE, '..', '..');
const isRoot = process.getuid?.() === 0;

/** nginx refuses to start when its default temp paths are not writable, so every instance gets its own under dir. */
function nginxPrelude(dir, name) {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return {
    d,
    head: `worker_processes 1;\ndaemon off;\nmaster_process on;\n${isRoot ? 'user root;\n' : ''}pid ${d}/nginx.pid;\nerror_log ${d}/error.log warn;\nworker_rlimit_nofile 20000;\nevents { worker_connections 10000; }\n`,
    temps: ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${d}/${t};`).join('\n'),
  };
}

async function startNginx(dir, name, conf, port, cpu) {
  const file = join(dir, name, 'nginx.conf');
  writeFileSync(file, conf);
  const child = startProcess('nginx', ['-p', join(dir, name), '-e', join(dir, name, 'error.log'), '-c', file], {
    cpu,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 15_000, child);
  return child;
}

/**
 * The upstream on CPU 1: nginx returning a small fixed body (and /whoami echoing X-Client-Subject), with
 * /upload proxied unbuffered to a node server that counts and discards the body. Falls back to the node
 * server alone when nginx is missing.
 */
export async function startUpstream(dir, cpu) {
  const discardPort = await freePort();
  const discard = startProcess(process.execPath, [join(HERE, 'discard-upstream.mjs'), String(discardPort)], {
    cpu,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(discardPort, 15_000, discard);
  if (!hasCommand('nginx')) return { kind: 'node', port: discardPort, processes: [discard] };
  const port = await freePort();
  const { head, temps } = nginxPrelude(dir, 'upstream-nginx');
  const conf = `${head}http {
  access_log off;
${temps}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream discard { server 127.0.0.1:${discardPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "hello from upstream\\n"; }
    location = /whoami { default_type text/plain; return 200 "$http_x_client_subject\\n"; }
    location = /upload {
      client_max_body_size 0;
      proxy_request_buffering off;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://discard;
    }
  }
}
`;
  const nginx = await startNginx(dir, 'upstream-nginx', conf, port, cpu);
  return { kind: 'nginx', port, processes: [discard, nginx] };
}

export function sidecarArgs(certs, port, upstreamPort, extra = []) {
  return [
    join(REPO, 'dist', 'main.js'),
    'run',
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    `http://127.0.0.1:${upstreamPort}`,
    '--cert',
    certs.serverCert,
    '--key',
    certs.serverKey,
    '--client-ca',
    certs.ca,
    '--allow-uri',
    'spiffe://bench.example/ns/prod/*',
    '--metrics-listen',
    'off',
    '--allow-insecure-posture',
    '--log-level',
    'warn',
    // As high as the nginx contender's worker_connections: the idle-connection measurement opens thousands.
    '--max-connections',
    '10000',
    ...extra,
  ];
}

const shipped = readShippedRuntime();

/** What the image and `npm start` run Node with (the Dockerfile's ENTRYPOINT); the Node contenders all get it. */
export const SHIPPED_NODE_FLAGS = shipped.flags;

/** The allocator settings the image sets (the Dockerfile's ENV); the Node contenders all get them. */
export const SHIPPED_NODE_ENV = shipped.env;

/** The sidecar from dist/ (built by `npm run bench`). nodeFlags go before the script (e.g. --cpu-prof). */
export async function startSidecar(
  certs,
  upstreamPort,
  cpu,
  { extra = [], nodeFlags = [], stdout = 'ignore', env } = {},
) {
  const port = await freePort();
  const args = sidecarArgs(certs, port, upstreamPort, extra);
  // A later --log-level wins in commander, so `extra` can switch access logging on.
  const child = startProcess(process.execPath, [...SHIPPED_NODE_FLAGS, ...nodeFlags, ...args], {
    cpu,
    env: { ...SHIPPED_NODE_ENV, ...env },
    stdio: ['ignore', stdout, 'inherit'],
  });
  await waitForPort(port, 20_000, child);
  return { port, child };
}

/**
 * nginx for the same job; HTTP/2 too (ALPN), and with grpcPort gRPC calls to /shop.v1.Orders/ go to that h2c upstream.
 */
export async function startNginxContender(dir, certs, upstreamPort, cpu, grpcPort) {
  const port = await freePort();
  const identity = (verb) =>
    [
      'X-Client-Subject $ssl_client_s_dn',
      'X-Client-Serial $ssl_client_serial',
      'X-Client-Fingerprint $ssl_client_fingerprint',
      'X-Forwarded-For $remote_addr',
      'X-Forwarded-Proto https',
      'X-Forwarded-Host $host',
    ]
      .map((h) => `      ${verb} ${h};`)
      .join('\n');
  const grpc = grpcPort
    ? `    location /shop.v1.Orders/ {
      grpc_pass grpc://127.0.0.1:${grpcPort};
${identity('grpc_set_header')}
    }
`
    : '';
  const { head, temps } = nginxPrelude(dir, 'contender-nginx');
  const conf = `${head}http {
  access_log off;
${temps}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl http2 backlog=4096;
    ssl_certificate ${certs.serverCert};
    ssl_certificate_key ${certs.serverKey};
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
    client_max_body_size 0;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_request_buffering off;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
${identity('proxy_set_header')}
      proxy_set_header X-Request-Id $request_id;
    }
${grpc}  }
}
`;
  const child = await startNginx(dir, 'contender-nginx', conf, port, cpu);
  return { port, child };
}

export async function startHaproxyContender(dir, certs, upstreamPort, cpu) {
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port} ssl crt ${certs.serverCombined} ca-file ${certs.ca} verify required
  http-request del-header X-Client-Subject
  http-request set-header X-Client-Subject %[ssl_c_s_dn(,0,rfc2253)]
  http-request set-header X-Client-Serial %[ssl_c_serial,hex]
  http-request set-header X-Client-Fingerprint %[ssl_c_sha1,hex]
  http-request set-header X-Forwarded-Proto https
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Request-Id %[uuid]
  option forwardfor
  default_backend app
backend app
  server up 127.0.0.1:${upstreamPort}
`,
  );
  const child = startProcess('haproxy', ['-db', '-f', file], { cpu, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, 15_000, child);
  return { port, child };
}

/**
 * The plain Node floor (node-floor-proxy.mjs), on the shipped Node flags: what node:https + undici costs for this job.
 * listener 'h2compat' puts the same handler behind http2.createSecureServer({ allowHTTP1 }), the sidecar's listener.
 */
export async function startNodeFloor(certs, upstreamPort, cpu, { nodeFlags = [], listener = 'https', env = {} } = {}) {
  return startNodeScript(
    'node-floor-proxy.mjs',
    [certs.serverCert, certs.serverKey, certs.ca, listener],
    upstreamPort,
    cpu,
    nodeFlags,
    env,
  );
}

/** The floor with fastify in front (node-floor-fastify.mjs): what fastify itself adds per request. */
export async function startNodeFastifyFloor(certs, upstreamPort, cpu) {
  return startNodeScript(
    'node-floor-fastify.mjs',
    [certs.serverCert, certs.serverKey, certs.ca],
    upstreamPort,
    cpu,
    [],
  );
}

/** The plain Node HTTP/2 floor (node-floor-h2.mjs): mode 'http' (HTTP/1.1 upstream) or 'grpc' (h2c upstream). */
export async function startNodeH2Floor(certs, upstreamPort, cpu, mode, { nodeFlags = [] } = {}) {
  return startNodeScript(
    'node-floor-h2.mjs',
    [certs.serverCert, certs.serverKey, certs.ca, mode],
    upstreamPort,
    cpu,
    nodeFlags,
  );
}

async function startNodeScript(script, rest, upstreamPort, cpu, nodeFlags, env = {}) {
  const port = await freePort();
  const child = startProcess(
    process.execPath,
    [...SHIPPED_NODE_FLAGS, ...nodeFlags, join(HERE, script), String(port), String(upstreamPort), ...rest],
    { cpu, env: { ...SHIPPED_NODE_ENV, ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, 15_000, child);
  return { port, child };
}

/** The minimal h2c gRPC upstream (grpc-upstream.mjs). */
export async function startGrpcUpstream(cpu) {
  const port = await freePort();
  const child = startProcess(process.execPath, [join(HERE, 'grpc-upstream.mjs'), String(port)], {
    cpu,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 15_000, child);
  return { port, child };
}

/**
 * Caddy for the same job: client certificates required and verified against the CA, identity placeholders as
 * headers (reverse_proxy adds X-Forwarded-For/-Proto/-Host itself). GOMAXPROCS follows the one-CPU pinning.
 */
export async function startCaddyContender(dir, certs, upstreamPort, cpu) {
  const port = await freePort();
  const file = join(dir, 'Caddyfile');
  writeFileSync(
    file,
    `{
  admin off
  auto_https off
  default_sni localhost
  # Caddy turns strict SNI/Host matching on with client authentication; the benchmark's clients send no SNI.
  servers {
    strict_sni_host insecure_off
  }
  log {
    level ERROR
  }
}
https://:${port} {
  bind 127.0.0.1
  tls ${certs.serverCert} ${certs.serverKey} {
    client_auth {
      mode require_and_verify
      trusted_ca_cert_file ${certs.ca}
    }
  }
  reverse_proxy 127.0.0.1:${upstreamPort} {
    header_up X-Client-Subject {tls_client_subject}
    header_up X-Client-Serial {tls_client_serial}
    header_up X-Client-Fingerprint {tls_client_fingerprint}
  }
}
`,
  );
  const child = startProcess('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], {
    cpu,
    env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, GOMAXPROCS: '1' },
    stdio: ['ignore', 'ignore', 'ignore'],
    cwd: dir,
  });
  await waitForPort(port, 15_000, child);
  return { port, child };
}
