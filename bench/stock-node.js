// A stock js-libp2p node with the daemon's stack (TCP on 127.0.0.1, a pnet protector,
// Noise, yamux, identify, ping, gossipsub with StrictNoSign, content-hash message ids and
// no IP colocation penalty, as the daemon's) and nothing of paired: the raw reference, the flooder and the raw gossip bench each run
// one in a child process. Loaded lazily, so a parent that only forks pays nothing.
import { createHash } from 'node:crypto'

/**
 * `protector`: the connection protector (the team pnet); `connectionMonitor`: libp2p's
 * option as is; `gossip`: gossipsub options on top of the daemon's signature and id rules.
 */
export async function stockNode ({ protector, privateKey, connectionMonitor, gossip = {} }) {
  const [{ noise }, { gossipsub }, { identify }, { ping }, { tcp }, { yamux }, { createLibp2p }] = await Promise.all([
    import('@chainsafe/libp2p-noise'), import('@libp2p/gossipsub'), import('@libp2p/identify'), import('@libp2p/ping'),
    import('@libp2p/tcp'), import('@libp2p/yamux'), import('libp2p')
  ])
  return await createLibp2p({
    ...(privateKey === undefined ? {} : { privateKey }),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: protector,
    connectionGater: { denyDialMultiaddr: () => false },
    connectionMonitor,
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictNoSign',
        emitSelf: false,
        msgIdFn: msg => createHash('sha256').update(msg.topic).update(msg.data).digest(),
        ...gossip,
        // gossipsub's default scores peers sharing an IP down by (count − 10)²·5: at 15+
        // processes on one host every peer falls below the publish and graylist thresholds
        // and gossip stops. The daemon turns it off (src/node/create-node.ts); so does the
        // reference, or at 20 and 50 it measures that penalty rather than libp2p
        scoreParams: { ...gossip.scoreParams, IPColocationFactorWeight: 0 }
      })
    }
  })
}
