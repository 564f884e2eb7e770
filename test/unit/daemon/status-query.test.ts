import { streamPair } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import { describe, expect, it, vi } from 'vitest'
import { StatusQueries, askStatus, type StatusQueryComponents, type WireStatus } from '../../../src/daemon/status-query.js'
import { MAX_QUERY_MESSAGE_BYTES, PROTOCOL_QUERY, STREAM_READ_TIMEOUT_MS } from '../../../src/node/constants.js'
import { QUERY_LIMIT } from '../../../src/net/limits.js'
import Type from 'typebox'
import { jsonChannel } from '../../../src/protocol/frames.js'
import { validator } from '../../../src/model/schema.js'

/** any JSON value: these tests read what the other side sent as it is */
const anything = validator(Type.Unknown())

const STATUS: WireStatus = {
  peerId: 'me',
  name: 'ada',
  version: '1.0.0',
  team: { teamId: 't1', name: 'crew', role: 'member' },
  addresses: ['/ip4/127.0.0.1/tcp/4001'],
  connectedPeers: 1,
  members: 2,
  uptimeMs: 1000,
  stateDigest: 'abc'
}

function from (peer: string): Connection {
  return { remotePeer: { toString: () => peer } } as unknown as Connection
}

function queries (over: Partial<StatusQueryComponents> = {}): StatusQueries {
  return new StatusQueries({ isVerified: () => true, status: async () => STATUS, onFlood: () => {}, ...over })
}

/** one query from `peer`: the asking side's answer (or error) */
async function ask (q: StatusQueries, peer = 'peer-a'): Promise<WireStatus> {
  const [outbound, inbound] = await streamPair()
  void q.answer(inbound, from(peer))
  return await askStatus(outbound)
}

describe('status queries', () => {
  it('answers a verified member with this daemon\'s status', async () => {
    await expect(ask(queries())).resolves.toEqual(STATUS)
  })

  it('refuses a peer that has not passed the hello, without asking for the status', async () => {
    const status = vi.fn(async () => STATUS)
    const [outbound, inbound] = await streamPair()
    const abort = vi.spyOn(inbound, 'abort')
    await queries({ isVerified: peer => peer === 'member', status }).answer(inbound, from('stranger'))
    expect(abort).toHaveBeenCalledWith(new Error('not a member'))
    expect(status).not.toHaveBeenCalled()
    await expect(askStatus(outbound)).rejects.toThrow()
  })

  it('answers an unknown query with an error the asker sees', async () => {
    const [outbound, inbound] = await streamPair()
    void queries().answer(inbound, from('peer-a'))
    const ch = jsonChannel(outbound, { protocol: PROTOCOL_QUERY, maxBytes: MAX_QUERY_MESSAGE_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS })
    await ch.write({ type: 'tasks' })
    await expect(ch.read(anything)).resolves.toEqual({ error: { message: 'unknown query' } })
  })

  it('passes on why the status could not be made', async () => {
    await expect(ask(queries({ status: async () => { throw new Error('the store is closed') } }))).rejects.toThrow('the store is closed')
  })

  it('refuses a member past its rate limit, reports the flood, and serves the others', async () => {
    const onFlood = vi.fn()
    const q = queries({ onFlood })
    const pairs = await Promise.all(Array.from({ length: QUERY_LIMIT.burst + 1 }, async () => await streamPair()))
    const abort = vi.spyOn(pairs[QUERY_LIMIT.burst][1], 'abort')
    // the limit is taken when a query arrives: a burst of them at once, one too many
    const answered = pairs.map(([, inbound]) => q.answer(inbound, from('peer-a')))
    expect(abort).toHaveBeenCalledWith(new Error('rate limited: too many queries'))
    expect(onFlood).toHaveBeenCalledWith('peer-a', false) // past its limit, not yet its slack
    const asked = await Promise.all(pairs.slice(0, QUERY_LIMIT.burst).map(async ([outbound]) => await askStatus(outbound)))
    expect(asked).toEqual(Array(QUERY_LIMIT.burst).fill(STATUS))
    await Promise.all(answered)
    await expect(ask(q, 'peer-b')).resolves.toEqual(STATUS)
  })

  it('aborts the asking stream when the reply carries no status', async () => {
    const [outbound, inbound] = await streamPair()
    const abort = vi.spyOn(outbound, 'abort')
    const answering = (async (stream: Stream) => {
      const ch = jsonChannel(stream, { protocol: PROTOCOL_QUERY, maxBytes: MAX_QUERY_MESSAGE_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS })
      await ch.read(anything)
      await ch.write({ nothing: true })
    })(inbound)
    await expect(askStatus(outbound)).rejects.toThrow('the peer sent no status')
    await answering
    expect(abort).toHaveBeenCalled()
  })
})
