export type { Change, Envelope, EscalationJob, EvaluateJob, HotlineJob } from './jobs.js';
export { bullPrefix, openQueue, QUEUE_KEYS, QUEUES, type QueueJobs, type QueueKey, type QueueSpec } from './registry.js';
export { openWorkerQueue, startQueueWorker, type QueueWorker, type QueueWorkerSettings } from './worker.js';
