/**
 * Exit codes of the CLI (DESIGN §7), by error name.
 */

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NO_DAEMON = 3
export const EXIT_NOT_FOUND = 4
export const EXIT_TASK_FAILED = 5
/** a write or submit on a daemon an admin removed from its team */
export const EXIT_REMOVED = 6

const BY_NAME: Readonly<Record<string, number>> = {
  UsageError: EXIT_USAGE,
  InvalidArgumentError: EXIT_USAGE,
  MalformedInviteError: EXIT_USAGE,
  InviteExpiredError: EXIT_USAGE,
  InvalidInviteError: EXIT_USAGE,
  InviteUsedError: EXIT_USAGE,
  WrongTeamError: EXIT_USAGE,
  StaleInviteError: EXIT_USAGE,
  ValueTooLargeError: EXIT_USAGE,
  DaemonNotRunningError: EXIT_NO_DAEMON,
  NotFoundError: EXIT_NOT_FOUND,
  TaskFailedError: EXIT_TASK_FAILED,
  RemovedFromTeamError: EXIT_REMOVED
}

export function exitCodeFor (err: unknown): number {
  const name = typeof err === 'object' && err != null ? (err as { name?: unknown }).name : undefined
  return typeof name === 'string' && Object.hasOwn(BY_NAME, name) ? BY_NAME[name] : EXIT_FAILURE
}
