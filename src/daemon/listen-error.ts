/**
 * A listen that failed, as one clear line: libp2p's `UnsupportedListenAddressesError`
 * (whose message holds each address's error with its stack) or Node's own listen error
 * (the API's port) become a `ListenAddressError` that names the address and what to do.
 */
import { ListenAddressError } from '../errors.js'

const WHY: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is taken (by another paired daemon?): choose another port, or /tcp/0 for any free one',
  API_EADDRINUSE: 'the port is taken (by another paired daemon?): choose another --api-port, or 0 for any free one',
  EADDRNOTAVAIL: 'that address is not one of this machine\'s',
  EACCES: 'permission denied (ports below 1024 need privileges)'
}

function reason (code: string | undefined, message: string): string {
  return code != null && Object.hasOwn(WHY, code) ? WHY[code] : message
}

/** `/ip4/…/tcp/…: Error: listen EADDRINUSE: …` lines of libp2p's message → [address, code, first line] */
function failedAddresses (message: string): Array<{ address: string, code?: string, text: string }> {
  const out: Array<{ address: string, code?: string, text: string }> = []
  for (const m of message.matchAll(/^\s*(\/\S+?): (.*)$/gm)) {
    const text = m[2].replace(/^\w*Error: /, '').trim()
    out.push({ address: m[1], code: /\b(E[A-Z]+)\b/.exec(text)?.[1], text })
  }
  return out
}

/** a `ListenAddressError` for a failed listen, else `undefined` (not a listen failure) */
export function listenFailure (err: unknown): ListenAddressError | undefined {
  if (typeof err !== 'object' || err == null) return undefined
  const { name, message, code, address, port, syscall } = err as NodeJS.ErrnoException & { address?: string, port?: number }
  if (name === 'UnsupportedListenAddressesError' && typeof message === 'string') {
    const failed = failedAddresses(message)
    if (failed.length === 0) return new ListenAddressError('cannot listen on the configured addresses (see --listen)')
    return new ListenAddressError(failed.map(f => `cannot listen on ${f.address}: ${reason(f.code, f.text)}`).join('; '))
  }
  if (syscall === 'listen' && typeof code === 'string' && address != null) {
    const where = port != null ? `${address.includes(':') ? `[${address}]` : address}:${port}` : address
    return new ListenAddressError(`cannot listen on ${where}: ${reason(code === 'EADDRINUSE' ? 'API_EADDRINUSE' : code, message)}`)
  }
  return undefined
}
