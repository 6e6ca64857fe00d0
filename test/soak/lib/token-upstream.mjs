// Upstream child process for load tests: echoes each request's token and path, counts every id it receives, and can be
// slow on request. Run with `node token-upstream.mjs [port] [capacity]` via fork(); talks to its parent over IPC.
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const capacity = Number(process.argv[3] ?? 1 << 21);
const counts = new Uint8Array(capacity);
let received = 0;
let outOfRange = 0;
let badToken = 0;
let missingIdentity = 0;

const server = http.createServer((req, res) => {
  received += 1;
  const url = req.url ?? '';
  const token = req.headers['x-token'];
  const m = /^\/(?:load|slow\/\d+)\/(\d+)/.exec(url);
  if (m) {
    const id = Number(m[1]);
    if (id < capacity) {
      if (counts[id] < 255) counts[id] += 1;
    } else outOfRange += 1;
    if (token !== m[1]) badToken += 1;
  }
  if (typeof req.headers['x-client-subject'] !== 'string') missingIdentity += 1;
  const slow = /^\/slow\/(\d+)\//.exec(url);
  const reply = () => {
    const body = `tok=${token ?? ''};path=${url}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  // Drain the request body first so a POST never stalls the keep-alive connection.
  req.resume();
  req.on('end', () => {
    if (slow) setTimeout(reply, Number(slow[1])).unref();
    else reply();
  });
});
server.keepAliveTimeout = 60_000;

function summarize() {
  let once = 0;
  let dup = 0;
  let maxId = -1;
  for (let i = 0; i < capacity; i += 1) {
    const c = counts[i];
    if (c === 1) once += 1;
    else if (c > 1) dup += 1;
    if (c > 0) maxId = i;
  }
  return { received, once, dup, maxId, outOfRange, badToken, missingIdentity };
}

process.on('message', (msg) => {
  if (msg?.type === 'summary') process.send({ type: 'summary', summary: summarize() });
  else if (msg?.type === 'ids') {
    // Ids in [from, to) that arrived, as a compact list, for drain accounting.
    const got = [];
    for (let i = msg.from; i < Math.min(msg.to, capacity); i += 1) if (counts[i] > 0) got.push(i);
    process.send({ type: 'ids', ids: got });
  } else if (msg?.type === 'reset') {
    counts.fill(0);
    received = 0;
    outOfRange = 0;
    badToken = 0;
    missingIdentity = 0;
    process.send({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(port, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port });
});
server.on('error', (err) => {
  process.send({ type: 'error', code: err.code });
  process.exit(1);
});
