import { streamPair } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { PROTOCOL_TEAM_HINTS, answerHello, initiateHello, type HelloHooks, type HelloMessage } from '../../../src/daemon/hello.js'
import { PROTOCOL_TEAM } from '../../../src/node/constants.js'

const pid = (name: string): PeerId => ({ toString: () => name }) as unknown as PeerId

/** a side of the hello that sends hints for itself when the other side reads them, and keeps what it got */
function hooks (self: string, got: HelloMessage[], asked: boolean[]): HelloHooks {
  return {
    payload: (type, hints) => {
      asked.push(hints)
      const msg: HelloMessage = { type, cert: { peerId: self } }
      return hints ? { ...msg, addrs: [{ id: self, addrs: ['/ip4/127.0.0.1/tcp/4001'] }] } : msg
    },
    verify: async (_peer, msg) => { got.push(msg) }
  }
}

/** `a` says hello to `b` on a stream whose protocol multistream-select settled on `protocol` */
async function exchange (protocol: string, offered: string[]): Promise<{ aGot: HelloMessage[], bGot: HelloMessage[], aAsked: boolean[], bAsked: boolean[], status: string[] }> {
  const [outbound, inbound] = await streamPair()
  outbound.protocol = protocol
  inbound.protocol = protocol
  const asked: string[][] = []
  const toB = { remotePeer: pid('b'), newStream: async (p: string[]) => { asked.push(p); return outbound as Stream } } as unknown as Connection
  const toA = { remotePeer: pid('a') } as unknown as Connection
  const aGot: HelloMessage[] = []; const bGot: HelloMessage[] = []; const aAsked: boolean[] = []; const bAsked: boolean[] = []
  const [ra, rb] = await Promise.all([
    initiateHello(toB, hooks('a', aGot, aAsked)),
    answerHello(inbound, toA, hooks('b', bGot, bAsked), protocol === PROTOCOL_TEAM_HINTS)
  ])
  expect(asked).toEqual([offered])
  return { aGot, bGot, aAsked, bAsked, status: [ra.status, rb.status] }
}

describe('the hello with address hints', () => {
  it('asks for 1.1.0 first; two daemons that speak it tell each other where they are', async () => {
    const r = await exchange(PROTOCOL_TEAM_HINTS, [PROTOCOL_TEAM_HINTS, PROTOCOL_TEAM])
    expect(r.status).toEqual(['verified', 'verified'])
    expect(r.aAsked).toEqual([true])
    expect(r.bAsked).toEqual([true])
    expect(r.aGot[0].addrs).toEqual([{ id: 'b', addrs: ['/ip4/127.0.0.1/tcp/4001'] }])
    expect(r.bGot[0].addrs).toEqual([{ id: 'a', addrs: ['/ip4/127.0.0.1/tcp/4001'] }])
  })

  it('with a daemon that answers only 1.0.0, sends none, and both sides still admit each other', async () => {
    const r = await exchange(PROTOCOL_TEAM, [PROTOCOL_TEAM_HINTS, PROTOCOL_TEAM])
    expect(r.status).toEqual(['verified', 'verified'])
    expect(r.aAsked).toEqual([false])
    expect(r.bAsked).toEqual([false])
    expect(r.bGot[0].addrs).toBeUndefined()
  })
})
