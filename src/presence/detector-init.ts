/**
 * The failure detector's settings, each defaulting to its named constant in
 * `constants.ts` (the reasons for each figure are in `failure-detector.ts`), and the
 * checks that refuse a combination it cannot work with.
 */
import { InvalidArgumentError } from '../errors.js'
import {
  DEFAULT_ACCEPTABLE_PAUSE_MS, DEFAULT_HEARTBEAT_BASE_MS, DEFAULT_LEFT_GRACE_MS,
  DEFAULT_LOCAL_HEALTH_DECAY_MS, DEFAULT_LOCAL_LAG_THRESHOLD_MS, DEFAULT_MAX_LOCAL_HEALTH,
  DEFAULT_MIN_STD_DEV_MS, DEFAULT_PHI_THRESHOLD, DEFAULT_PHI_WINDOW, DEFAULT_SATURATED_HEALTH, DEFAULT_SATURATED_UTILIZATION,
  DEFAULT_SUSPECT_RECHECK_MS, DEFAULT_SUSPICION_CONFIRMATIONS, DEFAULT_SUSPICION_MAX_MS, DEFAULT_SUSPICION_MIN_MS
} from './constants.js'

export interface FailureDetectorInit {
  /** Expected heartbeat period; seeds a new peer's window and is the unit for timeout scaling. @default 3000 */
  heartbeatIntervalMs?: number
  /** @default 100 */
  windowSize?: number
  /** @default 8 */
  phiThreshold?: number
  /** @default 100 */
  minStdDevMs?: number
  /** @default 500 */
  acceptablePauseMs?: number
  /** Suspicion timeout with no confirmation. @default 3000 */
  suspicionMaxMs?: number
  /** Suspicion timeout when fully confirmed. @default 500 */
  suspicionMinMs?: number
  /** Confirmations that bring the timeout to its floor (Lifeguard K). @default 3 */
  suspicionConfirmations?: number
  /** @default 8 */
  maxLocalHealth?: number
  /** @default 200 */
  localLagThresholdMs?: number
  /** @default 5000 */
  localHealthDecayMs?: number
  /** Event-loop utilization (0..1) from which this node counts itself saturated. @default 0.9 */
  saturatedUtilization?: number
  /** Local health a saturated loop raises this node to (held accusations below a refusal). @default 4 */
  saturatedHealth?: number
  /** @default 2000 */
  leftGraceMs?: number
  /** Longest wait {@link FailureDetector.nextCheck} allows while a peer is suspect. @default 250 */
  suspectRecheckMs?: number
}

export function resolveInit (init: FailureDetectorInit): Required<FailureDetectorInit> {
  const i: Required<FailureDetectorInit> = {
    heartbeatIntervalMs: init.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_BASE_MS,
    windowSize: init.windowSize ?? DEFAULT_PHI_WINDOW,
    phiThreshold: init.phiThreshold ?? DEFAULT_PHI_THRESHOLD,
    minStdDevMs: init.minStdDevMs ?? DEFAULT_MIN_STD_DEV_MS,
    acceptablePauseMs: init.acceptablePauseMs ?? DEFAULT_ACCEPTABLE_PAUSE_MS,
    suspicionMaxMs: init.suspicionMaxMs ?? DEFAULT_SUSPICION_MAX_MS,
    suspicionMinMs: init.suspicionMinMs ?? DEFAULT_SUSPICION_MIN_MS,
    suspicionConfirmations: init.suspicionConfirmations ?? DEFAULT_SUSPICION_CONFIRMATIONS,
    maxLocalHealth: init.maxLocalHealth ?? DEFAULT_MAX_LOCAL_HEALTH,
    localLagThresholdMs: init.localLagThresholdMs ?? DEFAULT_LOCAL_LAG_THRESHOLD_MS,
    localHealthDecayMs: init.localHealthDecayMs ?? DEFAULT_LOCAL_HEALTH_DECAY_MS,
    saturatedUtilization: init.saturatedUtilization ?? DEFAULT_SATURATED_UTILIZATION,
    saturatedHealth: init.saturatedHealth ?? DEFAULT_SATURATED_HEALTH,
    leftGraceMs: init.leftGraceMs ?? DEFAULT_LEFT_GRACE_MS,
    suspectRecheckMs: init.suspectRecheckMs ?? DEFAULT_SUSPECT_RECHECK_MS
  }
  if (!(i.heartbeatIntervalMs > 0) || !(i.windowSize >= 2) || !(i.phiThreshold > 0) || !(i.minStdDevMs > 0)) {
    throw new InvalidArgumentError('failure detector: heartbeatIntervalMs, phiThreshold and minStdDevMs must be > 0, windowSize ≥ 2')
  }
  if (!(i.suspicionMinMs >= 0) || !(i.suspicionMaxMs >= i.suspicionMinMs) || !(i.suspicionConfirmations >= 0)) {
    throw new InvalidArgumentError('failure detector: need 0 ≤ suspicionMinMs ≤ suspicionMaxMs and suspicionConfirmations ≥ 0')
  }
  if (!(i.suspectRecheckMs > 0)) throw new InvalidArgumentError('failure detector: suspectRecheckMs must be > 0')
  return i
}
