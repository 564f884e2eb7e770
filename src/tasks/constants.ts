/** the task protocol: offers, accepts, progress and results between coordinator and executor */
export const PROTOCOL_TASK = '/paired/task/1.0.0'
/** largest task message: an input or a result batch of up to 1 MiB plus its envelope */
export const MAX_TASK_MESSAGE_BYTES = 4 * 1024 * 1024
/** a lease lasts this long unless renewed. @default 10 s */
export const DEFAULT_LEASE_MS = 10_000
/** a lapsed lease is given up this long after it expires */
export const LEASE_GRACE_MS = 1_000
/** an executor renews its leases (to the coordinator) this often, as a fraction of the lease */
export const RENEW_FRACTION = 1 / 3
/** ...and replicates the renewed lease this often */
export const REPLICATE_LEASE_FRACTION = 1 / 2
/** an offer not answered in this long counts as declined */
export const OFFER_TIMEOUT_MS = 5_000
/** after a decline, the executor gets no new offer for this long */
export const DECLINE_BACKOFF_MS = 500
/** the coordinator checks leases, backoffs and adoption this often */
export const COORDINATOR_TICK_MS = 250
/** first retry delay after a failure; doubles each attempt, ±20 % jitter */
export const RETRY_BASE_MS = 500
export const RETRY_MAX_MS = 30_000
/** further attempts after a failure when the task does not say. @default 2 */
export const DEFAULT_RETRIES = 2
/** extra attempts for losing an executor (not the task's fault) */
export const MAX_LOST_EXECUTORS = 5
/** an executor queues at most this many tasks per slot beyond its running ones */
export const QUEUE_PER_SLOT = 1
/** logs kept per task, and tasks whose logs are kept */
export const MAX_LOG_LINES = 1_000
export const MAX_LOGGED_TASKS = 200
/** outputs larger than this are not replicated (only their hash and the receipt) */
export const MAX_REPLICATED_OUTPUT_BYTES = 1024 * 1024
