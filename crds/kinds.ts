// Yard's kinds as the controller runtime addresses them (group, version,
// plural resource, kind, scope), from the generated API. The shape is the
// runtime's ResourceType, written out so that crds/ imports no other folder.
import {
  campusResource,
  drillRunResource,
  drillScheduleResource,
  imageDistributionResource,
  imServiceResource,
  offlineJobResource,
  offlineQueueResource,
} from './generated/types.ts';

export interface YardKind {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const rt = (r: {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}): YardKind => ({
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
