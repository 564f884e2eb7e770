/**
 * @packageDocumentation
 *
 * The composition root: builds the parts, starts and stops them in order, owns the
 * home's lock and the process signals.
 */
import { mkdir, open } from 'node:fs/promises'
import { readTextIfExists } from '../files.js'
import { InvalidConfigError } from '../errors.js'
import { loadOrCreateIdentity } from '../identity/index.js'
import { defaultConfig, envLayer, mergeConfig, validateLayer, type ConfigLayer, type PairedConfig } from './config.js'
import { rememberName } from './config-file.js'
import { Daemon } from './daemon.js'
import { DAEMON_UMASK, homePaths, secureHome } from './home.js'
import { installFatalHandlers } from './fatal.js'

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

/** stop must finish within this, else the process exits anyway */
export const STOP_DEADLINE_MS = 4_500

/** `paired daemon`: runs until SIGINT/SIGTERM; resolves with the exit code. */
export async function runDaemon (options: DaemonRunOptions): Promise<number> {
  const line = options.log ?? ((text: string) => { process.stderr.write(`${new Date().toISOString()} ${text}\n`) })
  const config = await loadConfig(options)
  // what this process creates (LevelDB's files among them) is its user's alone: 0700 / 0600
  process.umask(DAEMON_UMASK)
  const daemon = new Daemon({
    home: options.home,
    config,
    explicit: { listen: options.listen != null && options.listen.length > 0, apiPort: options.apiPort != null },
    line
  })
  // handlers first: a signal that arrives while starting (or right after "ready") must
  // stop the daemon cleanly, not kill it; a second one exits at once
  let signalled!: (sig: string) => void
  const stopRequested = new Promise<string>(resolve => { signalled = resolve })
  let signals = 0
  const onSignal = (sig: string): void => {
    if (++signals === 1) {
      signalled(sig)
    } else {
      line(`${sig} again: exiting now`)
      process.exit(130)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // our own bugs end the process loudly; a peer's faults never get this far (src/daemon/fatal.ts)
  installFatalHandlers({ line })
  try {
    await daemon.start()
  } catch (err) {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    throw err
  }
  // a --name is kept (once this daemon holds the home): a restart without the flag must
  // not fall back to the host name
  if (options.name != null) {
    const path = homePaths(options.home).config
    await rememberName(path, options.name).then(
      saved => { if (saved) line(`name "${options.name ?? ''}" saved in ${path}`) },
      (err: Error) => { line(`could not save the name in ${path}: ${err.message}`) })
  }
  line('ready')
  const signal = await stopRequested
  line(`${signal}: stopping`)
  const deadline = setTimeout(() => {
    line('stop took too long: exiting')
    process.exit(1)
  }, STOP_DEADLINE_MS)
  deadline.unref()
  await daemon.stop()
  clearTimeout(deadline)
  line('stopped')
  // everything is closed and flushed; libp2p leaves a few timers of up to ~1 s behind,
  // which would only delay the exit: do not wait for them
  setTimeout(() => { process.exit(0) }, 50).unref()
  return 0
}
