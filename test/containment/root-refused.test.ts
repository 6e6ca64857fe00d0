// As root the built proxy refuses to start (exit 78, naming uid 0 and the fix); --allow-insecure-posture lets it start.
import t from 'tap';
import {
  CLI,
  containmentSkipReason,
  makeWorld,
  spawnChild,
  startUpstream,
  stopChild,
  waitForExit,
  waitForListening,
} from './helpers/sidecar.js';

t.test('running as root', { skip: containmentSkipReason() }, async (t) => {
  const world = makeWorld(0);
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    world.cleanup();
  });

  t.test('refused with exit 78 and the fix', async (t) => {
    const c = spawnChild(process.execPath, [CLI, ...world.runArgs(upstream.url)], world.dir);
    t.equal(await waitForExit(c), 78, 'EX_CONFIG');
    const stderr = c.stderr();
    t.match(stderr, /running-as-root/, 'names the finding');
    t.match(stderr, /uid 0/, 'names uid 0');
    t.match(stderr, /runAsNonRoot: true/, 'gives the Kubernetes fix');
    t.match(stderr, /user: "10001:10001"/, 'gives the compose fix');
    t.match(stderr, /--allow-insecure-posture/, 'says how to override');
    t.notMatch(stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    t.notOk(c.stdout().includes('mtls-sidecar listening'), 'never listened');
  });

  t.test('starts with --allow-insecure-posture and stops on SIGTERM', async (t) => {
    const c = spawnChild(
      process.execPath,
      [CLI, ...world.runArgs(upstream.url), '--allow-insecure-posture'],
      world.dir,
    );
    const port = await waitForListening(c);
    t.ok(port > 0, `listening on ${port}`);
    t.equal(await stopChild(c), 0, 'clean exit after SIGTERM');
    t.match(c.stdout(), /running-as-root/, 'the critical finding is still logged');
  });
});
