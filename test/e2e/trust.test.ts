/**
 * The trust model (docs/DESIGN.md §3) against a stock js-libp2p attacker on real daemons:
 * an outsider without the network key, a key holder without a certificate, a guest, and
 * an insider that joined with an invite and speaks the wire protocols by hand.
 * Loopback only; every daemon and node is stopped at the end. See docs/THREAT_MODEL.md.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { HELLO_DEADLINE_MS, PROTOCOL_QUERY, stateTopic } from '../../src/node/constants.js'
import { PROTOCOL_SYNC } from '../../src/state/sync/index.js'
import { PROTOCOL_TASK } from '../../src/tasks/constants.js'
import { QUERY_LIMIT } from '../../src/net/limits.js'
import { acceptInvite, decodeInvite, type Grant, type MemberCertificate } from '../../src/team/index.js'
import { signOwnCertificate } from '../../src/team/certificate.js'
import { signBatch, type OpBatch } from '../../src/state/ops/index.js'
import { DaemonProcess, allConnected, apiGet, apiPost, eventually, formTeam, sleep } from './harness.js'
import {
  addrOf, answerHellos, createAttacker, dhtAnswers, exchange, frame, kvSetBatch, publishState, readTeam, rssBytes, sayHello,
  sendRaw, timed, varint, waitForSubscriber, type Attacker, type AttackerNode
} from './attacker.js'

interface Status { peerId: string, addresses: string[], stateHash?: string, stateDigest?: string }
interface PeerRow { peerId: string, state: string, connected: boolean, reputation: number | null, reputationStatus?: string | null }

const utf8 = new TextEncoder()
const json = (value: unknown): Uint8Array => utf8.encode(JSON.stringify(value))

/** the three request/response probes, each with what a real answer looks like */
const PROBES: Array<{ protocol: string, request: unknown, answered: (r: unknown) => boolean }> = [
  { protocol: PROTOCOL_QUERY, request: { type: 'status' }, answered: r => (r as { status?: unknown })?.status != null },
  { protocol: PROTOCOL_SYNC, request: { type: 'pull', vv: {}, window: 8 }, answered: r => ['batch', 'done'].includes((r as { type?: string })?.type ?? '') },
  { protocol: PROTOCOL_TASK, request: { t: 'logs', id: 1, taskId: 'no-such-task' }, answered: r => (r as { t?: string })?.t === 'reply' }
]

async function probeAll (node: AttackerNode, target: Multiaddr): Promise<Record<string, { ok: boolean, error?: string }>> {
  const results = await Promise.all(PROBES.map(async p => await exchange(node, target, p.protocol, p.request, p.answered)))
  return Object.fromEntries(PROBES.map((p, i) => [p.protocol, { ok: results[i].ok, error: results[i].error }]))
}

function connectedTo (node: AttackerNode, peer: string): boolean {
  return node.getConnections(peerIdFromString(peer)).some(c => c.status === 'open')
}

describe('trust boundaries against a stock libp2p attacker', () => {
  const a = new DaemonProcess({ name: 'alice' })
  const b = new DaemonProcess({ name: 'bob' })
  const g = new DaemonProcess({ name: 'gus' })
  const ids: Record<string, string> = {}
  const attackers: Attacker[] = []
  let teamId = ''
  let psk = ''

  async function status (d: DaemonProcess): Promise<Status> {
    return await apiGet<Status>(d, 'status')
  }

  async function kvKeys (d: DaemonProcess, prefix: string): Promise<Record<string, unknown>> {
    const rows = await apiGet<Array<{ key: string, value: unknown }>>(d, `kv/list?prefix=${encodeURIComponent(prefix)}`)
    return Object.fromEntries(rows.map(r => [r.key, r.value]))
  }

  async function attacker (init: Parameters<typeof createAttacker>[0] = {}): Promise<Attacker> {
    const x = await createAttacker(init)
    attackers.push(x)
    return x
  }

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), g.start()])
    await formTeam(a, [b])
    const { token } = await a.json<{ token: string }>(['team', 'invite', '--role', 'guest'])
    await g.json(['team', 'join', token])
    await allConnected([a, b, g])
    for (const d of [a, b, g]) ids[d.name] = (await status(d)).peerId
    const team = await readTeam(b.home)
    teamId = team.team.teamId
    psk = team.team.psk
  }, 90_000)

  afterAll(async () => {
    await Promise.all(attackers.map(async x => { await x.stop().catch(() => {}) }))
    await Promise.all([a, b, g].map(async d => { await d.cleanup() }))
  })

  it('without the network key, or with a wrong one, a dial fails in under 1 s and the member never lists the dialer', async () => {
    const target = addrOf((await status(a)).addresses)
    // The member's protector (src/net/pnet.ts) reads a keyless dialer's first 20 bytes as
    // multistream in clear, and a wrong key's first decrypted bytes as noise: both are reset at
    // once, not at the inbound upgrade timeout (2 s), which a dialer would otherwise wait out.
    const outsiders: Attacker[] = []
    const times: string[] = []
    for (let i = 0; i < 10; i++) {
      const x = await attacker(i % 2 === 0 ? {} : { psk: randomBytes(32).toString('hex') })
      outsiders.push(x)
      const r = await timed(async () => await x.node.dial(target, { signal: AbortSignal.timeout(5_000) }))
      expect(r.ok, 'the dial succeeded').toBe(false)
      times.push(`${i % 2 === 0 ? 'no key' : 'wrong key'} ${r.ms.toFixed(0)} ms`)
      expect(r.error?.name, `dial ${i} was not refused but gave up: ${r.error?.message ?? ''}`).not.toBe('TimeoutError')
      expect(r.ms, `dial ${i} took ${r.ms.toFixed(0)} ms`).toBeLessThan(1_000)
      await sleep(250) // under the member's 5 connections/s per host
    }
    console.log(`outsiders' dials: ${times.join(', ')}`)
    const peers = (await apiGet<PeerRow[]>(a, 'peers')).map(p => p.peerId)
    for (const x of outsiders) expect(peers).not.toContain(x.peerId)
  }, 30_000)

  it('with the key but no certificate: 0 answered requests, a self-signed batch changes nothing, dropped at the hello deadline', async () => {
    const [sa, sb] = await Promise.all([status(a), status(b)])
    const x = await attacker({ psk })
    const targetA = addrOf(sa.addresses)
    const targetB = addrOf(sb.addresses)

    // the network key is enough for a connection...
    const opened = Date.now()
    await x.node.dial(targetA)
    await x.node.dial(targetB)
    const row = (await apiGet<PeerRow[]>(a, 'peers')).find(p => p.peerId === x.peerId)
    expect(row?.state).toBe('unverified')

    // ...but not for any application protocol
    for (const [target, name] of [[targetA, 'alice'], [targetB, 'bob']] as const) {
      const results = await probeAll(x.node, target)
      console.log(`key holder without a certificate → ${name}:`, JSON.stringify(results))
      expect(Object.values(results).filter(r => r.ok)).toHaveLength(0)
    }
    // the team's DHT: its streams wait at the member gate, so a query gets no answer (another
    // node: a DHT client redials the members that hang up on it, which the check below forbids)
    const asker = await attacker({ psk, teamId })
    await asker.node.dial(targetA)
    await asker.node.dial(targetB)
    const dhtFrom = await dhtAnswers(asker.node, 3_000)
    console.log(`key holder without a certificate → DHT answers from: ${JSON.stringify(dhtFrom)}`)
    expect(dhtFrom).toEqual([])
    await asker.stop()

    // a well-formed batch, correctly signed by the attacker's own key, on the state topic: no
    // member told it of a subscription (no gossip before the hello), so it reaches nobody
    const batch = kvSetBatch(teamId, x.signer, 1, 'trust/outsider', 'owned')
    await sleep(1_000)
    expect(x.node.services.pubsub.getSubscribers(stateTopic(teamId))).toEqual([])
    const recipients = await publishState(x.node, teamId, json(batch)).catch(() => [] as string[])
    expect(recipients).toEqual([])
    await sleep(1_000)
    const [after1, after2] = await Promise.all([status(a), status(b)])
    expect(after1.stateHash).toBe(sa.stateHash)
    expect(after2.stateHash).toBe(sb.stateHash)
    expect(await kvKeys(a, 'trust/')).toEqual({})
    expect(await kvKeys(b, 'trust/')).toEqual({})

    // no proof of membership: both members hang up once the deadline passes
    await eventually('the members hang up on the key holder', async () =>
      connectedTo(x.node, ids.alice) || connectedTo(x.node, ids.bob) ? undefined : true, HELLO_DEADLINE_MS + 8_000, 100)
    const droppedAfter = Date.now() - opened
    console.log(`key holder without a certificate: disconnected ${droppedAfter} ms after connecting (deadline ${HELLO_DEADLINE_MS} ms)`)
    expect(droppedAfter).toBeGreaterThanOrEqual(HELLO_DEADLINE_MS - 500)
    // and may not come straight back: for a minute its connections are refused once Noise names it
    await x.node.dial(targetA, { signal: AbortSignal.timeout(3_000) }).catch(() => {})
    await eventually('alice refuses the key holder\'s new connection', async () => connectedTo(x.node, ids.alice) ? undefined : true, 5_000, 50)
    expect((await apiGet<PeerRow[]>(a, 'peers')).find(p => p.peerId === x.peerId)?.connected ?? false).toBe(false)
    for (const d of [a, b]) {
      const members = await d.json<Array<{ peerId: string }>>(['team', 'members'])
      expect(members.map(m => m.peerId)).not.toContain(x.peerId)
      expect(members).toHaveLength(3)
      const peers = await d.json<PeerRow[]>(['peers'])
      expect(peers.find(p => p.peerId === x.peerId)?.connected ?? false).toBe(false)
    }
  }, 40_000)

  it('a guest cannot submit above its lane: one clear line, non-zero exit', async () => {
    const r = await g.cli(['submit', 'echo', '--priority', 'critical'])
    expect(r.code).not.toBe(0)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/may submit at most at normal/)
    const ok = await g.cli(['submit', 'echo', '--priority', 'normal', '--json'])
    expect(ok.code, ok.stderr).toBe(0)
  })

  describe('an insider: a stock node that joined with a member invite', () => {
    let x: Attacker
    let cert: MemberCertificate
    let seq = 0
    const captured: Array<{ data: Uint8Array, batch: OpBatch }> = []

    async function join (d: DaemonProcess): Promise<void> {
      const target = addrOf((await status(d)).addresses)
      await eventually(`${d.name} admits the insider`, async () => {
        if (connectedTo(x.node, ids[d.name]) && (await apiGet<PeerRow[]>(d, 'peers')).find(p => p.peerId === x.peerId)?.state !== 'unverified') return true
        const r = await sayHello(x.node, target, cert)
        return r.ok ? true : undefined
      }, 15_000, 300)
      await waitForSubscriber(x.node, teamId, ids[d.name])
    }

    /** publish a fresh batch by the insider itself and wait until `d` holds it: the gossip path is live */
    async function control (d: DaemonProcess): Promise<void> {
      seq++
      const key = `trust/insider-${seq}`
      await publishState(x.node, teamId, json(kvSetBatch(teamId, x.signer, seq, key, seq)))
      await eventually(`${d.name} applies the insider's own batch ${seq}`, async () => (await kvKeys(d, key))[key] === seq ? true : undefined, 10_000, 100)
    }

    beforeAll(async () => {
      const { token } = await a.json<{ token: string }>(['team', 'invite', '--role', 'member'])
      const invite = decodeInvite(token)
      x = await attacker({ psk: invite.team.psk })
      cert = acceptInvite({ token: invite, signer: x.signer, name: 'mallory', now: Date.now() })
      await answerHellos(x.node, cert)
      x.node.services.pubsub.subscribe(stateTopic(teamId))
      x.node.services.pubsub.addEventListener('message', evt => {
        if (evt.detail.topic !== stateTopic(teamId)) return
        try {
          captured.push({ data: evt.detail.data, batch: JSON.parse(new TextDecoder().decode(evt.detail.data)) as OpBatch })
        } catch {}
      })
      await join(a)
      await join(b)
    }, 60_000)

    it('after the hello, the same requests are answered (the probes of the key holder were real)', async () => {
      const members = await b.json<Array<{ peerId: string, name: string, role: string }>>(['team', 'members'])
      expect(members.find(m => m.peerId === x.peerId)).toMatchObject({ name: 'mallory', role: 'member' })
      const results = await probeAll(x.node, addrOf((await status(a)).addresses))
      expect(results).toEqual({
        [PROTOCOL_QUERY]: { ok: true },
        [PROTOCOL_SYNC]: { ok: true },
        [PROTOCOL_TASK]: { ok: true }
      })
      // the DHT answers a member (another insider: a DHT client redials whoever hangs up on it,
      // which would blur the removal test below)
      const asker = await attacker({ psk, teamId })
      const askerCert = acceptInvite({ token: decodeInvite((await a.json<{ token: string }>(['team', 'invite'])).token), signer: asker.signer, name: 'asker', now: Date.now() })
      await answerHellos(asker.node, askerCert)
      expect((await sayHello(asker.node, addrOf((await status(a)).addresses), askerCert)).ok).toBe(true)
      expect(await dhtAnswers(asker.node, 5_000)).toContain(ids.alice)
      await asker.stop()
      await control(a)
      await control(b)
    }, 30_000)

    it('a captured batch replayed 5 s later and after a restart is applied 0 times', async () => {
      const key = 'trust/replay'
      await apiPost(a, 'kv/set', { key, value: 'v1' })
      const original = await eventually('the insider captures alice\'s batch', async () =>
        captured.find(c => c.batch.author === ids.alice && c.batch.ops.some(op => (op.body as { key?: string }).key === key)), 10_000, 50)
      await eventually('bob holds v1', async () => (await kvKeys(b, key))[key] === 'v1' ? true : undefined)
      await sleep(5_000)
      await apiPost(a, 'kv/set', { key, value: 'v2' })
      await eventually('bob holds v2', async () => (await kvKeys(b, key))[key] === 'v2' ? true : undefined)

      // the same signed batch in other bytes (so gossipsub's seen-cache does not drop it): it reaches the store
      const reencoded = utf8.encode(JSON.stringify(original.batch, null, 1))
      const before = await status(b)
      expect(await publishState(x.node, teamId, reencoded)).toContain(ids.bob)
      await control(b)
      const after = await status(b)
      expect((await kvKeys(b, key))[key]).toBe('v2')
      expect(after.stateHash).not.toBe(before.stateHash) // the control: the insider's gossip reached bob's store
      // alice (the author, which got the replay too) and bob still hold the same state
      await eventually('alice and bob converge', async () => (await status(a)).stateHash === after.stateHash ? true : undefined, 10_000, 100)

      // after a restart: bob's caches are empty, the per-author seq comes back from LevelDB
      // (a third encoding: the insider's own gossipsub remembers the two it has seen)
      await b.stop()
      b.log = '' // start() waits for a fresh ready line
      await b.start()
      await join(b)
      const restarted = await status(b)
      expect((await kvKeys(b, key))[key]).toBe('v2')
      expect(await publishState(x.node, teamId, utf8.encode(JSON.stringify(original.batch, null, 2)))).toContain(ids.bob)
      await sleep(1_000)
      const replayed = await status(b)
      expect(replayed.stateHash).toBe(restarted.stateHash)
      expect(replayed.stateDigest).toBe(restarted.stateDigest)
      expect((await kvKeys(b, key))[key]).toBe('v2')
      await control(b)
    }, 60_000)

    it('10,000 malformed and oversized frames on task and sync: no crash, RSS within +50 MB, still answering', async () => {
      const target = addrOf((await status(b)).addresses)
      const pid = b.pid as number
      const garbage = fc.oneof(
        // random bytes: almost never UTF-8 JSON
        fc.uint8Array({ minLength: 0, maxLength: 512 }).map(frame),
        // JSON that is not a message of either protocol
        fc.jsonValue({ maxDepth: 3 }).map(v => frame(json({ t: 'bogus', v }))),
        fc.record({ t: fc.constantFrom('offer', 'done', 'reply', 'log', 'pull'), id: fc.oneof(fc.string(), fc.double()) }).map(v => frame(json(v))),
        // a length prefix past the 4 MiB frame limit, then a little data
        fc.integer({ min: 4 * 1024 * 1024 + 1, max: 2 ** 31 }).map(n => Uint8Array.from([...varint(n), 0x7b, 0x7d])),
        // a frame cut short, then end of stream
        fc.integer({ min: 10, max: 100_000 }).map(n => Uint8Array.from([...varint(n), 0x7b]))
      )
      const frames = fc.sample(garbage, { numRuns: 10_000, seed: 20261105 })
      // a few large ones inside the limit, 256 KiB of not-JSON each (the attacker's own pnet cipher,
      // xsalsa20, runs out of WASM memory on many single writes over ~640 KB)
      for (let i = 0; i < 16; i++) frames[i * 600] = frame(new Uint8Array(256 * 1024).fill(0x5b))

      // three task lanes as fast as they go; one sync lane at ~33 pulls/s: past the 20/s
      // limit (some are refused) but within its slack, so bob does not cut the insider off
      // (a flood past the slack is the next test's)
      const lanes = [PROTOCOL_TASK, PROTOCOL_TASK, PROTOCOL_TASK, PROTOCOL_SYNC]
      const SYNC_EVERY = 29
      let opened = 0
      let answered = 0
      let limited = 0
      async function blast (batch: Uint8Array[]): Promise<void> {
        await Promise.all(lanes.map(async (protocol, lane) => {
          const sync = protocol === PROTOCOL_SYNC
          for (let i = 0; i < batch.length; i++) {
            if (sync !== (i % SYNC_EVERY === 0) || (!sync && i % 3 !== lane)) continue
            const sent = Date.now()
            const r = await sendRaw(x.node, target, protocol, batch[i])
            if (r.opened) opened++
            // a sync pull past the per-peer limit is refused in words; anything else is an answer
            if (r.reply?.includes('"RateLimitedError"') === true) limited++
            else if (r.answered) answered++
            if (sync) await sleep(Math.max(0, 30 - (Date.now() - sent)))
          }
        }))
      }

      /** the highest RSS seen (sampled every 200 ms) while `work` runs */
      async function peakRss (work: Promise<void>): Promise<number> {
        let peak = await rssBytes(pid)
        let done = false
        const sampler = (async () => {
          while (!done) {
            peak = Math.max(peak, await rssBytes(pid))
            await sleep(200)
          }
        })()
        await work.finally(() => { done = true })
        await sampler
        return Math.max(peak, await rssBytes(pid))
      }

      // the RSS of a daemon that just started grows to its working size under the first
      // ~10,000 streams, then moves ±40 MB with garbage collection but no higher (measured:
      // +70 MB over the first 10,000, +0 over the next 30,000). So: warm up with 10,000 frames
      // of another seed, then compare the peak of the measured 10,000 with the warm-up's peak.
      // Where a peak lands depends on when V8 collects: one warm-up peaked 137 MB where others
      // reached 168–170, so warm up twice and take the higher peak as the working size
      const repBefore = (await apiGet<PeerRow[]>(b, 'peers')).find(p => p.peerId === x.peerId)
      const rssFresh = await rssBytes(pid)
      const rss0 = Math.max(
        await peakRss(blast(fc.sample(garbage, { numRuns: 10_000, seed: 1 }))),
        await peakRss(blast(fc.sample(garbage, { numRuns: 10_000, seed: 2 }))))
      opened = 0
      answered = 0
      limited = 0
      const t0 = Date.now()
      const rssRun = await peakRss(blast(frames))
      const ms = Date.now() - t0
      // on a loaded machine one peak can land 40+ MB high on a late collection: measure a
      // second run of another seed and keep the lower peak (a leak raises both)
      const rss1 = Math.min(rssRun, await peakRss(blast(fc.sample(garbage, { numRuns: 10_000, seed: 3 }))))
      const row = (await apiGet<PeerRow[]>(b, 'peers')).find(p => p.peerId === x.peerId)
      const history = (await apiGet<{ reputationHistory: Array<{ event: string }> }>(b, `peers/${x.peerId}`)).reputationHistory
      const violations = history.filter(e => e.event.includes('protocol-violation')).length
      console.log(`insider's reputation on bob before: ${String(repBefore?.reputation)} (${String(repBefore?.reputationStatus)}); ` +
        `history: ${history.length} events, ${violations} protocol violations; last: ${JSON.stringify(history.at(-1))}`)
      console.log(`fuzz: ${frames.length} frames in ${ms} ms, ${opened} streams opened, ${answered} answered, ${limited} sync pulls refused by the rate limit; ` +
        `RSS ${(rssFresh / 2 ** 20).toFixed(1)} MiB before the warm-ups, peak ${(rss0 / 2 ** 20).toFixed(1)} in them, peak ${(rss1 / 2 ** 20).toFixed(1)} in the measured run; insider's reputation on bob: ${String(row?.reputation)} (${String(row?.reputationStatus)}), connected ${String(row?.connected)}`)

      expect(b.proc?.exitCode ?? null).toBeNull()
      expect(opened).toBeGreaterThan(frames.length * 0.9)
      expect(answered).toBe(0)
      expect(limited).toBeGreaterThan(0) // the sync lanes ran far past 20 pulls/s
      expect(rss1 - rss0).toBeLessThan(50 * 1024 * 1024)
      const st = await b.cli(['status'])
      expect(st.code, st.stderr).toBe(0)
      // the task links count a malformed task message as a protocol violation
      expect(row?.reputationStatus).toMatch(/quarantined|banned/)
    }, 120_000)

    // Attacks found by this file (first written as GAP tests that asserted the attack
    // succeeded), now refused. What is still not enforced: docs/THREAT_MODEL.md, last section.
    describe('insider attacks on tasks, ops and invites', () => {
      async function sendTask (d: DaemonProcess, msg: unknown): Promise<void> {
        const r = await sendRaw(x.node, addrOf((await status(d)).addresses), PROTOCOL_TASK, frame(json(msg)))
        expect(r.opened).toBe(true)
      }

      it('a key holder without a certificate hears none of the gossip a member hears', async () => {
        const eaves = await attacker({ psk })
        const heard: string[] = []
        eaves.node.services.pubsub.subscribe(stateTopic(teamId))
        eaves.node.services.pubsub.addEventListener('message', evt => { heard.push(new TextDecoder().decode(evt.detail.data)) })
        await eaves.node.dial(addrOf((await status(a)).addresses))
        // alice tells it nothing, not even what she subscribes to (no gossip before the hello)
        await sleep(1_000)
        expect(eaves.node.services.pubsub.getSubscribers(stateTopic(teamId))).toEqual([])
        await apiPost(a, 'kv/set', { key: 'trust/secret', value: 'launch at dawn' })
        // the control: the insider, a member, hears it on the same topic
        await eventually('the insider hears the write', async () =>
          captured.some(c => JSON.stringify(c.batch).includes('launch at dawn')) ? true : undefined, 8_000, 50)
        await sleep(1_000)
        expect(heard.filter(h => h.includes('launch at dawn'))).toEqual([])
        expect(heard).toEqual([])
        await eaves.stop()
      }, 20_000)

      it('an insider\'s task `cancel` does not stop an attempt it does not coordinate', async () => {
        const { taskId } = await a.json<{ taskId: string }>(['submit', 'sleep', '--input', '{"ms":3000}'])
        const running = await eventually('the task runs', async () => {
          const t = await apiGet<{ state: string, executor: string | null }>(a, `tasks/${taskId}`)
          return t.state === 'running' && t.executor != null ? t : undefined
        }, 10_000, 100)
        const executor = [a, b, g].find(d => ids[d.name] === running.executor) as DaemonProcess
        await join(executor)
        await sendTask(executor, { t: 'cancel', taskId })
        const done = await eventually('attempt 1 ends', async () => {
          const t = await apiGet<{ results: Array<{ attempt: number, exitCode: number }> }>(a, `tasks/${taskId}`)
          return t.results.find(r => r.attempt === 1)
        }, 10_000, 100)
        expect(done.exitCode).toBe(0)
      }, 30_000)

      it('only the submitter cancels: a member\'s replicated `task:cancel` op and another member\'s CLI stop nothing', async () => {
        const { taskId } = await a.json<{ taskId: string }>(['submit', 'sleep', '--input', '{"ms":3000}'])
        await eventually('the task runs', async () => (await apiGet<{ state: string }>(a, `tasks/${taskId}`)).state === 'running' ? true : undefined, 10_000, 100)
        // the insider's own signed cancel, gossiped to everyone: recorded, but not the submitter's
        seq++
        const op = { author: x.peerId, seq, hlc: { wall: Date.now(), logical: 0, node: x.peerId }, kind: 'task:cancel', body: { taskId } }
        expect(await publishState(x.node, teamId, json(signBatch([op], x.signer, teamId)))).toEqual(expect.arrayContaining([ids.alice, ids.bob]))
        await eventually('alice records the insider\'s cancel', async () =>
          (await apiGet<{ cancelRequests?: string[] }>(a, `tasks/${taskId}`)).cancelRequests?.includes(x.peerId) === true ? true : undefined, 5_000, 50)
        // a member who did not submit it, through the CLI: one clear line, a non-zero exit
        const r = await b.cli(['task', 'cancel', taskId])
        expect(r.code).not.toBe(0)
        expect(r.stderr.trim().split('\n')).toHaveLength(1)
        expect(r.stderr).toMatch(/only the machine that submitted task/)
        const final = await eventually('the task ends', async () => {
          const t = await apiGet<{ state: string }>(a, `tasks/${taskId}`)
          return ['succeeded', 'failed', 'cancelled'].includes(t.state) ? t : undefined
        }, 15_000, 100)
        expect(final.state).toBe('succeeded')
      }, 30_000)

      it('a member\'s op dated 10 years ahead is refused (it would win every later write to its key)', async () => {
        seq++
        const key = 'trust/pinned'
        const op = { author: x.peerId, seq, hlc: { wall: Date.now() + 10 * 365 * 86_400_000, logical: 0, node: x.peerId }, kind: 'kv:set', body: { key, value: 'mallory forever' } }
        await publishState(x.node, teamId, json(signBatch([op], x.signer, teamId)))
        await sleep(1_500)
        expect((await kvKeys(a, key))[key]).toBeUndefined()
        await apiPost(a, 'kv/set', { key, value: 'alice' })
        expect((await kvKeys(a, key))[key]).toBe('alice')
        seq-- // the refused op's seq is free again for the insider's next batch
      }, 20_000)

      it('a batch signed by a non-member in a task `done` message is not applied', async () => {
        const outsiderKey = await createAttacker()
        attackers.push(outsiderKey)
        await sendTask(b, { t: 'done', taskId: 'no-such-task', attempt: 1, batch: kvSetBatch(teamId, outsiderKey.signer, 1, 'trust/ghost', 'not a member') })
        await sleep(1_500)
        expect((await apiGet<Array<{ key: string }>>(b, 'kv/list?prefix=trust/ghost'))).toHaveLength(0)
      }, 20_000)

      it('an insider\'s task `log` lines for tasks it does not run are dropped (no memory amplification)', async () => {
        await join(g)
        const pid = g.pid as number
        const rss0 = await rssBytes(pid)
        const line = 'L'.repeat(4 * 1024)
        for (let i = 0; i < 300; i++) await sendTask(g, { t: 'log', taskId: `made-up-${i % 200}`, lines: Array.from({ length: 50 }, () => line) })
        const rss1 = await rssBytes(pid)
        console.log(`log lines for made-up tasks (60 MB sent): gus RSS ${(rss0 / 2 ** 20).toFixed(0)} → ${(rss1 / 2 ** 20).toFixed(0)} MiB`)
        expect(rss1 - rss0).toBeLessThan(30 * 1024 * 1024)
        expect((await g.cli(['status'])).code).toBe(0)
      }, 60_000)

      it('a leaked invite does not admit after it expired, and a backdated certificate cannot evict the holder of a used one', async () => {
        const target = addrOf((await status(a)).addresses)
        // an invite that expired: a certificate backdated into its validity still verifies
        const expired = decodeInvite((await a.json<{ token: string }>(['team', 'invite', '--ttl', '1s'])).token)
        await sleep(1_200)
        const late = await attacker({ psk })
        const lateCert = signOwnCertificate({ ...certBody(expired.grant, late.peerId, 'late') }, late.signer)
        expect((await sayHello(late.node, target, lateCert).catch(() => ({ ok: false }))).ok).toBe(false)
        // a single-use invite already used by a victim: a certificate dated at the grant's issue sorts first
        const token = (await a.json<{ token: string }>(['team', 'invite'])).token
        const invite = decodeInvite(token)
        const victim = await attacker({ psk })
        const victimCert = acceptInvite({ token: invite, signer: victim.signer, name: 'victim', now: Date.now() })
        expect((await sayHello(victim.node, target, victimCert)).ok).toBe(true)
        expect((await a.json<Array<{ name: string }>>(['team', 'members'])).map(m => m.name)).toContain('victim')
        const thief = await attacker({ psk })
        const thiefCert = signOwnCertificate({ ...certBody(invite.grant, thief.peerId, 'thief') }, thief.signer)
        expect((await sayHello(thief.node, target, thiefCert).catch(() => ({ ok: false }))).ok).toBe(false)
        const names = (await a.json<Array<{ name: string }>>(['team', 'members'])).map(m => m.name)
        expect(names).not.toContain('late')
        expect(names).not.toContain('thief')
        expect(names).toContain('victim')
      }, 30_000)

      it('ops signed by a non-member and relayed by a member are applied by 0 members; the relayer\'s gossip score drops', async () => {
        const stranger = await attacker() // only its key is used: it signs, the insider relays
        const scoreOf = async (d: DaemonProcess): Promise<number | null> => (await apiGet<{ gossipScore: number | null }>(d, `peers/${x.peerId}`)).gossipScore
        const [before, sa, sb] = await Promise.all([Promise.all([scoreOf(a), scoreOf(b)]), status(a), status(b)])
        expect(before).toEqual([0, 0])
        // two, not three: each costs -10 x (invalid count)^2, and a third would graylist the
        // insider (-90 < -80), leaving the control below with nothing to prove
        for (let i = 1; i <= 2; i++) {
          const recipients = await publishState(x.node, teamId, json(kvSetBatch(teamId, stranger.signer, i, `trust/relayed-${i}`, i)))
          expect(recipients).toEqual(expect.arrayContaining([ids.alice, ids.bob]))
        }
        const after = await eventually('both members score the relayer down', async () => {
          const scores = await Promise.all([scoreOf(a), scoreOf(b)])
          return scores.every(v => v != null && v <= -30) ? scores : undefined
        }, 10_000, 100)
        console.log(`relayer's gossip score on alice / bob: ${before.join(' / ')} → ${after.join(' / ')}`)
        // the insider's own batch after them is applied: the gossip path was live, the relayed ones were not
        await control(a)
        await control(b)
        for (const d of [a, b]) expect(await kvKeys(d, 'trust/relayed-')).toEqual({})
        const [ea, eb] = await Promise.all([status(a), status(b)])
        expect(ea.stateHash).not.toBe(sa.stateHash) // changed by the controls only...
        expect(eb.stateHash).not.toBe(sb.stateHash)
        expect(ea.stateHash).toBe(eb.stateHash) // ...and the same on both
        await stranger.stop()
      }, 30_000)
    })

    it('once removed by an admin, the insider is dropped everywhere and refused at every hello, even on an older unused invite', async () => {
      const older = decodeInvite((await a.json<{ token: string }>(['team', 'invite'])).token)
      await sleep(5) // the removal is later than the older invite's grant
      await a.json(['team', 'remove', x.peerId])
      await eventually('alice and bob hang up on the removed insider', async () =>
        connectedTo(x.node, ids.alice) || connectedTo(x.node, ids.bob) ? undefined : true, 5_000, 100)
      const target = addrOf((await status(a)).addresses)
      const again = await sayHello(x.node, target, cert).catch((err: Error) => ({ ok: false, error: err.message }))
      expect(again.ok).toBe(false)
      const olderCert = acceptInvite({ token: older, signer: x.signer, name: 'mallory', now: Date.now() })
      const withOlder = await sayHello(x.node, target, olderCert).catch((err: Error) => ({ ok: false, error: err.message }))
      expect(withOlder.ok).toBe(false)
      console.log(`removed insider's hellos: ${again.error ?? ''} / ${withOlder.error ?? ''}`)
      for (const d of [a, b]) {
        expect((await d.json<Array<{ peerId: string }>>(['team', 'members'])).map(m => m.peerId)).not.toContain(x.peerId)
      }
    }, 30_000)
  })

  it('a member flooding queries far past its limit is cut off: hung up on and refused for 30 s, while the others are served', async () => {
    const target = addrOf((await status(g)).addresses)
    const flooder = await attacker({ psk })
    const cert = acceptInvite({ token: decodeInvite((await a.json<{ token: string }>(['team', 'invite'])).token), signer: flooder.signer, name: 'flooder', now: Date.now() })
    await answerHellos(flooder.node, cert)
    expect((await sayHello(flooder.node, target, cert)).ok).toBe(true)
    // status queries from 16 workers (under libp2p's 32 streams a protocol, so each reaches
    // the limiter) for up to 5 s: past the burst and the slack of refusals, it is abusive
    let answered = 0
    const t0 = Date.now()
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (Date.now() - t0 < 5_000 && connectedTo(flooder.node, ids.gus)) {
        const r = await exchange(flooder.node, target, PROTOCOL_QUERY, { type: 'status' }, r => (r as { status?: unknown })?.status != null, 1_000)
        if (r.ok) answered++
      }
    }))
    const seconds = (Date.now() - t0) / 1000
    console.log(`flooder: ${answered} queries answered in ${seconds.toFixed(2)} s, then cut off`)
    expect(answered).toBeGreaterThan(0)
    expect(answered).toBeLessThanOrEqual(QUERY_LIMIT.burst + QUERY_LIMIT.ratePerSec * seconds + 1) // the burst, then the rate while it lasted
    await eventually('gus hangs up on the flooder', async () => connectedTo(flooder.node, ids.gus) ? undefined : true, 5_000, 50)
    await eventually('gus says why', async () => /cutting off flooder \S+ for 30 s/.test(g.log) ? true : undefined, 5_000, 50)
    // when it comes back, gus's gater refuses the connection once Noise has named the peer
    // (the dialer may count its dial done before it hears), so nothing is answered
    await flooder.node.dial(target, { signal: AbortSignal.timeout(5_000) }).catch(() => {})
    const again = await exchange(flooder.node, target, PROTOCOL_QUERY, { type: 'status' }, r => (r as { status?: unknown })?.status != null, 2_000)
    expect(again.ok, 'a query from the cut-off flooder was answered').toBe(false)
    await eventually('the flooder is not connected to gus', async () => connectedTo(flooder.node, ids.gus) ? undefined : true, 5_000, 50)
    // the rest of the team is served as before
    const r = await a.cli(['query', ids.gus])
    expect(r.code, r.stderr).toBe(0)
    await flooder.stop()
  }, 30_000)

  it('ten sockets that never finish the pnet nonce (no key, no libp2p) do not lock a key holder out', async () => {
    const target = addrOf((await status(g)).addresses)
    const port = Number(target.toString().split('/tcp/')[1].split('/')[0])
    const sockets: Socket[] = []
    try {
      // one per 250 ms stays under the 5 connections/s per-host limit
      for (let i = 0; i < 10; i++) {
        const s = connect(port, '127.0.0.1')
        s.on('error', () => {})
        sockets.push(s)
        await sleep(250)
      }
      await sleep(500)
      const member = await attacker({ psk })
      const r = await timed(async () => await member.node.dial(target, { signal: AbortSignal.timeout(3_000) }))
      expect(r.ok, r.error?.message).toBe(true)
    } finally {
      for (const s of sockets) s.destroy()
    }
  }, 30_000)
})

/** an invite-derived certificate body dated at the grant's own issue time */
function certBody (grant: Grant, peerId: string, name: string): Omit<MemberCertificate, 'sig'> {
  return { v: 1, teamId: grant.teamId, peerId, name, role: grant.role, issuedAt: grant.issuedAt, grant }
}
