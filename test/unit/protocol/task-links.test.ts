/**
 * TaskLinks' wire reading without a network: a fake node whose `dialProtocol` and inbound
 * handler are the two ends of an in-memory stream pair.
 */
import { lpStream, streamPair } from '@libp2p/utils'
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import type { PairedLibp2p } from '../../../src/node/create-node.js'
import { ProtocolError } from '../../../src/protocol/frames.js'
import { TaskLinks, type LinksInit } from '../../../src/tasks/links.js'
import type { TaskMessage } from '../../../src/tasks/messages.js'
import { MAX_TASK_MESSAGE_BYTES } from '../../../src/tasks/constants.js'
import { varint } from '../../fuzz/frames.js'

const PEER = '12D3KooWJm3QPx4jDwfxhWogeFnfCDw4PTY9upL18DpSnpLGUDEx'
const utf8 = new TextEncoder()

interface Harness {
  links: TaskLinks
  /** the peer's end of a stream it opened to us: write frames, read ours */
  inbound: () => Promise<Stream>
  /** streams we dialed, the peer's ends */
  dialed: Stream[]
  messages: Array<{ peer: string, msg: TaskMessage }>
  invalid: Array<{ peer: string, err: ProtocolError }>
}

const running: TaskLinks[] = []
afterEach(async () => { await Promise.all(running.splice(0).map(async l => { await l.stop() })) })

async function harness (over: Partial<LinksInit> = {}): Promise<Harness> {
  let handler: StreamHandler | undefined
  const dialed: Stream[] = []
  const node = {
    handle: async (_p: string, h: StreamHandler) => { handler = h },
    unhandle: async () => {},
    dialProtocol: async () => {
      const [ours, theirs] = await streamPair()
      dialed.push(theirs)
      return ours
    }
  } as unknown as PairedLibp2p
  const messages: Harness['messages'] = []
  const invalid: Harness['invalid'] = []
  const links = new TaskLinks({
    node,
    isVerified: () => true,
    onMessage: (peer, msg) => { messages.push({ peer, msg }) },
    onInvalid: (peer, err) => { invalid.push({ peer, err }) },
    ...over
  })
  running.push(links)
  await links.start()
  return {
    links,
    dialed,
    messages,
    invalid,
    inbound: async () => {
      const [ours, theirs] = await streamPair()
      handler?.(ours, { remotePeer: { toString: () => PEER } } as unknown as Connection)
      return theirs
    }
  }
}

async function until (what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise(resolve => setImmediate(resolve))
  if (!check()) throw new Error(`never: ${what}`)
}

const closed = async (s: Stream): Promise<void> => {
  if (s.status === 'closed' || s.status === 'aborted' || s.status === 'reset') return
  await new Promise<void>(resolve => { s.addEventListener('close', () => { resolve() }, { once: true }) })
}

describe('TaskLinks reading the wire', () => {
  it('hands a well-formed message to onMessage', async () => {
    const h = await harness()
    const s = await h.inbound()
    await lpStream(s).write(utf8.encode(JSON.stringify({ t: 'cancel', taskId: 't-1' })))
    await until('a message', () => h.messages.length === 1)
    expect(h.messages[0]).toStrictEqual({ peer: PEER, msg: { t: 'cancel', taskId: 't-1' } })
    expect(h.invalid).toEqual([])
  })

  it('refuses a malformed field with a ProtocolError naming it, tells onInvalid and ends the stream', async () => {
    const h = await harness()
    const s = await h.inbound()
    await lpStream(s).write(utf8.encode(JSON.stringify({ t: 'finished', taskId: 't-1', attempt: 1, others: -4 })))
    await until('a refusal', () => h.invalid.length === 1)
    expect(h.invalid[0].peer).toBe(PEER)
    expect(h.invalid[0].err).toBeInstanceOf(ProtocolError)
    expect(h.invalid[0].err).toMatchObject({ protocol: '/paired/task/1.0.0', field: 'others' })
    expect(h.messages).toEqual([])
    await closed(s)
  })

  it('refuses bad JSON and an oversized frame the same way', async () => {
    const h = await harness()
    const a = await h.inbound()
    await lpStream(a).write(utf8.encode('{"t":'))
    await until('the first refusal', () => h.invalid.length === 1)
    const b = await h.inbound()
    // a length prefix past the limit: refused before the frame is read
    b.send(Uint8Array.from([...varint(MAX_TASK_MESSAGE_BYTES + 1), 1, 2, 3]))
    await until('the second refusal', () => h.invalid.length === 2)
    expect(h.invalid.map(i => i.err.field)).toEqual(['', ''])
  })

  it('settles a request with the reply of the same id, checked: a reply with a bad startedWall does not settle it', async () => {
    const h = await harness()
    const id = h.links.id()
    const asked = h.links.request(PEER, { t: 'logs', id, taskId: 't-1' }, 5_000)
    await until('a dial', () => h.dialed.length === 1)
    const peer = lpStream(h.dialed[0])
    expect(JSON.parse(new TextDecoder().decode((await peer.read()).subarray()))).toStrictEqual({ t: 'logs', id, taskId: 't-1' })
    await peer.write(utf8.encode(JSON.stringify({ t: 'reply', id, startedWall: 'later' })))
    await until('a refusal', () => h.invalid.length === 1)
    expect(h.invalid[0].err.field).toBe('startedWall')
    // the stream is gone: the request is still waiting, and a new stream answers it
    const again = h.links.request(PEER, { t: 'logs', id: h.links.id(), taskId: 't-2' }, 5_000)
    await until('a second dial', () => h.dialed.length === 2)
    const second = lpStream(h.dialed[1])
    const msg = JSON.parse(new TextDecoder().decode((await second.read()).subarray())) as { id: number }
    await second.write(utf8.encode(JSON.stringify({ t: 'reply', id: msg.id, lines: ['x'], truncated: false })))
    await expect(again).resolves.toStrictEqual({ t: 'reply', id: msg.id, lines: ['x'], truncated: false })
    await second.write(utf8.encode(JSON.stringify({ t: 'reply', id, lines: [] })))
    await expect(asked).resolves.toStrictEqual({ t: 'reply', id, lines: [] })
  })

  it('refuses a peer that has not passed the hello before reading anything', async () => {
    const h = await harness({ isVerified: () => false })
    const s = await h.inbound()
    await closed(s)
    expect(h.messages).toEqual([])
    expect(h.invalid).toEqual([])
  })
})
