/**
 * Fuzz: random and mutated frames on every stream protocol of a real daemon (real libp2p,
 * real LevelDB, its own process), from a stock libp2p attacker holding the team key, and
 * member identities where the protocol needs a member. Every frame must be refused with
 * the typed error (`ProtocolError`): the daemon logs each as `protocol violation <protocol>
 * <field>` (debug namespace `paired:protocol`), and the count per protocol must equal the
 * frames sent. The daemon must still answer status after, and its memory stay bounded.
 *
 * The guards shape the run (they are part of what is under test, not switched off):
 * - task: no request limit on malformed frames (each ends its stream); every member sends, 4 streams at once each;
 * - query and sync: 20 requests/s per member (src/net/limits.ts): several members, paced under it;
 * - rekey: 1 request/s per member (burst 5): a few frames per member;
 * - team (the hello): a malformed hello is a fault (the peer is cut off for 30 s), so each
 *   frame comes from a fresh key holder, from its own loopback address (libp2p admits 5
 *   connections/s per host).
 *
 * `PAIRED_FUZZ_SEED` (default 1; `random` draws one) and `PAIRED_FUZZ_FRAMES` (frames per
 * protocol; default 10,000 for task, and the guards' budget for the others) vary it;
 * `PAIRED_FUZZ_MEMBERS` (default 3) sets how many members share the rate-limited protocols.
 * A full run, 10,000 on every protocol:
 * `PAIRED_FUZZ_FRAMES=10000 PAIRED_FUZZ_MEMBERS=40 npx vitest run test/e2e/fuzz.test.ts`
 * (measured: about 5 min; task 13 s, then query and sync 27 s, the hello 150 s and rekey
 * 260 s at once, rekey paced by its 1 request/s per member; RSS +67 MiB).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp, type TCPOptions } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { teamNetwork } from '../../src/net/pnet.js'
import { MAX_QUERY_MESSAGE_BYTES, MAX_TEAM_MESSAGE_BYTES, PROTOCOL_QUERY, PROTOCOL_TEAM } from '../../src/node/constants.js'
import { MAX_SYNC_FRAME_BYTES, PROTOCOL_SYNC } from '../../src/state/sync/index.js'
import { MAX_TASK_MESSAGE_BYTES, PROTOCOL_TASK } from '../../src/tasks/constants.js'
import { PROTOCOL_REKEY } from '../../src/daemon/rekey.js'
import { taskMessage } from '../../src/protocol/schemas/task.js'
import { helloOpen } from '../../src/protocol/schemas/team.js'
import { queryRequest } from '../../src/protocol/schemas/query.js'
import { syncPull } from '../../src/protocol/schemas/sync.js'
import { rekeyRequest } from '../../src/protocol/schemas/rekey.js'
import type { Validator } from '../../src/model/schema.js'
import { acceptInvite, decodeInvite, type MemberCertificate } from '../../src/team/index.js'
import { DaemonProcess, apiGet, eventually, sleep } from './harness.js'
import { addrOf, answerHellos, createAttacker, readTeam, rssBytes, sayHello, type Attacker } from './attacker.js'
import { frames, rng, wire, type Frame, type Rand } from '../fuzz/frames.js'

const SEED = process.env.PAIRED_FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PAIRED_FUZZ_SEED ?? 1)
const FRAMES = process.env.PAIRED_FUZZ_FRAMES != null ? Number(process.env.PAIRED_FUZZ_FRAMES) : undefined
/** members that send the rate-limited protocols' frames (`PAIRED_FUZZ_MEMBERS`: more make a full run faster) */
const MEMBERS = Number(process.env.PAIRED_FUZZ_MEMBERS ?? 3)

interface Target {
  protocol: string
  maxBytes: number
  accepts: Validator<unknown>
  templates: (r: Rand) => unknown
  /** frames in npm test */
  defaultFrames: number
  /** frames in flight at once (within the protocol's stream limits) */
  parallel: number
}

const pickOf = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const SIG = 'A'.repeat(86)

function taskTemplates (r: Rand): unknown {
  const task = {
    taskId: 't-1', attempt: 1, agent: 'echo', input: { a: [1, 2] }, priority: 'normal', timeoutMs: 1000,
    leaseMs: 5000, coordinator: PEER, submitter: PEER, grant: { coordinator: PEER, epoch: 0, sig: SIG }
  }
  return pickOf(r, [
    { t: 'offer', id: 1, task },
    { t: 'cancel', taskId: 't-1' },
    { t: 'logs', id: 2, taskId: 't-1' },
    { t: 'reply', id: 3, accepted: true, reason: 'ok', startedWall: 1_700_000_000_000, others: 2, lines: ['a'], truncated: false },
    { t: 'started', taskId: 't-1', attempt: 1, startedWall: 1_700_000_000_000 },
    { t: 'renew', taskId: 't-1', attempt: 1, expiresWall: 1_700_000_000_000 },
    { t: 'log', taskId: 't-1', lines: ['line'] },
    { t: 'finished', taskId: 't-1', attempt: 1, others: 0 },
    { t: 'done', taskId: 't-1', attempt: 1, batch: { author: PEER } }
  ])
}

describe('fuzz: every frame a peer sends is checked by its schema', () => {
  const d = new DaemonProcess({ name: 'fuzzed' })
  const attackers: Attacker[] = []
  const members: Attacker[] = []
  let target: Multiaddr
  let psk = ''
  let teamId = ''
  let cert: MemberCertificate

  const targets: Target[] = [
    { protocol: PROTOCOL_TASK, maxBytes: MAX_TASK_MESSAGE_BYTES, accepts: taskMessage, templates: taskTemplates, defaultFrames: 10_000, parallel: 4 * MEMBERS },
    { protocol: PROTOCOL_QUERY, maxBytes: MAX_QUERY_MESSAGE_BYTES, accepts: queryRequest, templates: () => ({ type: 'status' }), defaultFrames: 600, parallel: MEMBERS },
    { protocol: PROTOCOL_SYNC, maxBytes: MAX_SYNC_FRAME_BYTES, accepts: syncPull, templates: r => ({ type: 'pull', vv: { [PEER]: Math.floor(r() * 10) }, window: 8 }), defaultFrames: 600, parallel: MEMBERS },
    {
      protocol: PROTOCOL_REKEY,
      maxBytes: MAX_QUERY_MESSAGE_BYTES,
      accepts: rekeyRequest,
      templates: () => ({ type: 'rekey', rotation: { v: 1, teamId, keyEpoch: 2, psk: 'ab'.repeat(32), at: 1_700_000_000_000, by: PEER, sig: SIG } }),
      defaultFrames: 5 * MEMBERS,
      parallel: MEMBERS
    },
    { protocol: PROTOCOL_TEAM, maxBytes: MAX_TEAM_MESSAGE_BYTES, accepts: helloOpen, templates: () => ({ type: 'hello', cert, roster: [cert], departures: [] }), defaultFrames: 300, parallel: 4 }
  ]

  /** `protocol violation <protocol> <field>` lines in the daemon's log, per protocol */
  function violations (): Map<string, number> {
    const counts = new Map<string, number>()
    for (const m of d.log.matchAll(/protocol violation (\S+) (\S+)/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1)
    return counts
  }

  beforeAll(async () => {
    const debug = process.env.DEBUG
    process.env.DEBUG = 'paired:protocol'
    try {
      await d.start()
    } finally {
      if (debug === undefined) delete process.env.DEBUG
      else process.env.DEBUG = debug
    }
    await d.json(['team', 'create', 'fuzz'])
    const team = await readTeam(d.home)
    psk = team.team.psk
    teamId = team.team.teamId
    target = addrOf((await apiGet<{ addresses: string[] }>(d, 'status')).addresses)
    for (let i = 0; i < MEMBERS; i++) {
      const { token } = await d.json<{ token: string }>(['team', 'invite', '--role', 'member'])
      const invite = decodeInvite(token)
      // with ping, as a member must have: one that passed the hello and answers no probe is declared dead and hung up on
      const x = await createAttacker({ psk: invite.team.psk, teamId: invite.team.teamId })
      attackers.push(x)
      const c = acceptInvite({ token: invite, signer: x.signer, name: `fuzzer-${i}`, now: Date.now() })
      if (i === 0) cert = c
      await answerHellos(x.node, c)
      await eventually('the daemon admits the fuzzer', async () => (await sayHello(x.node, target, c)).ok ? true : undefined, 15_000, 300)
      members.push(x)
    }
  }, 30_000 + MEMBERS * 5_000)

  afterAll(async () => {
    await Promise.all(attackers.map(async x => { await x.stop().catch(() => {}) }))
    await d.cleanup()
  })

  /** writes one frame on a new stream and waits until the daemon ends the stream */
  async function send (open: () => Promise<Stream>, bytes: Uint8Array): Promise<void> {
    const stream = await open()
    const closed = new Promise<void>(resolve => {
      const timer = setTimeout(() => { stream.abort(new Error('no answer')); resolve() }, 10_000)
      stream.addEventListener('close', () => { clearTimeout(timer); resolve() }, { once: true })
    })
    try {
      if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
      await stream.close({ signal: AbortSignal.timeout(10_000) })
    } catch {}
    await closed
  }

  /** a fresh key holder from its own loopback address: one malformed hello each */
  async function helloFrom (i: number, bytes: Uint8Array): Promise<void> {
    const host = `127.0.${1 + Math.floor(i / 4) % 250}.${1 + i % 4}`
    const node = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      transports: [tcp({ dialOpts: { localAddress: host } as NonNullable<TCPOptions['dialOpts']> })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // the daemon's own protector: stock @libp2p/pnet keeps WebAssembly memory per
      // connection, and thousands of one-hello key holders run this process out of it
      connectionProtector: teamNetwork({ key: Buffer.from(psk, 'hex') }),
      connectionGater: { denyDialMultiaddr: () => false },
      connectionMonitor: { enabled: false }
    })
    try {
      await send(async () => await node.dialProtocol(target, PROTOCOL_TEAM, { signal: AbortSignal.timeout(10_000) }), bytes)
    } finally {
      await node.stop()
    }
  }

  it('refuses every random and mutated frame with a ProtocolError, stays up, and keeps its memory bounded', async () => {
    const pid = d.pid
    if (pid == null) throw new Error('the daemon is not running')
    const rss0 = await rssBytes(pid)
    const before = violations()
    const r = rng(SEED)
    // frames are drawn up front, in the order of `targets`: the same seed gives the same frames
    const drawn = targets.map(t => frames(r, FRAMES ?? t.defaultFrames, t.templates, t.accepts, t.maxBytes))
    const report = new Map<string, string>()
    const fuzz = async (t: Target, batch: Frame[]): Promise<void> => {
      const count = batch.length
      const kinds = new Map<string, number>()
      for (const f of batch) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1)
      const t0 = performance.now()
      let next = 0
      const lanes = Array.from({ length: t.parallel }, async (_, lane) => {
        const member = members[lane % members.length]
        // query and sync: 20/s per member (paced at 18/s); rekey: its burst of 5, then 1/s
        const gapMs = t.protocol === PROTOCOL_QUERY || t.protocol === PROTOCOL_SYNC ? 1000 / 18 : t.protocol === PROTOCOL_REKEY ? 1_050 : 0
        let sentHere = 0
        for (;;) {
          const i = next++
          if (i >= batch.length) return
          const t1 = performance.now()
          const bytes = wire(batch[i], t.maxBytes)
          if (t.protocol === PROTOCOL_TEAM) await helloFrom(i, bytes)
          else await send(async () => await member.node.dialProtocol(target, t.protocol, { signal: AbortSignal.timeout(10_000) }), bytes)
          sentHere++
          const wait = t.protocol === PROTOCOL_REKEY && sentHere <= 4 ? 0 : gapMs - (performance.now() - t1)
          if (wait > 0) await sleep(wait)
        }
      })
      await Promise.all(lanes)
      const want = (before.get(t.protocol) ?? 0) + count
      await eventually(`${count} violations of ${t.protocol} logged`, async () => (violations().get(t.protocol) ?? 0) >= want ? true : undefined, 20_000, 100)
      const ms = performance.now() - t0
      report.set(t.protocol, `${t.protocol}: ${count} frames (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) in ${(ms / 1000).toFixed(1)} s, ${(count / ms * 1000).toFixed(0)} frames/s`)
    }
    // the task protocol alone first (it has no rate limit: it runs as fast as the daemon
    // refuses), then the others at once: each has its own limiter
    await fuzz(targets[0], drawn[0])
    await Promise.all(targets.slice(1).map(async (t, i) => { await fuzz(t, drawn[i + 1]) }))
    await sleep(500)
    const after = violations()
    for (const t of targets) {
      expect(after.get(t.protocol) ?? 0, `${t.protocol}: violations logged vs frames sent`).toBe((before.get(t.protocol) ?? 0) + (FRAMES ?? t.defaultFrames))
    }
    // still up, and still serving its members
    const status = await apiGet<{ peerId: string, members: number }>(d, 'status')
    expect(status.members).toBe(1 + MEMBERS)
    const rss1 = await rssBytes(pid)
    console.log(`fuzz seed ${SEED}\n${targets.map(t => report.get(t.protocol)).join('\n')}\nRSS ${(rss0 / 2 ** 20).toFixed(1)} MiB before, ${(rss1 / 2 ** 20).toFixed(1)} MiB after`)
    expect(rss1 - rss0, 'RSS growth').toBeLessThan(256 * 2 ** 20)
  }, 3_600_000)
})
