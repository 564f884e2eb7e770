// One daemon process for the benches: spawned with the shipped node flags, resolved once it
// logs `ready`, stopped with SIGTERM. One copy for run.js and state-catchup.js.
import { spawn } from 'node:child_process'
import { NODE_FLAGS } from './node-flags.js'

/**
 * Starts `bin` (a checkout's bin/paired.js) as a daemon in `home` named `name`, listening on
 * 127.0.0.1 only (mDNS off unless `mdns`; inside network namespace `netns` if given), and
 * adds its process to `procs`. Resolves with `{ proc, home, name, readyMs }` once it is
 * ready; rejects with its log if it exits first or is not ready in 30 s.
 * PAIRED_BENCH_CPU_PROF=DIR makes it write a V8 CPU profile there when it stops.
 */
export function startDaemonProcess ({ bin, home, name, procs, netns, mdns = false, flags = NODE_FLAGS }) {
  const t0 = process.hrtime.bigint()
  const dir = process.env.PAIRED_BENCH_CPU_PROF
  const prof = dir != null && dir !== '' ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []
  const argv = [process.execPath, ...flags, ...prof, bin, 'daemon', '--home', home, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', ...(mdns ? [] : ['--no-mdns'])]
  const full = netns != null ? ['ip', 'netns', 'exec', netns, ...argv] : argv
  const proc = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(proc)
  let log = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${log}`)), 30_000)
    const onData = d => {
      log += d.toString()
      if (/\bready\b/.test(log)) {
        clearTimeout(timer)
        resolve({ proc, home, name, readyMs: Number(process.hrtime.bigint() - t0) / 1e6 })
      }
    }
    proc.stderr.on('data', onData)
    proc.stdout.on('data', onData)
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`${name} exited ${code}:\n${log}`)) })
  })
}

/** SIGTERM to a daemon from {@link startDaemonProcess}; resolves once it exited */
export async function stopDaemonProcess (d) {
  d.proc.removeAllListeners('exit')
  const done = new Promise(resolve => d.proc.on('exit', resolve))
  d.proc.kill('SIGTERM')
  await done
}
