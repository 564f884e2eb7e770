#!/usr/bin/env node
// `npm run build && node bench/proofs.js [rounds]`: what the proofs of a task result cost,
// in CPU µs per result, for batches of 1, 100 and 1,000 results that finish together:
//   sign     the executor's receipts (signReceipts) + the coordinator's grants (signGrants)
//   apply    resultProof of each result's `task:result` op on a member that has not seen
//            the batch (receipt + grant checked, as every other member does)
//   own      the same on the daemon that signed them (its own roots are known)
// Single-threaded, in process; reports numbers and asserts nothing. To compare with
// another build, copy its dist/ inside this checkout (packages must resolve), e.g. to
// .bench-tmp/dist-before, and run PAIRED_BENCH_DIST=../.bench-tmp/dist-before (relative
// to bench/) right before or after this build's run.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const DIST = new URL(`${process.env.PAIRED_BENCH_DIST ?? '../dist'}/`, import.meta.url)
const load = async path => import(new URL(path, DIST).href)
await load('polyfill.js')
const { signerFromSeed } = await load('team/index.js')
const { hashJson, signReceipts } = await load('tasks/receipt.js')
const { signGrants } = await load('tasks/grant.js')
const { resultProof } = await load('state/store/task-proof.js')
// present once batch proofs exist: lets a run measure a member that never saw the batch
const cache = await load('tasks/proof-cache.js').catch(() => undefined)
const forget = () => cache?.forgetVerified()

const rounds = Number(process.argv[2] ?? 3)
const SIZES = [1, 100, 1000]

async function peer () {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key).toString()
  return signerFromSeed(peerId, key.raw.subarray(0, 32))
}

const executor = await peer()
const coordinator = await peer()
const outputHash = hashJson({ ok: true })
const inputHash = hashJson({ n: 1 })
let serial = 0

function batch (n) {
  const tag = `${process.pid}-${serial++}`
  const wall = Date.now()
  const bodies = Array.from({ length: n }, (_, i) => ({
    v: 1, teamId: '0123456789abcdef0123456789abcdef', taskId: `t-${tag}-${i}`, attempt: 1, agent: 'echo',
    inputHash, outputHash, exitCode: 0, executor: executor.peerId, startedWall: wall, endedWall: wall + 1
  }))
  const items = bodies.map(b => ({ subject: { taskId: b.taskId, attempt: 1, executor: executor.peerId }, epoch: 0 }))
  return { bodies, items }
}

// CPU time, not wall time: other processes on a shared machine stretch the wall clock
function time (fn) {
  const t0 = process.cpuUsage()
  fn()
  const { user, system } = process.cpuUsage(t0)
  return user + system
}

function measure (n) {
  const sign = []; const apply = []; const own = []
  // at least ~1,000 results per figure
  const reps = Math.max(1, Math.ceil(1000 / n))
  for (let r = 0; r < rounds; r++) {
    let s = 0; let a = 0; let o = 0
    for (let k = 0; k < reps; k++) {
      const { bodies, items } = batch(n)
      let receipts, grants
      s += time(() => { receipts = signReceipts(bodies, executor); grants = signGrants(items, coordinator) })
      const ops = bodies.map((b, i) => ({
        author: executor.peerId,
        body: { taskId: b.taskId, attempt: 1, exitCode: 0, outputHash, receipt: receipts[i], grant: grants[i] }
      }))
      o += time(() => { for (const op of ops) if (resultProof(op).grant === undefined) throw new Error('rejected') })
      forget()
      a += time(() => { for (const op of ops) if (resultProof(op).grant === undefined) throw new Error('rejected') })
    }
    sign.push(s / (reps * n)); apply.push(a / (reps * n)); own.push(o / (reps * n))
  }
  const med = v => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)].toFixed(1)
  return { n, sign: med(sign), apply: med(apply), own: med(own) }
}

// warm up the JIT and the key caches
measure(10)
console.log(`proof costs, CPU µs per result (median of ${rounds}); batch proofs: ${cache === undefined ? 'no' : 'yes'}`)
console.log('| batch | sign receipt+grant | apply (other member) | apply (signer) |')
console.log('|---:|---:|---:|---:|')
for (const n of SIZES) {
  const m = measure(n)
  console.log(`| ${m.n} | ${m.sign} | ${m.apply} | ${m.own} |`)
}
