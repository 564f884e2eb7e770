import { streamPair } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Membership, type HelloOutcome, type MembershipComponents } from '../../../src/daemon/membership.js'
import type { HelloMessage } from '../../../src/daemon/hello.js'
import { HELLO_DEADLINE_MS } from '../../../src/node/constants.js'
import type { PairedLibp2p } from '../../../src/node/create-node.js'

const pid = (name: string): PeerId => ({ toString: () => name }) as unknown as PeerId

/** every side a test made, closed after it */
const sides: Side[] = []

interface Side {
  membership: Membership
  events: string[]
  outcomes: HelloOutcome[]
  hungUp: string[]
}

/** one daemon's membership; `refuse` makes its verify throw */
function side (self: string, opts: { refuse?: string, connected?: boolean, records?: unknown[] } = {}): Side {
  const events: string[] = []
  const hungUp: string[] = []
  const outcomes: HelloOutcome[] = []
  const components: MembershipComponents = {
    node: () => ({ hangUp: async (id: PeerId) => { hungUp.push(id.toString()) } }) as unknown as PairedLibp2p,
    isConnected: () => opts.connected ?? false,
    payload: (type): HelloMessage => ({ type, cert: { peerId: self, name: `${self}-name` } }),
    verify: async peer => { if (opts.refuse != null) throw Object.assign(new Error(opts.refuse), { name: 'InvalidCertificateError' }); events.push(`verify ${peer}`) },
    onVerified: (peer, name) => { events.push(`verified ${peer} ${name}`) },
    onLost: peer => { events.push(`lost ${peer}`) },
    refusal: (peer, cert) => opts.records?.map(r => ({ ...r as object, about: peer, certOf: (cert as { peerId?: string } | undefined)?.peerId })) ?? [],
    onRefused: (peer, records) => { events.push(`records from ${peer} ${JSON.stringify(records)}`) },
    line: text => { events.push(`line ${text}`) }
  }
  const membership = new Membership(components)
  membership.onOutcome(o => { outcomes.push(o) })
  const made = { membership, events, outcomes, hungUp }
  sides.push(made)
  return made
}

/** daemon `b` with an inbound connection from `x`, which starts no hello */
function withStranger (): Side {
  const b = side('b')
  b.membership.onConnectionOpen(connection('x', 'inbound'))
  return b
}

function connection (remote: string, direction: 'inbound' | 'outbound', stream?: Stream): Connection & { closed: number } {
  const conn = {
    remotePeer: pid(remote),
    direction,
    closed: 0,
    newStream: async () => stream,
    close: async () => { conn.closed++ }
  }
  return conn as unknown as Connection & { closed: number }
}

/** `a` dials `b`: a's outbound connection starts the hello, b answers it */
async function dial (a: Side, b: Side): Promise<{ toB: Connection & { closed: number }, toA: Connection & { closed: number } }> {
  const [outbound, inbound] = await streamPair()
  const toB = connection('b', 'outbound', outbound)
  const toA = connection('a', 'inbound')
  b.membership.onConnectionOpen(toA)
  a.membership.onConnectionOpen(toB)
  await b.membership.onHello(inbound, toA)
  await vi.waitFor(() => { expect(a.outcomes).toHaveLength(1) })
  return { toB, toA }
}

describe('membership', () => {
  afterEach(() => {
    for (const s of sides.splice(0)) s.membership.close()
    vi.useRealTimers()
  })

  it('a hello both sides accept verifies each side to the other', async () => {
    const a = side('a')
    const b = side('b')
    await dial(a, b)
    expect(a.events).toEqual(['verify b', 'verified b b-name'])
    expect(b.events).toEqual(['verify a', 'verified a a-name'])
    expect(a.outcomes).toEqual([{ ok: true, peerId: 'b' }])
    expect(b.outcomes).toEqual([{ ok: true, peerId: 'a' }])
    for (const [s, peer] of [[a, 'b'], [b, 'a']] as const) {
      expect(s.membership.isVerified(peer)).toBe(true)
      expect(s.membership.isPending(peer)).toBe(false)
    }
  })

  it('a refused hello: the refused side hears why and lets the connection go', async () => {
    const a = side('a')
    const b = side('b', { refuse: 'ada (a) was removed from the team by an admin' })
    const { toB } = await dial(a, b)
    expect(a.outcomes).toEqual([{ ok: false, peerId: 'b', error: { name: 'InvalidCertificateError', message: 'ada (a) was removed from the team by an admin' } }])
    expect(a.events).toEqual(['line refused by b: ada (a) was removed from the team by an admin', 'records from b []'])
    await vi.waitFor(() => { expect(toB.closed).toBe(1) })
    expect(a.membership.isVerified('b')).toBe(false)
    expect(b.membership.isVerified('a')).toBe(false)
  })

  it('a refusal carries the records that explain it, for the refused side to check', async () => {
    const a = side('a')
    const b = side('b', { refuse: 'ada (a) was removed from the team by an admin', records: [{ type: 'removed', peerId: 'a' }] })
    await dial(a, b)
    expect(a.events).toContain(`records from b ${JSON.stringify([{ type: 'removed', peerId: 'a', about: 'a', certOf: 'a' }])}`)
    expect(a.outcomes).toEqual([{ ok: false, peerId: 'b', error: { name: 'InvalidCertificateError', message: 'ada (a) was removed from the team by an admin' } }])
  })

  it('drops a peer that proves no membership by the deadline, and releases nothing to it', async () => {
    vi.useFakeTimers()
    const b = withStranger()
    expect(b.membership.isPending('x')).toBe(true)
    const held = b.membership.gate.until('x')
    const refused = expect(held).rejects.toThrow(`no membership proof within ${HELLO_DEADLINE_MS} ms`)
    await vi.advanceTimersByTimeAsync(HELLO_DEADLINE_MS)
    await refused
    expect(b.hungUp).toEqual(['x'])
    expect(b.membership.isPending('x')).toBe(false)
  })

  it('a verified peer whose last connection closes is lost; one still connected is not', async () => {
    const a = side('a')
    const b = side('b', { connected: true })
    await dial(a, b)
    b.membership.onDisconnect(pid('a'))
    expect(b.events).not.toContain('lost a')
    a.membership.onDisconnect(pid('b'))
    expect(a.events).toContain('lost b')
    expect(a.membership.isVerified('b')).toBe(false)
    // forgotten (it left the team): no longer verified, and no "lost" either
    b.membership.forget('a')
    expect(b.membership.isVerified('a')).toBe(false)
  })

  it('close clears the deadlines and the verified peers, and resets what waits at the gate', async () => {
    vi.useFakeTimers()
    const b = withStranger()
    const held = expect(b.membership.gate.until('x')).rejects.toThrow('the session stopped')
    b.membership.close()
    await held
    expect(b.membership.isPending('x')).toBe(false)
    await vi.advanceTimersByTimeAsync(HELLO_DEADLINE_MS)
    expect(b.hungUp).toEqual([])
  })
})
