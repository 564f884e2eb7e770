import { describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { CoolOff } from '../../../src/net/cool-off.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

describe('CoolOff', () => {
  it('refuses a peer until its time is up, both ways, and a later deadline extends it', async () => {
    const box = new CoolOff()
    box.add(PEER, 2_000)
    expect(box.has(PEER, 1_999)).toBe(true)
    expect(box.has('other', 1_000)).toBe(false)
    box.add(PEER, 1_500) // an earlier deadline does not shorten it
    expect(box.has(PEER, 1_800)).toBe(true)
    box.add(PEER, 3_000)
    expect(box.has(PEER, 2_500)).toBe(true)
    expect(box.has(PEER, 3_000)).toBe(false)
    expect(box.has(PEER, 2_500)).toBe(false) // forgotten once expired

    const gater = box.gater()
    const id = peerIdFromString(PEER)
    box.add(PEER, Date.now() + 60_000)
    expect(await gater.denyDialPeer?.(id)).toBe(true)
    expect(await gater.denyInboundEncryptedConnection?.(id, undefined as never)).toBe(true)
    expect(await gater.denyOutboundEncryptedConnection?.(id, undefined as never)).toBe(true)
  })
})
