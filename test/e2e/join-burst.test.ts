/**
 * Joins at scale on real daemons: nine daemons, each with its own invite from one admin,
 * call `team join` at the same moment; then one more joins the team they formed. No
 * timing is asserted (speed is the membership bench's): every join succeeds, every daemon
 * ends up listing every member connected, and a joiner leaves the hello knowing where the
 * members it was told about are, so it never has to dial one without an address.
 */
import Type from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_TEAM_MESSAGE_BYTES } from '../../src/node/constants.js'
import { PROTOCOL_TEAM_HINTS } from '../../src/daemon/hello.js'
import { jsonChannel } from '../../src/protocol/frames.js'
import { validator } from '../../src/model/schema.js'
import { acceptInvite, decodeInvite, type MemberCertificate } from '../../src/team/index.js'
import { addrOf, createAttacker, sayHello, type Attacker } from './attacker.js'
import { DaemonProcess, apiGet, apiPost } from './harness.js'
import { peerIdOf, rostersAgree, type MemberRow } from './membership-helpers.js'

const JOINERS = 9

interface PeerRow { peerId: string, addresses: string[], connected: boolean }

describe('a burst of joins', () => {
  const admin = new DaemonProcess({ name: 'admin' })
  const joiners = Array.from({ length: JOINERS }, (_, i) => new DaemonProcess({ name: `j${i + 1}` }))
  const late = new DaemonProcess({ name: 'late' })
  const all = [admin, ...joiners]

  beforeAll(async () => {
    await Promise.all([...all, late].map(async d => { await d.start() }))
    await admin.json(['team', 'create', 'crew'])
  }, 120_000)

  const strangers: Attacker[] = []

  afterAll(async () => {
    await Promise.all(strangers.map(async x => { await x.stop().catch(() => {}) }))
    await Promise.all([...all, late].map(async d => { await d.cleanup() }))
  })

  /** a stock libp2p node holding the team's key and a certificate from a fresh invite */
  async function invitee (): Promise<{ x: Attacker, cert: MemberCertificate }> {
    const invite = decodeInvite((await admin.json<{ token: string }>(['team', 'invite'])).token)
    const x = await createAttacker({ psk: invite.team.psk })
    strangers.push(x)
    return { x, cert: acceptInvite({ token: invite, signer: x.signer, name: 'stranger', now: Date.now() }) }
  }

  it('every daemon that joins at the same moment is admitted, and all end up connected to all', async () => {
    const tokens: string[] = []
    for (let i = 0; i < JOINERS; i++) tokens.push((await admin.json<{ token: string }>(['team', 'invite'])).token)
    const results = await Promise.allSettled(joiners.map(async (d, i) => await apiPost(d, 'team/join', { token: tokens[i] })))
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`${joiners[i].name}: ${String(r.reason)}`] : [])
    expect(failed).toEqual([])
    const ids = await Promise.all(all.map(peerIdOf))
    await rostersAgree(all, ids, 60_000)
  }, 150_000)

  it('a joiner knows an address of every member the admitting member told it about, before it dials them', async () => {
    const { token } = await admin.json<{ token: string }>(['team', 'invite'])
    await apiPost(late, 'team/join', { token })
    // read at once: what the welcome brought, not what connections learned since
    const [peers, members] = await Promise.all([apiGet<PeerRow[]>(late, 'peers'), apiGet<MemberRow[]>(late, 'team/members')])
    const others = members.filter(m => !m.self).map(m => m.peerId)
    expect(others).toHaveLength(JOINERS + 1)
    const without = others.filter(id => (peers.find(p => p.peerId === id)?.addresses.length ?? 0) === 0)
    expect(without).toEqual([])
    const ids = await Promise.all([...all, late].map(peerIdOf))
    await rostersAgree([...all, late], ids, 60_000)
  }, 120_000)

  it('the welcome on /paired/team/1.1.0 names every member with its address; a 1.0.0 hello is still answered, without them', async () => {
    const target = addrOf((await apiGet<{ addresses: string[] }>(admin, 'status')).addresses)
    const members = await Promise.all([...all, late].map(async d => ({ id: await peerIdOf(d), addrs: (await apiGet<{ addresses: string[] }>(d, 'status')).addresses })))
    const { x, cert } = await invitee()
    const stream = await x.node.dialProtocol(target, PROTOCOL_TEAM_HINTS, { signal: AbortSignal.timeout(10_000) })
    const ch = jsonChannel(stream, { protocol: PROTOCOL_TEAM_HINTS, maxBytes: MAX_TEAM_MESSAGE_BYTES, timeoutMs: 10_000 })
    await ch.write({ type: 'hello', cert, roster: [cert], departures: [] })
    const welcome = await ch.read(validator(Type.Unknown())) as { type: string, addrs?: Array<{ id: string, addrs: string[] }> }
    await ch.write({ type: 'ack' })
    await stream.close().catch(() => {})
    expect(welcome.type).toBe('welcome')
    const hinted = new Map((welcome.addrs ?? []).map(h => [h.id, h.addrs]))
    for (const m of members) {
      // the port each member listens on is among its hints
      const ports = m.addrs.map(a => a.split('/tcp/')[1]?.split('/')[0])
      expect(hinted.get(m.id)?.some(a => ports.includes(a.split('/tcp/')[1]))).toBe(true)
    }
    const old = await invitee()
    const reply = await sayHello(old.x.node, target, old.cert)
    expect(reply.ok).toBe(true)
    expect(reply.reply).not.toHaveProperty('addrs')
  }, 60_000)
})
