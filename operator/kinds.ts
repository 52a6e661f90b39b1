// Yard's own kinds as the runtime's ResourceType, from the generated API.
import {
  campusResource,
  drillRunResource,
  drillScheduleResource,
  imageDistributionResource,
  imServiceResource,
  offlineJobResource,
  offlineQueueResource,
} from '../crds/index.ts';
import type { ResourceType } from './runtime/index.ts';

const rt = (r: {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}): ResourceType => ({
  group: r.group,
  version: r.version,
  resource: r.plural,
  kind: r.kind,
  namespaced: r.namespaced,
});

export const yardKinds = {
  Campus: rt(campusResource),
  IMService: rt(imServiceResource),
  OfflineQueue: rt(offlineQueueResource),
  OfflineJob: rt(offlineJobResource),
  ImageDistribution: rt(imageDistributionResource),
  DrillSchedule: rt(drillScheduleResource),
  DrillRun: rt(drillRunResource),
} as const;
