// Every kind of the API, in the order the generated files list them.
import type { KindSource } from '../kind.ts';
import { campus } from './campus.ts';
import { drillRun } from './drill-run.ts';
import { drillSchedule } from './drill-schedule.ts';
import { imageDistribution } from './image-distribution.ts';
import { imService } from './im-service.ts';
import { offlineJob } from './offline-job.ts';
import { offlineQueue } from './offline-queue.ts';

export const kinds: readonly KindSource[] = [
  campus,
  imService,
  offlineQueue,
  offlineJob,
  imageDistribution,
  drillSchedule,
  drillRun,
];
