/**
 * @packageDocumentation
 *
 * The composition root: builds the parts, starts and stops them in order, owns the
 * home's lock and the process signals.
 */

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
}

/** `paired init`: make the home, key and config if missing. Idempotent. */
export async function initHome (_options: { home: string, name?: string }): Promise<InitResult> {
  throw new Error('not implemented yet')
}

/** `paired daemon`: runs until SIGINT/SIGTERM; resolves with the exit code. */
export async function runDaemon (_options: DaemonRunOptions): Promise<number> {
  throw new Error('not implemented yet')
}
