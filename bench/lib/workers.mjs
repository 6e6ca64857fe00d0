// `--workers 2`: whether the sidecar starts more than one process, and what that does to CPU per request and
// throughput.
import { startSidecar } from './contenders.mjs';
import { processTree, sleep, stopProcess, treeCpuSeconds, treeMemoryMb } from './procs.mjs';

async function oneRun({ certs, upstream, load, seconds, cpu, workers }) {
  let started;
  try {
    started = await startSidecar(certs, upstream.port, cpu, { extra: ['--workers', String(workers)] });
  } catch (err) {
    return { workers, cpu: String(cpu), error: String(err.message ?? err) };
  }
  try {
    await sleep(1500);
    const processes = processTree(started.child.pid).length;
    await load(started.port, 2); // warm-up
    const c0 = treeCpuSeconds(started.child.pid);
    const w = await load(started.port, seconds);
    const cpuSeconds = treeCpuSeconds(started.child.pid) - c0;
    return {
      workers,
      cpu: String(cpu),
      processes,
      rps: w.rps,
      requests: w.requests,
      p99Ms: w.p99Ms,
      cpuUsPerRequest: (cpuSeconds * 1e6) / w.requests,
      peakRssMb: treeMemoryMb(started.child.pid, 'VmHWM'),
      errors: w.non2xx + w.socketErrors,
    };
  } finally {
    await stopProcess(started.child);
  }
}

/**
 * Starts `--workers 2` pinned like the other contenders. When it really runs two processes, also compares
 * 1 and 2 workers allowed on both CPUs (shared with the load generator and upstream on this 2-core box,
 * so the scaling figure is a floor). Never throws: whatever happens is reported.
 */
export async function measureWorkers({ certs, upstream, load, seconds, cpu, say }) {
  const pinned = await oneRun({ certs, upstream, load, seconds, cpu, workers: 2 });
  if (pinned.error) return { supported: false, pinned, summary: `did not start: ${pinned.error}` };
  if (pinned.processes < 2) {
    return {
      supported: false,
      pinned,
      summary: `started ${pinned.processes} process (the flag is accepted but the multi-process model is not implemented); ${pinned.rps.toFixed(0)} req/s, ${pinned.cpuUsPerRequest.toFixed(1)} µs CPU/req (compare with the one-process mtls-sidecar row).`,
    };
  }
  say('workers: scaling run on CPUs 0-1 (1 worker, then 2)');
  const one = await oneRun({ certs, upstream, load, seconds, cpu: '0,1', workers: 1 });
  const two = await oneRun({ certs, upstream, load, seconds, cpu: '0,1', workers: 2 });
  const scaling = one.rps && two.rps ? two.rps / one.rps : null;
  return {
    supported: true,
    pinned,
    one,
    two,
    scaling,
    summary: `${pinned.processes} processes; pinned to CPU ${cpu}: ${pinned.rps.toFixed(0)} req/s, ${pinned.cpuUsPerRequest.toFixed(1)} µs CPU/req, peak RSS ${pinned.peakRssMb.toFixed(0)} MB (all processes). On CPUs 0-1 (shared with generator): 1 worker ${one.rps?.toFixed(0)} req/s, 2 workers ${two.rps?.toFixed(0)} req/s (×${scaling?.toFixed(2) ?? '?'}).`,
  };
}
