/**
 * A stock js-libp2p node playing the attacker against real daemons: TCP, Noise, yamux,
 * pnet when it holds a key, identify and gossipsub (StrictNoSign, like the daemon), on
 * 127.0.0.1 only. It knows the wire formats (the hello, JSON in length-prefixed frames,
 * signed op batches) but none of the daemon's code paths: it imports only the pure parts
 * of `src` (frames, team certificates, op batches).
 */
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp, type TCPOptions } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Ed25519PrivateKey, Stream } from '@libp2p/interface'
import { swarmKey } from '../../src/node/create-node.js'
import { MAX_TEAM_MESSAGE_BYTES, PROTOCOL_TEAM, dhtProtocol, stateTopic } from '../../src/node/constants.js'
import { isObject } from '../../src/model/guards.js'
import Type from 'typebox'
import { jsonChannel } from '../../src/protocol/frames.js'
import { validator } from '../../src/model/schema.js'
import { signBatch, type OpBatch } from '../../src/state/ops/index.js'
import { signerFromSeed, type MemberCertificate, type Signer } from '../../src/team/index.js'
import type { TeamFile } from '../../src/daemon/team-file.js'
import { varint } from '../helpers/varint.js'

/** the attacker reads whatever the member sends, as it is */
const anything = validator(Type.Unknown())

export type AttackerNode = Libp2p<{ pubsub: GossipSub, dht?: KadDHT }>

export interface Attacker {
  node: AttackerNode
  peerId: string
  /** signs with the attacker's own Ed25519 key (a real key: its batches verify) */
  signer: Signer
  stop: () => Promise<void>
}

/** the member's `team.json`: team id, network key, its certificate */
export async function readTeam (home: string): Promise<TeamFile> {
  return JSON.parse(await readFile(join(home, 'team.json'), 'utf8')) as TeamFile
}

/**
 * A started attacker node. `psk` (64 hex characters) wraps its connections in pnet, as
 * the daemon does; without it the node speaks plain TCP + Noise.
 */
export async function createAttacker (init: { psk?: string, privateKey?: Ed25519PrivateKey, teamId?: string } = {}): Promise<Attacker> {
  const privateKey = init.privateKey ?? await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.psk != null ? { connectionProtector: preSharedKey({ psk: swarmKey(init.psk) }) } : {}),
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictNoSign',
        emitSelf: false,
        allowPublishToZeroTopicPeers: false,
        msgIdFn: msg => createHash('sha256').update(msg.topic).update(msg.data).digest()
      }),
      // with a team id: a DHT client on the team's DHT protocol, to query members
      ...(init.teamId != null ? { ping: ping(), dht: kadDHT({ protocol: dhtProtocol(init.teamId), clientMode: true, peerInfoMapper: passthroughMapper }) } : {})
    } as Record<string, (components: any) => unknown> // eslint-disable-line @typescript-eslint/no-explicit-any
  })
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const signer = signerFromSeed(peerId, privateKey.raw.subarray(0, 32))
  return {
    node: node as unknown as AttackerNode,
    peerId,
    signer,
    stop: async () => { await node.stop() }
  }
}

/** how long an async call took, in ms, and how it ended */
export async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, ok: boolean, value?: T, error?: Error }> {
  const t0 = performance.now()
  try {
    const value = await fn()
    return { ms: performance.now() - t0, ok: true, value }
  } catch (err) {
    return { ms: performance.now() - t0, ok: false, error: err as Error }
  }
}

export interface Exchange {
  /** the request was answered with a frame `answered` accepts */
  ok: boolean
  reply?: unknown
  error?: string
}

/**
 * One request/response on `protocol`: open a stream, write `request` as a length-prefixed
 * JSON frame, read one frame back. `ok` only when the reply passes `answered`.
 */
export async function exchange (node: AttackerNode, target: Multiaddr, protocol: string, request: unknown,
  answered: (reply: unknown) => boolean, timeoutMs = 2_000): Promise<Exchange> {
  let stream: Stream | undefined
  try {
    stream = await node.dialProtocol(target, protocol, { signal: AbortSignal.timeout(timeoutMs) })
    const ch = jsonChannel(stream, { protocol, maxBytes: 4 * 1024 * 1024, timeoutMs })
    await ch.write(request)
    const reply = await ch.read(anything)
    stream.abort(new Error('done'))
    return answered(reply) ? { ok: true, reply } : { ok: false, reply, error: 'unexpected reply' }
  } catch (err) {
    stream?.abort(err as Error)
    return { ok: false, error: (err as Error).message }
  }
}

interface HelloMessage {
  type: string
  cert?: unknown
  roster?: unknown
  departures?: unknown
  error?: { name: string, message: string }
}

function helloPayload (type: 'hello' | 'welcome', cert: MemberCertificate): HelloMessage {
  return { type, cert, roster: [cert], departures: [] }
}

/**
 * The client side of the membership hello (`/paired/team/1.0.0`): hello with our
 * certificate, the member's welcome, our ack. Resolves with the member's answer.
 */
export async function sayHello (node: AttackerNode, target: Multiaddr, cert: MemberCertificate): Promise<{ ok: boolean, reply?: HelloMessage, error?: string }> {
  const stream = await node.dialProtocol(target, PROTOCOL_TEAM, { signal: AbortSignal.timeout(5_000) })
  const ch = jsonChannel(stream, { protocol: PROTOCOL_TEAM, maxBytes: MAX_TEAM_MESSAGE_BYTES, timeoutMs: 5_000 })
  try {
    await ch.write(helloPayload('hello', cert))
    const reply = await ch.read(anything) as HelloMessage
    if (!isObject(reply) || reply.type !== 'welcome') {
      stream.abort(new Error('refused'))
      return { ok: false, reply, error: reply?.error?.message ?? 'no welcome' }
    }
    await ch.write({ type: 'ack' })
    await stream.close().catch(() => {})
    return { ok: true, reply }
  } catch (err) {
    stream.abort(err as Error)
    return { ok: false, error: (err as Error).message }
  }
}

/** the server side of the hello, for the member's own dials back to us */
export async function answerHellos (node: AttackerNode, cert: MemberCertificate): Promise<void> {
  await node.handle(PROTOCOL_TEAM, async stream => {
    const ch = jsonChannel(stream, { protocol: PROTOCOL_TEAM, maxBytes: MAX_TEAM_MESSAGE_BYTES, timeoutMs: 5_000 })
    try {
      const hello = await ch.read(anything) as HelloMessage
      if (!isObject(hello) || hello.type !== 'hello') throw new Error('expected a hello')
      await ch.write(helloPayload('welcome', cert))
      await ch.read(anything)
      await stream.close().catch(() => {})
    } catch (err) {
      stream.abort(err as Error)
    }
  })
}

/** a well-formed batch of one `kv:set` by `signer`, correctly signed for team `teamId` */
export function kvSetBatch (teamId: string, signer: Signer, seq: number, key: string, value: unknown): OpBatch {
  const op = { author: signer.peerId, seq, hlc: { wall: Date.now(), logical: 0, node: signer.peerId }, kind: 'kv:set', body: { key, value } }
  return signBatch([op], signer, teamId)
}

/** waits until the attacker's gossipsub knows `peer` subscribes to the team's state topic */
export async function waitForSubscriber (node: AttackerNode, teamId: string, peer: string, timeoutMs = 10_000): Promise<void> {
  const topic = stateTopic(teamId)
  const deadline = Date.now() + timeoutMs
  while (!node.services.pubsub.getSubscribers(topic).some(p => p.toString() === peer)) {
    if (Date.now() > deadline) throw new Error(`${peer} never subscribed to ${topic} as seen by the attacker`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Publishes `data` on the state topic; returns the peers gossipsub handed it to (an
 * accepted publish is not an accepted message: the receiver's validator decides).
 */
export async function publishState (node: AttackerNode, teamId: string, data: Uint8Array): Promise<string[]> {
  const result = await node.services.pubsub.publish(stateTopic(teamId), data)
  return result.recipients.map(p => p.toString())
}

/** the daemon's first TCP address with its /p2p/ part */
export function addrOf (addresses: string[]): Multiaddr {
  const addr = addresses.find(a => a.includes('/tcp/') && a.includes('/p2p/'))
  if (addr == null) throw new Error(`no dialable address in ${addresses.join(', ')}`)
  return multiaddr(addr)
}

/**
 * Asks the team's DHT for the peers closest to a random key, through whoever the attacker is
 * connected to; returns the peers that answered within `timeoutMs`.
 */
export async function dhtAnswers (node: AttackerNode, timeoutMs: number): Promise<string[]> {
  const dht = node.services.dht
  if (dht == null) throw new Error('this attacker was made without a team id: it has no DHT')
  const from = new Set<string>()
  try {
    for await (const event of dht.getClosestPeers(crypto.getRandomValues(new Uint8Array(32)), { signal: AbortSignal.timeout(timeoutMs) })) {
      if (event.name === 'PEER_RESPONSE') from.add(event.from.toString())
    }
  } catch {}
  return [...from]
}

/** resident set size of a process, in bytes (Linux /proc) */
export async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (m == null) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) * 1024
}

export { varint }

/** a length-prefixed frame around `payload` */
export function frame (payload: Uint8Array): Uint8Array {
  const prefix = varint(payload.byteLength)
  const out = new Uint8Array(prefix.byteLength + payload.byteLength)
  out.set(prefix, 0)
  out.set(payload, prefix.byteLength)
  return out
}

/**
 * Opens `protocol`, writes `bytes` raw (no framing added), half-closes, and waits until the
 * member ends the stream (or `timeoutMs`). Resolves with whether the member answered
 * anything at all.
 */
export async function sendRaw (node: AttackerNode, target: Multiaddr, protocol: string, bytes: Uint8Array, timeoutMs = 2_000): Promise<{ opened: boolean, answered: boolean, reply?: string }> {
  let stream: Stream
  try {
    stream = await node.dialProtocol(target, protocol, { signal: AbortSignal.timeout(timeoutMs) })
  } catch {
    return { opened: false, answered: false }
  }
  let answered = false
  let reply = ''
  const ended = new Promise<void>(resolve => {
    const timer = setTimeout(() => { stream.abort(new Error('timeout')); resolve() }, timeoutMs)
    stream.addEventListener('message', evt => {
      answered = true
      if (reply.length < 1024) reply += new TextDecoder().decode(evt.data.subarray())
    })
    stream.addEventListener('close', () => { clearTimeout(timer); resolve() }, { once: true })
  })
  try {
    if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(timeoutMs) })
    await stream.close({ signal: AbortSignal.timeout(timeoutMs) })
  } catch {}
  await ended
  return answered ? { opened: true, answered, reply } : { opened: true, answered }
}

/**
 * A bare key holder for floods: TCP from `localAddress` (any 127.x.y.z), pnet, Noise and
 * yamux, no services, a fresh peer id. It holds whatever connection it makes until stopped.
 */
export async function createKeyHolder (init: { psk: string, localAddress: string }): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    // the options go to net.connect as they are; the type names only a few of them
    transports: [tcp({ dialOpts: { localAddress: init.localAddress } as NonNullable<TCPOptions['dialOpts']> })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: swarmKey(init.psk) }),
    connectionGater: { denyDialMultiaddr: () => false },
    // no pings: a flood node that the member evicts is simply gone
    connectionMonitor: { enabled: false }
  })
}

/**
 * Keeps `count` TCP sockets open to `port` from `localAddress`, each sending nothing; a socket
 * the member closes is opened again at once, until `stop`. Returns how many are open now.
 */
export function silentSockets (port: number, localAddress: string, count: number): { open: () => number, opened: () => number, stop: () => void } {
  const sockets = new Set<Socket>()
  let stopped = false
  let opened = 0
  const one = (): void => {
    if (stopped) return
    const s = connect({ host: '127.0.0.1', port, localAddress })
    opened++
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => { sockets.delete(s); setTimeout(one, 20) })
  }
  for (let i = 0; i < count; i++) one()
  return {
    open: () => [...sockets].filter(s => !s.connecting && !s.destroyed).length,
    opened: () => opened,
    stop: () => { stopped = true; for (const s of sockets) s.destroy() }
  }
}
