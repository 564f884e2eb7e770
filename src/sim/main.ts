/**
 * `npm run sim -- --peers 10000 [--seed 1] [--json] ...`: run the simulator and print its
 * figures on stdout (byte-identical for the same arguments); the wall time goes to stderr.
 */
import { parseArgs } from 'node:util'
import { formatReport } from './report.js'
import { simulate } from './run.js'
import { defaultScenario } from './scenario.js'

const HELP = `usage: npm run sim -- [options]
  --peers N            team size (default 1000)
  --seed S             PRNG seed (default 1)
  --json               print the report as JSON
  --joiners N          members joining at 1 s (default 1 % of peers)
  --kills N            members killed silently at 6 s (default 3)
  --loss P             message loss, 0..1 (default 0.01)
  --latency MS         median one-way latency (default 10)
  --slow F             share of slow members (default 0.01)
  --partition F        share cut off from 12 s to 22 s, 0 for none (default 0.01, at most 20 members)
  --partition-max N    cap on the members cut off, 0 for none (default 20)
  --machines N         machines in the load-balance run (default min(peers, 500))
  --no-local-health    switch Lifeguard's local health off (to compare)
`

function num (v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`)
  return n
}

function main (): void {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, joiners: { type: 'string' },
      kills: { type: 'string' }, loss: { type: 'string' }, latency: { type: 'string' }, slow: { type: 'string' },
      partition: { type: 'string' }, 'partition-max': { type: 'string' }, machines: { type: 'string' }, 'no-local-health': { type: 'boolean' }, help: { type: 'boolean' }
    }
  })
  if (values.help === true) {
    process.stdout.write(HELP)
    return
  }
  const peers = num(values.peers, 'peers') ?? 1000
  if (!Number.isInteger(peers) || peers < 3) throw new Error('--peers: a whole number ≥ 3')
  const sc = defaultScenario(peers, num(values.seed, 'seed') ?? 1)
  sc.joiners = num(values.joiners, 'joiners') ?? sc.joiners
  sc.kills = num(values.kills, 'kills') ?? sc.kills
  sc.net.loss = num(values.loss, 'loss') ?? sc.net.loss
  sc.net.latencyMedianMs = num(values.latency, 'latency') ?? sc.net.latencyMedianMs
  sc.slowFraction = num(values.slow, 'slow') ?? sc.slowFraction
  sc.partitionFraction = num(values.partition, 'partition') ?? sc.partitionFraction
  sc.partitionMax = num(values['partition-max'], 'partition-max') ?? sc.partitionMax
  sc.load.machines = num(values.machines, 'machines') ?? sc.load.machines
  if (values['no-local-health'] === true) sc.swim.localHealth = false
  const started = performance.now()
  const report = simulate(sc)
  process.stdout.write(values.json === true ? JSON.stringify(report, null, 2) + '\n' : formatReport(report))
  process.stderr.write(`wall time ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
}

try {
  main()
} catch (err) {
  process.stderr.write(`sim: ${(err as Error).message}\n`)
  process.exitCode = 2
}
