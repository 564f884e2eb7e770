import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection, Stream } from '@libp2p/interface'
import { MemberGate, NotAMemberError } from '../../../src/daemon/member-gate.js'

const conn = (peer: string): Connection => ({ remotePeer: { toString: () => peer } }) as unknown as Connection
const stream = (direction: 'inbound' | 'outbound'): Stream => ({ direction }) as unknown as Stream

/** runs `middleware` and says whether it called next (true), threw (its error) or is still waiting */
function run (middleware: MemberGate['both'], s: Stream, c: Connection): { outcome: () => true | Error | undefined, done: Promise<void> } {
  let outcome: true | Error | undefined
  const done = Promise.resolve(middleware(s, c, () => { outcome = true })).catch((err: Error) => { outcome = err })
  return { outcome: () => outcome, done }
}

describe('MemberGate', () => {
  afterEach(() => { vi.useRealTimers() })

  it('holds a stream until its peer is verified, then lets it through; a verified peer passes at once', async () => {
    const verified = new Set<string>()
    const gate = new MemberGate(p => verified.has(p), 10_000)
    const held = run(gate.both, stream('inbound'), conn('alice'))
    await Promise.resolve()
    expect(held.outcome()).toBeUndefined()
    expect(gate.pending).toBe(1)
    verified.add('alice')
    gate.verified('alice')
    await held.done
    expect(held.outcome()).toBe(true)
    expect(gate.pending).toBe(0)
    const direct = run(gate.both, stream('outbound'), conn('alice'))
    await direct.done
    expect(direct.outcome()).toBe(true)
    expect(gate.counts).toEqual({ held: 1, refused: 0 })
  })

  it('resets what waits when the peer is refused, the session closes, or the wait runs out', async () => {
    vi.useFakeTimers()
    const gate = new MemberGate(() => false, 1_000)
    const refused = run(gate.both, stream('inbound'), conn('mallory'))
    const closed = run(gate.both, stream('inbound'), conn('trudy'))
    gate.refuse('mallory', 'no membership proof within 10000 ms')
    await refused.done
    expect(refused.outcome()).toBeInstanceOf(NotAMemberError)
    expect((refused.outcome() as Error).message).toBe('no membership proof within 10000 ms')
    gate.close()
    await closed.done
    expect((closed.outcome() as Error).message).toBe('the session stopped')
    const late = run(gate.both, stream('inbound'), conn('eve'))
    await vi.advanceTimersByTimeAsync(999)
    expect(late.outcome()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    await late.done
    expect((late.outcome() as Error).message).toMatch(/eve proved no membership within 1000 ms/)
    expect(gate.counts).toEqual({ held: 3, refused: 3 })
    expect(gate.pending).toBe(0)
  })

  it('the gossip middleware refuses this daemon\'s own streams to an unproven peer at once, holds the peer\'s, and tells who is verified', async () => {
    const verified = new Set<string>()
    const gate = new MemberGate(p => verified.has(p), 10_000)
    const told: string[] = []
    gate.onVerified(peer => { told.push(peer) })
    const ours = run(gate.gossip, stream('outbound'), conn('bob'))
    const theirs = run(gate.gossip, stream('inbound'), conn('bob'))
    await ours.done
    expect(ours.outcome()).toBeInstanceOf(NotAMemberError)
    expect(theirs.outcome()).toBeUndefined()
    verified.add('bob')
    gate.verified('bob')
    await theirs.done
    expect(theirs.outcome()).toBe(true)
    expect(told).toEqual(['bob'])
    const again = run(gate.gossip, stream('outbound'), conn('bob'))
    await again.done
    expect(again.outcome()).toBe(true)

    const carol = run(gate.gossip, stream('inbound'), conn('carol'))
    gate.refuse('carol', 'disconnected')
    await carol.done
    expect((carol.outcome() as Error).message).toBe('disconnected')
  })
})
