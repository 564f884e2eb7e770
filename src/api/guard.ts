/**
 * The checks every API request passes before it reaches a route: a loopback `Host`
 * (against DNS rebinding), no foreign `Origin` (against cross-site requests) and the
 * bearer token. Pure functions.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'

const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** `localhost`, `127.x.x.x` or `::1` (a bare name or address, no port, no brackets) */
export function isLoopbackName (name: string): boolean {
  const n = name.toLowerCase()
  if (n === 'localhost' || n === '::1') return true
  const m = IPV4_LOOPBACK.exec(n)
  return m != null && m.slice(1).every(octet => Number(octet) <= 255)
}

/**
 * The host name of a `Host` header without its port and brackets, lower case; undefined
 * when the header is malformed.
 */
export function hostHeaderName (header: string): string | undefined {
  let name: string
  let rest: string
  if (header.startsWith('[')) {
    const end = header.indexOf(']')
    if (end < 0) return undefined
    name = header.slice(1, end)
    rest = header.slice(end + 1)
    if (isIP(name) !== 6) return undefined
  } else {
    const colon = header.indexOf(':')
    name = colon < 0 ? header : header.slice(0, colon)
    rest = colon < 0 ? '' : header.slice(colon)
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined
  if (name === '') return undefined
  return name.toLowerCase()
}

/**
 * Whether a request's `Host` header is acceptable: a loopback name (or one of `extra`,
 * the literal addresses of an interface the API was configured to listen on). On the unix
 * socket a missing header is fine too.
 */
export function hostAllowed (header: string | undefined, transport: 'unix' | 'tcp', extra: readonly string[] = []): boolean {
  if (header == null || header === '') return transport === 'unix'
  const name = hostHeaderName(header)
  if (name == null) return false
  return isLoopbackName(name) || extra.includes(name)
}

/** a host name as it appears in a URL: IPv6 addresses in brackets */
export function urlHost (name: string): string {
  return isIP(name) === 6 ? `[${name}]` : name
}

/** the browser origins of this API itself: `http://127.0.0.1:<port>`, `http://localhost:<port>` */
export function ownOrigins (port: number, extra: readonly string[] = []): string[] {
  return ['127.0.0.1', 'localhost', ...extra].map(h => `http://${urlHost(h)}:${port}`)
}

export function originAllowed (origin: string, port: number, extra: readonly string[] = []): boolean {
  return ownOrigins(port, extra).includes(origin.toLowerCase())
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/** whether an `Authorization` header carries `Bearer <token>`, compared in constant time */
export function bearerMatches (header: string | undefined, token: string): boolean {
  if (header == null || token === '') return false
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  if (m == null) return false
  return timingSafeEqual(sha256(m[1]), sha256(token))
}
