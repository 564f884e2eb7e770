#!/usr/bin/env node
// `npm run build && node bench/pnet-cipher.js [MiB]`: throughput of the team network
// protector (src/net/pnet.ts), one direction through a pair of in-memory connections, in
// 64 KiB writes (yamux's frame size). Reports MiB/s; asserts nothing.
import { randomBytes } from 'node:crypto'
import { multiaddrConnectionPair } from '@libp2p/utils'
import '../dist/polyfill.js'
import { MULTISTREAM_HEADER, teamNetwork } from '../dist/net/pnet.js'
import { XSalsa20Stream } from '../dist/net/xsalsa20-stream.js'

const total = Number(process.argv[2] ?? 256) * 1024 * 1024
const CHUNK = 64 * 1024
const key = randomBytes(32)

async function once () {
  const [outbound, inbound] = multiaddrConnectionPair()
  const [a, b] = await Promise.all([teamNetwork({ key })().protect(outbound), teamNetwork({ key })().protect(inbound)])
  const chunk = randomBytes(CHUNK)
  let got = 0
  const done = new Promise(resolve => {
    b.addEventListener('message', evt => {
      got += evt.data.byteLength
      if (got >= total + MULTISTREAM_HEADER.length) resolve()
    })
  })
  // the protector checks that the first bytes are multistream's header, as libp2p sends them
  a.send(MULTISTREAM_HEADER)
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!a.send(chunk)) await a.onDrain()
    // one write per turn of the event loop, as yamux frames leave a socket
    await new Promise(resolve => setImmediate(resolve))
  }
  await done
  const ms = performance.now() - t0
  await Promise.all([a.close().catch(() => {}), b.close().catch(() => {})])
  return (total / 1024 / 1024) / (ms / 1000)
}

/** the cipher alone: 64 KiB updates for one second */
function raw () {
  const stream = new XSalsa20Stream(randomBytes(32), randomBytes(24))
  const chunk = randomBytes(CHUNK)
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < 1000) { stream.update(chunk); n += CHUNK }
  return n / 1024 / 1024 / ((performance.now() - t0) / 1000)
}

const rawRuns = []
for (let i = 0; i < 5; i++) rawRuns.push(raw())
rawRuns.sort((x, y) => x - y)
console.log(`XSalsa20Stream alone, 64 KiB updates, 5 × 1 s: median ${rawRuns[2].toFixed(0)} MiB/s (min ${rawRuns[0].toFixed(0)}, max ${rawRuns[4].toFixed(0)})`)

const runs = []
for (let i = 0; i < 5; i++) runs.push(await once())
runs.sort((x, y) => x - y)
console.log(`pnet protector, ${total / 1024 / 1024} MiB in 64 KiB writes, 5 runs: median ${runs[2].toFixed(0)} MiB/s (min ${runs[0].toFixed(0)}, max ${runs[4].toFixed(0)})`)
