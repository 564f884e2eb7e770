/**
 * Exit codes of the CLI (README "Commands", docs/DESIGN.md §7), by error name:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | anything else (unreachable peer, permission, full disk, a bug) |
 * | 2 | bad usage or bad input, including every invite error and a listen address that is taken |
 * | 3 | no daemon running for that home |
 * | 4 | not found |
 * | 5 | task failed |
 * | 6 | this daemon was removed from its team (a write or submit refused) |
 *
 * Every error name the code base throws is listed below, in one of the tables, so a new
 * error class is a decision, not an accident (test/unit/cli/exit-codes.test.ts checks).
 */

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NO_DAEMON = 3
export const EXIT_NOT_FOUND = 4
export const EXIT_TASK_FAILED = 5
/** a write or submit on a daemon an admin removed from its team */
export const EXIT_REMOVED = 6

/** bad usage or bad input: the user can fix it by changing what they typed */
const BAD_INPUT = [
  'UsageError',
  'InvalidArgumentError',
  'InvalidConfigError',
  // every invite error, on `team join` (a revoked or otherwise refused invite comes back
  // from the admitting member as InvalidCertificateError)
  'MalformedInviteError',
  'InviteExpiredError',
  'InvalidInviteError',
  'InviteUsedError',
  'WrongTeamError',
  // an invite whose network key the team has rotated away from
  'StaleInviteError',
  'InvalidCertificateError',
  // `submit` of an agent no member serves
  'AgentNotServedError',
  'ValueTooLargeError',
  'PayloadTooLargeError',
  'BatchTooLargeError',
  // `daemon --listen` / `--api-port` on an address that is taken or not this machine's
  'ListenAddressError'
] as const

/** errors that mean "anything else": exit 1, listed so that the choice is explicit */
export const FAILURE_NAMES: readonly string[] = [
  'Error',
  'HomeLockedError',
  'PeerUnreachableError',
  'RateLimitedError',
  'PermissionDeniedError',
  'NotAMemberError',
  'StoreFullError',
  'StoreWriteError',
  'TimeoutError',
  'AbortError',
  'NotImplementedError',
  'UnauthorizedError',
  'ForbiddenHostError',
  'ForbiddenOriginError',
  'MethodNotAllowedError',
  'ProtocolError',
  'WrongNetworkKeyError',
  'InvalidOpError',
  'InvalidBatchError',
  'SeqConflictError',
  'ConflictingOpError',
  'InvalidSnapshotError',
  'NoSignerError',
  'ClockSkewError',
  'InvalidHlcError',
  'TaskMismatchError',
  'CanonicalEncodingError',
  'LeavingError',
  'KeyStreamExhaustedError',
  'StaleConnectionError',
  'UnprovenEvictedError'
]

/** error name → exit code, for every code but 1 */
export const EXIT_CODE_BY_NAME: Readonly<Record<string, number>> = {
  ...Object.fromEntries(BAD_INPUT.map(name => [name, EXIT_USAGE])),
  DaemonNotRunningError: EXIT_NO_DAEMON,
  NotFoundError: EXIT_NOT_FOUND,
  TaskFailedError: EXIT_TASK_FAILED,
  RemovedFromTeamError: EXIT_REMOVED
}

export function exitCodeFor (err: unknown): number {
  const name = typeof err === 'object' && err != null ? (err as { name?: unknown }).name : undefined
  return typeof name === 'string' && Object.hasOwn(EXIT_CODE_BY_NAME, name) ? EXIT_CODE_BY_NAME[name] : EXIT_FAILURE
}
