/**
 * Joins at scale on real daemons: nine daemons, each with its own invite from one admin,
 * call `team join` at the same moment; then one more joins the team they formed. No
 * timing is asserted (speed is the membership bench's): every join succeeds, every daemon
 * ends up listing every member connected, and a joiner leaves the hello knowing where the
 * members it was told about are, so it never has to dial one without an address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

  afterAll(async () => {
    await Promise.all([...all, late].map(async d => { await d.cleanup() }))
  })

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
})
