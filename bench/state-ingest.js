#!/usr/bin/env node
// The puller's side of a catch-up, in this process and without a network: N ops written
// by one store (1,000-op set-many batches, the values of `npm run bench -- state`), read
// back as the server sends them (stored bytes in a `batch` frame), then decoded, verified
// and applied by a second store through the same code a pull runs (`decodePulled`,
// `pullFrames`, `OpStore.ingest`). Prints ops/s and ops per CPU second of the ingest alone.
// Asserts nothing. After `npm run build`:
//   node bench/state-ingest.js [--ops 100000] [--rounds 3] [--json]
//   node bench/state-ingest.js --prof /tmp/ingest.cpuprofile   (a V8 CPU profile of the ingests alone)
//   node --max-semi-space-size=1 --no-memory-reducer bench/state-ingest.js   (the daemon's V8 flags)
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Session } from 'node:inspector/promises'
import { writeFile } from 'node:fs/promises'

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    prof: { type: 'string' },
    // ingests in flight at once (the pull's SYNC_PIPELINE_DEPTH by default)
    depth: { type: 'string' },
    // another build's dist (an A/B against main): --dist /work/main/dist
    dist: { type: 'string' }
  }
})
const DIST = resolve(args.dist ?? new URL('../dist', import.meta.url).pathname)
await import(join(DIST, 'polyfill.js'))
const { generateKeyPair } = await import('@libp2p/crypto/keys')
const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
const { signerFromSeed } = await import(join(DIST, 'team/ed25519.js'))
const { openStore } = await import(join(DIST, 'state/store/db.js'))
const { OpStore } = await import(join(DIST, 'state/store/op-log.js'))
const { batchFrame, decodePulled } = await import(join(DIST, 'state/sync/channel.js'))
const { pullFrames } = await import(join(DIST, 'state/sync/pull.js'))

const N = Number(args.ops)
const TEAM = 'bench-team'
const dir = await mkdtemp(join(tmpdir(), 'paired-bench-ingest-'))
const privateKey = await generateKeyPair('Ed25519')
const peerId = peerIdFromPrivateKey(privateKey).toString()
const signer = signerFromSeed(peerId, privateKey.raw.subarray(0, 32))

try {
  const db = await openStore(join(dir, 'src'))
  const source = new OpStore({ db }, { teamId: TEAM, signer })
  for (let r = 0; r < N / 1000; r++) {
    await source.write(Array.from({ length: 1000 }, (_, i) => ({ kind: 'kv:set', body: { key: `up${N}/${r}/${i}`, value: { i, r, note: 'catch-up payload' } } })), { sync: false })
  }
  const frames = []
  for await (const record of source.rawBatchesSince(peerId, 1)) frames.push(batchFrame(record))
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0)
  await db.close()

  const results = []
  const session = args.prof != null ? new Session() : undefined
  if (session !== undefined) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  for (let round = 0; round < Number(args.rounds); round++) {
    const sink = await openStore(join(dir, `sink${round}`))
    const store = new OpStore({ db: sink }, { teamId: TEAM })
    await store.start()
    // as in a daemon, whose status asks it: the view hash is then kept up per changed entry
    await store.stateHash()
    let at = 0
    const ch = {
      readPulled: async () => at < frames.length ? decodePulled('/paired/sync/1.0.0', frames[at++]) : { msg: { type: 'done' } },
      write: async () => {}
    }
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const applied = await pullFrames(ch, { ingest: async (batch, raw) => await store.ingest(batch, { raw }), isKnownAuthor: () => true }, { window: 8, ...(args.depth != null ? { depth: Number(args.depth) } : {}) })
    const secs = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuSecs = (cpu.user + cpu.system) / 1e6
    if (applied !== N) throw new Error(`applied ${applied} of ${N}`)
    await sink.close()
    results.push({ opsPerSec: N / secs, mbPerSec: bytes / 1048576 / secs, opsPerCpuSec: N / cpuSecs })
  }
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(args.prof, JSON.stringify(profile))
    session.disconnect()
  }
  if (args.json) console.log(JSON.stringify({ ops: N, bytes, results }))
  else {
    console.log(`ingest of ${N.toLocaleString('en')} ops (${(bytes / 1048576).toFixed(1)} MB of frames), ${DIST}`)
    for (const r of results) console.log(`  ${r.opsPerSec.toFixed(0)} ops/s, ${r.mbPerSec.toFixed(1)} MB/s, ${r.opsPerCpuSec.toFixed(0)} ops per CPU second`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
