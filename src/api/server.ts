/**
 * The local API server (docs/DESIGN.md §7): one request handler on two listeners, the home's
 * unix socket (0600) and TCP on a loopback address. Every request passes the Host,
 * Origin and token checks of `guard.ts`, then the route table of `routes.ts`.
 */
import { randomBytes } from 'node:crypto'
import { chmod, lstat, unlink } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { NotFoundError } from '../errors.js'
import {
  ForbiddenHostError, ForbiddenOriginError, MethodNotAllowedError, UnauthorizedError, errorBody, statusForError
} from './errors.js'
import { bearerMatches, hostAllowed, isLoopbackName, originAllowed, urlHost } from './guard.js'
import { readJsonBody, sendError, sendJson } from './http.js'
import { ROUTES, matchRoute, type ApiControl, type Route, type RouteCall } from './routes.js'
import { EventRing, type RingLimits } from './event-ring.js'
import { RingReader } from './event-stream.js'

/** @default 15 s between `: keepalive` comments on an event stream */
export const DEFAULT_KEEPALIVE_MS = 15_000
/** @default 30 s for a long call (ping, query, connect, join) */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000
/** @default 60 s that events are still recorded after the last event stream closed, so its client can resume (a browser retries after ~3 s); after that, nobody pays for task:updated events nobody reads */
export const DEFAULT_EVENT_RETAIN_MS = 60_000

export interface ApiServerInit {
  /** the daemon; the `kv/*` routes need its `KvControl` methods too */
  control: ApiControl
  token: string
  socketPath: string
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
  /** one line per notable event (warnings, failed requests) */
  log?: (line: string) => void
  /** @default DEFAULT_KEEPALIVE_MS */
  keepaliveMs?: number
  /** @default DEFAULT_CALL_TIMEOUT_MS */
  callTimeoutMs?: number
  /** the bounds of the ring of recent events, and how far behind a reader is sent only the newest event of each task and key */
  events?: RingLimits & { coalesceAfter?: number, retainMs?: number }
  /** the first part of every event id, [0-9a-z]+, new on each start. @default from the time and 4 random bytes */
  runId?: string
}

type Transport = 'unix' | 'tcp'

export class ApiServer {
  private readonly control: ApiControl
  private readonly token: string
  private readonly socketPath: string
  private readonly host: string
  private readonly wantedPort: number
  private readonly log: (line: string) => void
  private readonly keepaliveMs: number
  private readonly callTimeoutMs: number
  private readonly routes: readonly Route[] = ROUTES
  /** open event streams and the function that closes each */
  private readonly streams = new Map<ServerResponse, () => void>()
  private readonly ring: EventRing
  private readonly readers = new Set<RingReader>()
  private readonly eventOptions: NonNullable<ApiServerInit['events']>
  /** set while the ring records the daemon's events: from the first stream until `retainMs` after the last */
  private unsubscribe?: () => void
  private retainTimer?: NodeJS.Timeout
  private tcp?: Server
  private unix?: Server
  private socketCreated = false
  private controller?: AbortController
  private boundPort = 0
  /** literal addresses besides loopback that Host and Origin may name */
  private extraHosts: string[] = []

  constructor (init: ApiServerInit) {
    this.control = init.control
    this.token = init.token
    this.socketPath = init.socketPath
    this.host = init.host ?? '127.0.0.1'
    this.wantedPort = init.port ?? 0
    this.log = init.log ?? (() => {})
    this.keepaliveMs = init.keepaliveMs ?? DEFAULT_KEEPALIVE_MS
    this.callTimeoutMs = init.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.eventOptions = init.events ?? {}
    this.ring = new EventRing(init.runId ?? `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`, this.eventOptions)
  }

  /** the TCP port, once started */
  get port (): number {
    return this.boundPort
  }

  /** `http://127.0.0.1:PORT` (or the configured host's address) */
  get url (): string {
    const wildcard = this.host === '0.0.0.0' || this.host === '::'
    return `http://${wildcard ? '127.0.0.1' : urlHost(this.host)}:${this.boundPort}`
  }

  async start (): Promise<void> {
    if (this.controller != null) return
    this.controller = new AbortController()
    try {
      this.extraHosts = this.configuredHosts()
      if (!isLoopbackName(this.host)) {
        this.log(`api: WARNING listening on ${this.host}, which is not a loopback address: anyone who reaches it with the token controls this daemon`)
      }
      // TCP first: its port is part of the Origin check that unix requests pass too
      this.tcp = this.makeServer('tcp')
      await listen(this.tcp, s => s.listen(this.wantedPort, this.host))
      const address = this.tcp.address()
      this.boundPort = typeof address === 'object' && address != null ? address.port : 0
      await removeStaleSocket(this.socketPath)
      this.unix = this.makeServer('unix')
      await listen(this.unix, s => s.listen(this.socketPath))
      this.socketCreated = true
      await chmod(this.socketPath, 0o600)
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller == null) return
    this.controller = undefined
    controller.abort(new Error('the API server is stopping'))
    for (const close of [...this.streams.values()]) close()
    this.stopRecording()
    const servers = [this.tcp, this.unix].filter((s): s is Server => s != null)
    this.tcp = undefined
    this.unix = undefined
    await Promise.all(servers.map(async server => {
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      server.closeAllConnections()
      await closed
    }))
    if (this.socketCreated) {
      this.socketCreated = false
      await unlink(this.socketPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    }
  }

  private configuredHosts (): string[] {
    if (isLoopbackName(this.host)) return []
    if (this.host === '0.0.0.0' || this.host === '::') {
      return Object.values(networkInterfaces()).flatMap(list => (list ?? []).map(i => i.address.toLowerCase()))
    }
    return isIP(this.host) !== 0 ? [this.host.toLowerCase()] : []
  }

  private makeServer (transport: Transport): Server {
    // a missing Host is judged by the guard (fine on the unix socket only), not refused by node
    const server = createServer({ requireHostHeader: false }, (req, res) => {
      this.serve(req, res, transport).catch(err => {
        this.log(`api: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${(err as Error).stack ?? String(err)}`)
        sendError(res, err)
      })
    })
    server.on('error', err => { this.log(`api: ${transport} listener error: ${err.message}`) })
    return server
  }

  private async serve (req: IncomingMessage, res: ServerResponse, transport: Transport): Promise<void> {
    const method = req.method ?? 'GET'
    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2)
    try {
      if (!hostAllowed(req.headers.host, transport, this.extraHosts)) {
        throw new ForbiddenHostError(`Host "${req.headers.host ?? ''}" is not a loopback name`)
      }
      const origin = req.headers.origin
      if (origin != null && !originAllowed(origin, this.boundPort, this.extraHosts)) {
        throw new ForbiddenOriginError(`Origin "${origin}" may not use this API`)
      }
      if (method === 'OPTIONS') throw new MethodNotAllowedError('OPTIONS is not supported (no CORS)', ['GET', 'POST'])
      if (!bearerMatches(req.headers.authorization, this.token)) {
        throw new UnauthorizedError('a valid bearer token is required (see the api.token file in the home folder)')
      }
      const match = matchRoute(this.routes, method, rawPath)
      if (match.found === 'none') throw new NotFoundError(`no route ${method} ${rawPath}`)
      if (match.found === 'method') {
        throw new MethodNotAllowedError(`${rawPath} answers ${match.allow.join(', ')}, not ${method}`, match.allow)
      }
      const body = method === 'POST' ? await readJsonBody(req, match.route.maxBody) : {}
      await this.control.settled?.()
      await this.answer(req, res, match.route, {
        control: this.control,
        api: { url: this.url, socket: this.socketPath },
        params: match.params,
        query: new URLSearchParams(rawQuery),
        body,
        signal: this.callSignal(res, match.route.long === true)
      })
    } catch (err) {
      this.fail(res, err, method, rawPath)
    }
  }

  private async answer (req: IncomingMessage, res: ServerResponse, route: Route, call: RouteCall): Promise<void> {
    let reply
    try {
      reply = await route.handle(call)
    } catch (err) {
      // a call cut short by its deadline is a gateway timeout, whatever the control threw
      const reason: unknown = call.signal.reason
      const timedOut = call.signal.aborted && nameOf(reason) === 'TimeoutError'
      if (timedOut && (err === reason || nameOf(err) === 'AbortError')) {
        const timeout = new Error(`the daemon did not answer within ${Math.round(this.callTimeoutMs / 1000)} s`)
        timeout.name = 'TimeoutError'
        throw timeout
      }
      throw err
    }
    if (reply.kind === 'json') {
      sendJson(res, 200, reply.value)
    } else if (reply.kind === 'text') {
      res.writeHead(200, { 'content-type': reply.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(reply.body) })
      res.end(reply.body)
    } else {
      this.openEvents(req, res, call.query)
    }
  }

  private fail (res: ServerResponse, err: unknown, method: string, path: string): void {
    const headers: Record<string, string> = {}
    const name = errorBody(err).error.name
    if (err instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer realm="paired"'
    if (err instanceof MethodNotAllowedError) headers.allow = err.allow.join(', ')
    if (name === 'PayloadTooLargeError') headers.connection = 'close'
    if (statusForError(name) === 500) this.log(`api: ${method} ${path}: ${(err as Error).stack ?? String(err)}`)
    sendError(res, err, headers)
  }

  /** aborts when the client goes away, on stop, and for long calls after the deadline */
  private callSignal (res: ServerResponse, long: boolean): AbortSignal {
    const gone = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'))
    })
    const signals = [gone.signal]
    if (this.controller != null) signals.push(this.controller.signal)
    if (long) signals.push(AbortSignal.timeout(this.callTimeoutMs))
    return AbortSignal.any(signals)
  }

  /**
   * `GET /api/v1/events`: server-sent events until the client or the server goes. With a
   * `Last-Event-ID` header (or `?lastEventId=`), what came after that id first, then live.
   */
  private openEvents (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    if (this.controller == null) {
      res.writeHead(503, { connection: 'close' }).end()
      return
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff'
    })
    this.record()
    const header = req.headers['last-event-id']
    const lastId = query.get('lastEventId') ?? (typeof header === 'string' ? header : undefined)
    const resume = lastId !== undefined && lastId !== '' ? this.ring.resume(lastId.trim()) : undefined
    const reader = new RingReader(this.ring, res, resume?.ok === true ? resume.seq : this.ring.last, {
      coalesceAfter: this.eventOptions.coalesceAfter,
      onBehind: () => { this.log('api: an event stream reader fell behind the ring; sent it reset') }
    })
    const keepalive = setInterval(() => { reader.comment('keepalive') }, this.keepaliveMs)
    keepalive.unref()
    const close = (): void => {
      if (!this.streams.delete(res)) return
      clearInterval(keepalive)
      // what is already in the ring goes out before the end (a server that stops says its last words)
      reader.pump()
      reader.close()
      this.readers.delete(reader)
      if (this.streams.size === 0) this.retainThenStop()
      if (!res.writableEnded) res.end()
    }
    this.streams.set(res, close)
    this.readers.add(reader)
    res.on('close', close)
    res.write(': connected\n\n')
    if (resume?.ok === false) reader.reset(resume.reason, resume.message)
    else reader.announce()
    reader.pump()
    req.socket.setTimeout(0)
  }

  /** the ring records the daemon's events from now (until `retainMs` after the last stream) */
  private record (): void {
    clearTimeout(this.retainTimer)
    this.retainTimer = undefined
    if (this.unsubscribe != null) return
    this.unsubscribe = this.control.subscribe(event => {
      this.ring.append(event)
      for (const reader of this.readers) reader.wake()
    })
  }

  private retainThenStop (): void {
    clearTimeout(this.retainTimer)
    this.retainTimer = setTimeout(() => { this.stopRecording() }, this.eventOptions.retainMs ?? DEFAULT_EVENT_RETAIN_MS)
    this.retainTimer.unref()
  }

  /** nobody reads: stop recording, and forget what the ring held (ids before now get reset) */
  private stopRecording (): void {
    clearTimeout(this.retainTimer)
    this.retainTimer = undefined
    if (this.unsubscribe == null) return
    this.unsubscribe()
    this.unsubscribe = undefined
    this.ring.pause()
  }
}

function nameOf (value: unknown): string | undefined {
  return typeof value === 'object' && value != null && typeof (value as { name?: unknown }).name === 'string'
    ? (value as { name: string }).name
    : undefined
}

async function listen (server: Server, start: (server: Server) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      server.off('error', reject)
      resolve()
    })
    start(server)
  })
}

/** a socket file left by a daemon that died; anything else at that path is an error */
async function removeStaleSocket (path: string): Promise<void> {
  try {
    const s = await lstat(path)
    if (!s.isSocket()) throw new Error(`${path} exists and is not a socket: move it away`)
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
