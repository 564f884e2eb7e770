import { describe, expect, it } from 'vitest'
import { needsRelay, peerTag } from '../../../src/presence/relay.js'

const ids = ['12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1111111', '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2222222',
  '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3333333', '12D3KooWDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD4444444']
const [origin, me, x, y] = ids

describe('heartbeat relaying', () => {
  it('tags a peer id by its last 8 characters', () => {
    expect(peerTag(origin)).toBe('A1111111')
  })

  it('relays nothing when the sender reaches every subscriber of ours itself', () => {
    const direct = [me, x, y].map(peerTag)
    expect(needsRelay(direct, [origin, x, y], origin, origin)).toBe(false)
  })

  it('relays when a subscriber of ours is missing from the sender\'s list', () => {
    expect(needsRelay([me, x].map(peerTag), [origin, x, y], origin, origin)).toBe(true)
  })

  it('does not count the sender or the relayer it came from', () => {
    // y relayed it to us; the sender does not reach y, but y already has it
    expect(needsRelay([me, x].map(peerTag), [origin, x, y], origin, y)).toBe(false)
    expect(needsRelay([me, x].map(peerTag), [x, y], origin, y)).toBe(false)
  })

  it('relays a heartbeat without a list (an older daemon, or a large team), as gossipsub always did', () => {
    expect(needsRelay(undefined, [], origin, origin)).toBe(true)
  })
})
