// Problem messages show the value at fault whole (JSON-escaped), so a long path can be found; only hostile lengths are
// cut. A bare port given as an address says what to write.
import t from 'tap';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { makeTempFiles } from '../../helpers/temp-files.js';

const files = makeTempFiles();
t.teardown(files.cleanup);
const required = {
  upstream: 'http://127.0.0.1:8080',
  cert: files.cert,
  key: files.key,
  'client-ca': [files.ca],
  'allow-cn': ['orders'],
};

function problemsOf(flags: Record<string, unknown>): string[] {
  try {
    loadConfig({ flags: { ...required, ...flags }, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

t.test('control characters are escaped, not printed raw', async (t) => {
  const [problem] = problemsOf({ cert: '/tmp/a\r\nb\u001b[31m.crt' });
  t.ok(problem?.includes('"/tmp/a\\r\\nb\\u001b[31m.crt"'), problem ?? 'no problem reported');
});

t.test('only a hostile length is cut, saying how long it was', async (t) => {
  const long = `/${'x'.repeat(10_000)}`;
  const [problem] = problemsOf({ cert: long });
  t.ok(problem !== undefined && problem.length < 4300, 'bounded');
  t.match(problem, /\.\.\. \(10001 characters\)/);
  const fine = `/${'y'.repeat(4000)}`;
  t.ok(problemsOf({ cert: fine })[0]?.includes(`"${fine}"`), 'a 4001-character path is still whole');
});

t.test('--listen 8443 says what to write', async (t) => {
  const problems = problemsOf({ listen: '8443' });
  t.same(problems, [
    '--listen: "8443" is a port without a host; write 0.0.0.0:8443 (every interface) or 127.0.0.1:8443 (this machine only)',
  ]);
  t.match(problemsOf({ listen: 'localhost' })[0], /"localhost" has no port; write host:port/);
});
