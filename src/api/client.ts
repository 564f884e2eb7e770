/**
 * The client side of the local API, used by the CLI: HTTP over the home's unix socket
 * with the bearer token. API errors come back as errors with the server's `name`.
 */
import { request, type IncomingMessage } from 'node:http'
import { dirname } from 'node:path'
import { DaemonNotRunningError } from '../errors.js'
import { API_PREFIX } from './routes.js'
import type { DaemonEvent } from '../model/docs.js'

export interface ApiClientInit {
  socketPath: string
  token: string
  /** the home folder, for the "no daemon" message; default: the socket's folder */
  home?: string
}

export interface RequestOptions {
  signal?: AbortSignal
}

export interface EventsOptions {
  /** start after this event id (a `Last-Event-ID` kept from an earlier stream) */
  lastEventId?: string
  /** open the stream again when it drops. @default true */
  reconnect?: boolean
  /** opens in a row that bring no event before giving up. @default DEFAULT_RECONNECTS */
  reconnects?: number
}

/** @default 3 opens in a row that bring nothing */
export const DEFAULT_RECONNECTS = 3
/** the pause before each reopen, by how many opens in a row brought nothing */
const RECONNECT_DELAYS_MS = [0, 100, 500, 1000]

/** An error answer of the API: `name` and `message` from the body, plus the HTTP status. */
export class ApiError extends Error {
  readonly status: number

  constructor (name: string, message: string, status: number) {
    super(message)
    this.name = name
    this.status = status
  }
}

/** `'status'` → `/api/v1/status`; a path that starts with `/` is used as it is */
export function apiPath (path: string): string {
  return path.startsWith('/') ? path : `${API_PREFIX}/${path}`
}

export class ApiClient {
  private readonly socketPath: string
  private readonly token: string
  private readonly home: string

  constructor (init: ApiClientInit) {
    this.socketPath = init.socketPath
    this.token = init.token
    this.home = init.home ?? dirname(init.socketPath)
  }

  async get<T> (path: string, options: RequestOptions = {}): Promise<T> {
    return await this.call<T>('GET', path, undefined, options)
  }

  async post<T> (path: string, body: unknown = {}, options: RequestOptions = {}): Promise<T> {
    return await this.call<T>('POST', path, body, options)
  }

  /**
   * Reads the server-sent events of `path` (default `events`) and hands each to
   * `onEvent`, until `signal` aborts or the stream ends for good. A stream that drops is
   * opened again with `Last-Event-ID`, so the daemon replays what came meanwhile (or
   * sends `reset` when it no longer holds it); it ends for good when the daemon is gone
   * or `reconnects` opens in a row brought nothing.
   */
  async events (path: string, onEvent: (event: DaemonEvent) => void, signal?: AbortSignal, options: EventsOptions = {}): Promise<void> {
    const aborted = (): boolean => signal?.aborted === true
    let lastEventId = options.lastEventId
    let fruitless = 0
    for (let opened = 0; !aborted(); opened++) {
      let res: IncomingMessage
      try {
        res = await this.send('GET', path, undefined, signal, lastEventId !== undefined ? { 'last-event-id': lastEventId } : {})
      } catch (err) {
        // after a drop, a daemon that is gone ends the stream, as the drop itself used to
        if (aborted() || opened > 0) return
        throw err
      }
      if (res.statusCode == null || res.statusCode < 200 || res.statusCode > 299) {
        const err = errorFrom(res.statusCode ?? 0, await readText(res).catch(() => ''))
        if (opened > 0) return
        throw err
      }
      const parser = new EventStreamParser(onEvent, lastEventId)
      await readEvents(res, parser, aborted)
      const progressed = parser.lastEventId !== lastEventId || parser.events > 0
      lastEventId = parser.lastEventId
      fruitless = progressed ? 0 : fruitless + 1
      if (aborted() || options.reconnect === false || fruitless > (options.reconnects ?? DEFAULT_RECONNECTS)) return
      await delay(RECONNECT_DELAYS_MS[Math.min(fruitless, RECONNECT_DELAYS_MS.length - 1)], signal)
    }
  }

  private async call<T> (method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
    const res = await this.send(method, path, body, options.signal)
    const text = await readText(res)
    const status = res.statusCode ?? 0
    if (status < 200 || status > 299) throw errorFrom(status, text)
    try {
      return JSON.parse(text) as T
    } catch {
      throw new ApiError('ApiError', `the daemon answered ${method} ${apiPath(path)} with something that is not JSON`, status)
    }
  }

  private async send (method: string, path: string, body: unknown, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string | number> = {
      host: 'localhost',
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
      ...extra
    }
    if (payload != null) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = Buffer.byteLength(payload)
    }
    return await new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path: apiPath(path), headers, agent: false, signal }, resolve)
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new DaemonNotRunningError(`no daemon is running for home ${this.home} (start one with: paired daemon --home ${this.home})`))
        } else {
          reject(err)
        }
      })
      req.end(payload)
    })
  }
}

async function readText (res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8')
  let text = ''
  for await (const chunk of res) text += chunk as string
  return text
}

/** the `{ error: { name, message } }` body of a non-2xx answer as an `ApiError` */
function errorFrom (status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { name?: unknown, message?: unknown } }
    const { name, message } = body.error ?? {}
    if (typeof name === 'string' && typeof message === 'string') return new ApiError(name, message, status)
  } catch {
    // not JSON: fall through
  }
  return new ApiError('ApiError', `the daemon answered HTTP ${status}${text.trim() !== '' ? `: ${text.trim().slice(0, 200)}` : ''}`, status)
}

/** one event stream's body into `parser`; resolves when it ends, however it ends */
async function readEvents (res: IncomingMessage, parser: EventStreamParser, aborted: () => boolean): Promise<void> {
  res.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    res.on('data', (chunk: string) => {
      try {
        parser.push(chunk)
      } catch (err) {
        res.destroy()
        reject(err)
      }
    })
    res.on('end', resolve)
    res.on('close', resolve)
    // a connection that breaks is a drop like any other; the caller reconnects
    res.on('error', () => { resolve() })
    if (aborted()) resolve()
  })
}

async function delay (ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * incremental `text/event-stream` parser: `id:`, `event:`, `data:` and `:` comments. It
 * keeps the last id, as an EventSource does, for the `Last-Event-ID` of a reconnect.
 */
export class EventStreamParser {
  private buffer = ''
  private type = ''
  private data: string[] = []
  private idBuffer: string | undefined
  /** the id of the last event (or id-only block) dispatched */
  lastEventId: string | undefined
  /** events handed to `onEvent` */
  events = 0

  constructor (private readonly onEvent: (event: DaemonEvent) => void, lastEventId?: string) {
    this.lastEventId = lastEventId
    this.idBuffer = lastEventId
  }

  push (chunk: string): void {
    this.buffer += chunk
    let newline: number
    let start = 0
    while ((newline = this.buffer.indexOf('\n', start)) >= 0) {
      const line = this.buffer.slice(start, newline)
      start = newline + 1
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line)
    }
    this.buffer = this.buffer.slice(start)
  }

  private line (line: string): void {
    if (line === '') {
      this.lastEventId = this.idBuffer
      if (this.data.length > 0) {
        const text = this.data.join('\n')
        let data: unknown
        try {
          data = JSON.parse(text)
        } catch {
          data = text
        }
        this.events++
        this.onEvent({ type: this.type !== '' ? this.type : 'message', data })
      }
      this.type = ''
      this.data = []
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') this.type = value
    else if (field === 'data') this.data.push(value)
    else if (field === 'id' && !value.includes('\0')) this.idBuffer = value
  }
}
