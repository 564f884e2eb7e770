/**
 * @packageDocumentation
 *
 * The composition root: the one place that puts the domain (the `Daemon` of
 * src/daemon/) and its HTTP edge (the `ApiServer` of src/api/) together, starts and stops
 * them in order, and owns the process signals. `paired daemon` runs {@link runDaemon}.
 * Nothing under src/daemon/ imports src/api/ (test/unit/architecture.test.ts checks it).
 */
import { ApiServer, ensureApiToken } from './api/index.js'
import { Daemon, homePaths, loadConfig, type DaemonInit, type DaemonRunOptions } from './daemon/index.js'
import { rememberName } from './daemon/config-file.js'
import { installFatalHandlers } from './daemon/fatal.js'
import { DAEMON_UMASK } from './daemon/home.js'
import { listenFailure } from './daemon/listen-error.js'
import { chooseApiPort } from './daemon/ports.js'

/** stop must finish within this, else the process exits anyway */
export const STOP_DEADLINE_MS = 4_500

/** A daemon and the local HTTP API over it (on the home's unix socket and loopback TCP). */
export class PairedApp {
  readonly daemon: Daemon
  private api?: ApiServer

  constructor (private readonly init: DaemonInit) {
    this.daemon = new Daemon({ ...init, announce: false })
  }

  private line (text: string): void { this.init.line?.(text) }

  /** the API's TCP URL, once started */
  get apiUrl (): string | undefined { return this.api?.url }

  /** starts the daemon, then the API over it; on a failure stops both and throws */
  async start (): Promise<void> {
    await this.daemon.start()
    try {
      const { paths } = this.daemon
      const token = await ensureApiToken(paths.apiToken)
      const port = await chooseApiPort(this.init.config, this.init.explicit, t => { this.line(t) })
      const api = new ApiServer({ control: this.daemon, token, socketPath: paths.apiSocket, host: this.init.config.apiHost, port, log: t => { this.line(t) } })
      this.api = api
      await api.start()
      this.daemon.setApiUrl(api.url)
      for (const text of this.daemon.startLines()) this.line(text)
      this.line(`api on ${api.url} and ${paths.apiSocket}`)
    } catch (err) {
      await this.stop()
      throw listenFailure(err) ?? err
    }
  }

  /** stops the API (no new calls), then the daemon */
  async stop (): Promise<void> {
    await this.api?.stop().catch(() => {})
    this.api = undefined
    this.daemon.setApiUrl(undefined)
    await this.daemon.stop()
  }
}

/** `paired daemon`: runs until SIGINT/SIGTERM; resolves with the exit code. */
export async function runDaemon (options: DaemonRunOptions): Promise<number> {
  const line = options.log ?? ((text: string) => { process.stderr.write(`${new Date().toISOString()} ${text}\n`) })
  const config = await loadConfig(options)
  // what this process creates (LevelDB's files among them) is its user's alone: 0700 / 0600
  process.umask(DAEMON_UMASK)
  const app = new PairedApp({
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
    await app.start()
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
  await app.stop()
  clearTimeout(deadline)
  line('stopped')
  // everything is closed and flushed; libp2p leaves a few timers of up to ~1 s behind,
  // which would only delay the exit: do not wait for them
  setTimeout(() => { process.exit(0) }, 50).unref()
  return 0
}
