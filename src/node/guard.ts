/**
 * No peer can take the process down. libp2p calls our stream handlers and event listeners
 * outside any promise chain of ours: a listener that throws, or a handler whose promise
 * rejects, reaches the process as an uncaught exception or unhandled rejection, and the
 * daemon dies for every member. Here every handler registered with `node.handle` and every
 * listener added to the node or to its gossipsub runs guarded, at this one place: a throw
 * (or rejection) is handed to `onFault` with the peer whose connection it came on, which
 * logs it, hangs up on that peer and counts it against it (the session's cool-off).
 *
 * The other paths are guarded where they start: the team network protector's socket
 * listeners (`src/net/pnet.ts`), and the gater, whose callbacks libp2p awaits inside its
 * own upgrade chain (a throw there fails that upgrade only).
 */
import type { Connection, Libp2p, PeerId, Stream, StreamHandler } from '@libp2p/interface'

/** what threw, on whose connection (undefined: no peer could be told from the event) */
export type FaultListener = (peer: string | undefined, err: Error, where: string) => void

function asError (value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

function isPeerId (value: unknown): value is PeerId {
  return value != null && typeof value === 'object' && typeof (value as PeerId).toMultihash === 'function'
}

/** the peer an event is about, from the detail shapes libp2p and gossipsub use */
export function peerOfEvent (evt: unknown): string | undefined {
  const detail = (evt as { detail?: unknown } | undefined)?.detail
  if (isPeerId(detail)) return detail.toString()
  if (detail == null || typeof detail !== 'object') return undefined
  const d = detail as Record<string, unknown>
  for (const field of ['remotePeer', 'peerId', 'id', 'propagationSource', 'from']) {
    if (isPeerId(d[field])) return (d[field] as PeerId).toString()
  }
  return undefined
}

/** `handler`, run so that a throw or a rejection goes to `onFault` and resets its stream */
export function guardHandler (protocol: string, handler: StreamHandler, onFault: FaultListener): StreamHandler {
  const fail = (stream: Stream, connection: Connection, value: unknown): void => {
    const err = asError(value)
    try { stream.abort(err) } catch {}
    onFault(connection.remotePeer.toString(), err, `the ${protocol} handler`)
  }
  return (stream, connection) => {
    try {
      const result = handler(stream, connection)
      if (result instanceof Promise) result.catch(err => { fail(stream, connection, err) })
    } catch (err) {
      fail(stream, connection, err)
    }
  }
}

type Listener = ((evt: Event) => void) | { handleEvent: (evt: Event) => void }
interface Listenable {
  addEventListener: (type: string, listener: Listener | null, options?: unknown) => void
  removeEventListener: (type: string, listener: Listener | null, options?: unknown) => void
}

/** wraps every listener added to `target` from now on; removing the original removes its wrapper */
function guardListeners (target: Listenable, label: string, onFault: FaultListener): void {
  const wrappers = new WeakMap<object, Listener>()
  const add = target.addEventListener.bind(target)
  const remove = target.removeEventListener.bind(target)
  target.addEventListener = (type, listener, options) => {
    if (listener == null) { add(type, listener, options); return }
    let wrapper = wrappers.get(listener)
    if (wrapper == null) {
      const call = typeof listener === 'function' ? listener : (evt: Event) => { listener.handleEvent(evt) }
      wrapper = (evt: Event) => {
        try {
          const result = call(evt) as unknown
          if (result instanceof Promise) result.catch(err => { onFault(peerOfEvent(evt), asError(err), `a ${label} ${type} listener`) })
        } catch (err) {
          onFault(peerOfEvent(evt), asError(err), `a ${label} ${type} listener`)
        }
      }
      wrappers.set(listener, wrapper)
    }
    add(type, wrapper, options)
  }
  target.removeEventListener = (type, listener, options) => {
    remove(type, (listener != null ? wrappers.get(listener) : undefined) ?? listener, options)
  }
}

/**
 * Guards `node` in place: handlers registered with `node.handle`, listeners added to the
 * node and to its `pubsub` service (if any) from now on. Call before registering anything.
 */
export function guardNode (node: Libp2p<{ pubsub?: unknown }>, onFault: FaultListener): void {
  const handle = node.handle.bind(node)
  node.handle = async (protocols, handler, options) => {
    const label = Array.isArray(protocols) ? protocols.join(', ') : protocols
    await handle(protocols, guardHandler(label, handler, onFault), options)
  }
  guardListeners(node as unknown as Listenable, 'node', onFault)
  const pubsub = node.services.pubsub as Listenable | undefined
  if (pubsub != null && typeof pubsub.addEventListener === 'function') guardListeners(pubsub, 'gossip', onFault)
}
