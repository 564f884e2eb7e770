/**
 * What the daemon does with an error nothing caught. Errors on a peer's path never get here:
 * they are caught where libp2p calls us (`src/node/guard.ts`, `src/net/pnet.ts`) and cost
 * only that peer its connection. So an uncaught exception or an unhandled rejection is this
 * daemon's own bug, and its state may be half-updated: it says so loudly, with the stack, and
 * exits with {@link FATAL_EXIT_CODE} rather than serve on in a state nobody can reason
 * about. Everything acknowledged is already in LevelDB (kill -9 safe), and a supervisor or
 * the user restarts it; its teammates see it as `dead`, then `alive` again.
 */

/** EX_SOFTWARE (sysexits.h): an internal software error */
export const FATAL_EXIT_CODE = 70

export interface FatalHooks {
  line: (text: string) => void
  /** @default process.exit */
  exit?: (code: number) => void
}

/** the listener for `uncaughtException` and `unhandledRejection`, for one daemon process */
export function onFatal (hooks: FatalHooks): (err: unknown, origin: string) => void {
  const exit = hooks.exit ?? ((code: number) => { process.exit(code) })
  return (err, origin) => {
    const what = origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception'
    const detail = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)
    try {
      hooks.line(`fatal: ${what}, a bug in paired (not caused by a peer); exiting with ${FATAL_EXIT_CODE}: ${detail}`)
    } finally {
      exit(FATAL_EXIT_CODE)
    }
  }
}

/** installs {@link onFatal} on this process; returns the function that removes it */
export function installFatalHandlers (hooks: FatalHooks): () => void {
  const listener = onFatal(hooks)
  const onException = (err: unknown, origin: string): void => { listener(err, origin) }
  const onRejection = (reason: unknown): void => { listener(reason, 'unhandledRejection') }
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  return () => {
    process.off('uncaughtException', onException)
    process.off('unhandledRejection', onRejection)
  }
}
