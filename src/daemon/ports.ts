/**
 * Which ports the daemon takes: the default ones fall back to free ones when another
 * daemon on this machine holds them; ports the user chose never do.
 */
import { createServer } from 'node:net'
import { DEFAULT_API_PORT, DEFAULT_LISTEN, type PairedConfig } from './config.js'

/** flags the user set explicitly: a busy default port falls back, an explicit one fails */
export interface ExplicitPorts { listen?: boolean, apiPort?: boolean }

/** whether nothing listens on `host:port` now */
export async function portFree (host: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const srv = createServer()
    srv.once('error', () => { resolve(false) })
    srv.listen({ host, port, exclusive: true }, () => { srv.close(() => { resolve(true) }) })
  })
}

/** the libp2p listen addresses: the default port 4801 becomes any free port when taken */
export async function chooseListen (config: Pick<PairedConfig, 'listen'>, explicit: ExplicitPorts | undefined, line: (text: string) => void, free = portFree): Promise<string[]> {
  const { listen } = config
  if (explicit?.listen === true || listen.join() !== DEFAULT_LISTEN.join()) return listen
  if (await free('0.0.0.0', 4801)) return listen
  line('port 4801 is taken: listening on a free port instead (set --listen to choose)')
  return listen.map(a => a.replace('/tcp/4801', '/tcp/0'))
}

/** the API's TCP port: the default one becomes 0 (any free port) when taken */
export async function chooseApiPort (config: Pick<PairedConfig, 'apiPort' | 'apiHost'>, explicit: ExplicitPorts | undefined, line: (text: string) => void, free = portFree): Promise<number> {
  const { apiPort, apiHost } = config
  if (explicit?.apiPort === true || apiPort !== DEFAULT_API_PORT) return apiPort
  if (await free(apiHost, apiPort)) return apiPort
  line(`api port ${apiPort} is taken: using a free port instead (the CLI uses the unix socket)`)
  return 0
}

/**
 * `listen` with each `/tcp/0` replaced by the port the node bound for that host (from
 * `bound`, its multiaddrs), so later nodes (a new team, a new network key) bind the same
 * ones and members that remember this daemon's addresses find it again. Pure.
 */
export function pinnedListen (listen: string[], bound: string[]): string[] {
  if (!listen.some(a => a.endsWith('/tcp/0'))) return listen
  return listen.map(a => {
    if (!a.endsWith('/tcp/0')) return a
    const host = a.slice(0, -'/tcp/0'.length)
    const found = bound.find(b => b.startsWith(`${host}/tcp/`)) ?? bound.find(b => b.startsWith(a.split('/').slice(0, 2).join('/') + '/'))
    const port = found === undefined ? undefined : /\/tcp\/(\d+)/.exec(found)?.[1]
    return port === undefined ? a : `${host}/tcp/${port}`
  })
}
