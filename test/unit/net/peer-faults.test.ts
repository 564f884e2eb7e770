import { describe, expect, it } from 'vitest'
import { CoolOff } from '../../../src/net/cool-off.js'
import { FAULT_COOL_OFF_MS, PeerFaults } from '../../../src/net/peer-faults.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const SELF = '12D3KooWSelf'

describe('PeerFaults', () => {
  it('hangs up on the peer, refuses it for the cool-off, blames it, and logs once per cool-off', () => {
    const coolOff = new CoolOff()
    const lines: string[] = []
    const hungUp: string[] = []
    const blamed: string[] = []
    const faults = new PeerFaults({ coolOff, selfId: () => SELF, hangUp: p => { hungUp.push(p) }, blame: p => { blamed.push(p) }, line: t => { lines.push(t) } })
    faults.fault(PEER, new TypeError('bad'), 'the /x handler', 1_000)
    faults.fault(PEER, new TypeError('bad again'), 'the /x handler', 2_000)
    expect(coolOff.has(PEER, 1_000 + FAULT_COOL_OFF_MS - 1)).toBe(true)
    expect(coolOff.has(PEER, 2_000 + FAULT_COOL_OFF_MS - 1)).toBe(true)
    expect(hungUp).toEqual([PEER, PEER])
    expect(blamed).toEqual([PEER, PEER])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`closing ${PEER}`)
    expect(faults.count).toBe(2)
  })

  it('a fault no peer caused is logged with its stack and cuts nobody off', () => {
    const coolOff = new CoolOff()
    const lines: string[] = []
    const faults = new PeerFaults({ coolOff, selfId: () => SELF, hangUp: () => { throw new Error('no hang-up expected') }, line: t => { lines.push(t) } })
    faults.fault(undefined, new Error('ours'), 'a node peer:discovery listener')
    faults.fault(SELF, new Error('ours too'), 'a node listener')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/not caused by a peer.*Error: ours\n\s+at /s)
    expect(coolOff.has(SELF)).toBe(false)
  })
})
