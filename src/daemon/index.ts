/**
 * @packageDocumentation
 *
 * The daemon's front door: its configuration (defaults, `config.json`, environment,
 * flags), `paired init`, and the `Daemon`. The composition root that adds the HTTP API
 * and the process signals is src/app.ts.
 */
import { mkdir, open } from 'node:fs/promises'
import { readTextIfExists } from '../files.js'
import { InvalidConfigError } from '../errors.js'
import { loadOrCreateIdentity } from '../identity/index.js'
import { defaultConfig, envLayer, mergeConfig, validateLayer, type ConfigLayer, type PairedConfig } from './config.js'
import { rememberName } from './config-file.js'
import { homePaths, secureHome } from './home.js'

export { Daemon } from './daemon.js'
export type { DaemonInit } from './daemon.js'
export { resolveHome, homePaths } from './home.js'
export type { PairedConfig } from './config.js'

/** What `paired daemon` passes in; `undefined` means "from config, else the default". */
export interface DaemonRunOptions {
  home: string
  listen?: string[]
  bootstrap?: string[]
  apiPort?: number
  /** false for `--no-mdns` */
  mdns?: boolean
  name?: string
  /** where log lines go (one line per event); default process.stderr */
  log?: (line: string) => void
}

export interface InitResult {
  peerId: string
  home: string
  created: boolean
  /** an existing home got a new name */
  renamed: boolean
}

/** the file layer: `config.json` in the home, if present */
export async function readConfigFile (path: string): Promise<ConfigLayer> {
  const text = await readTextIfExists(path)
  if (text === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidConfigError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  return validateLayer(parsed, path)
}

/** defaults, then config.json, then environment, then flags */
export async function loadConfig (options: DaemonRunOptions, env: NodeJS.ProcessEnv = process.env): Promise<PairedConfig> {
  const flags: Record<string, unknown> = {}
  if (options.name != null) flags.name = options.name
  if (options.listen != null && options.listen.length > 0) flags.listen = options.listen
  if (options.bootstrap != null && options.bootstrap.length > 0) flags.bootstrap = options.bootstrap
  if (options.apiPort != null) flags.apiPort = options.apiPort
  if (options.mdns === false) flags.mdns = { enabled: false }
  return mergeConfig(defaultConfig(), await readConfigFile(homePaths(options.home).config), envLayer(env), validateLayer(flags, 'command line'))
}

/**
 * `paired init`: make the home (private: 0700), key and config if missing; with a name,
 * set it in `config.json` (as `paired daemon --name` does). Idempotent.
 */
export async function initHome (options: { home: string, name?: string }): Promise<InitResult> {
  const paths = homePaths(options.home)
  if (options.name != null) validateLayer({ name: options.name }, 'command line')
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  await secureHome(paths)
  const { identity, created } = await loadOrCreateIdentity(paths.key)
  let renamed = false
  if (options.name != null) {
    await readConfigFile(paths.config) // a broken config.json is reported, not overwritten
    renamed = await rememberName(paths.config, options.name) && !created
  } else {
    try {
      const fh = await open(paths.config, 'wx', 0o600)
      await fh.writeFile('{}\n')
      await fh.close()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return { peerId: identity.peerId.toString(), home: paths.home, created, renamed }
}
