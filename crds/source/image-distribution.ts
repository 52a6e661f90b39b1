// ImageDistribution: put one image's blobs on a set of nodes before pods need
// them, peer to peer, so the registry sends each blob about once.
import type { KindSource } from '../kind.ts';
import { enumOf, int32, int64, list, obj, req, str } from '../schema.ts';
import {
  campusList,
  celString,
  conditions,
  dateTime,
  httpUrl,
  labelMap,
  observedGeneration,
  quantity,
} from './common.ts';

export const imageDistributionConditionTypes = ['Complete', 'Progressing'] as const;

/** Enough for any image Yard runs; bounds the status and the CEL cost. */
const maxBlobs = 128;
const maxNodeEntries = 1000;

// A registry host (with port), then a lower-case path, then a tag and/or a digest.
export const imageRe =
  '^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$';

const blob = obj(
  'One blob (a layer or the config) of the image.',
  {
    digest: req(
      str('The blob\'s digest, "sha256:" and 64 lower-case hex digits.', {
        maxLength: 71,
        rules: [
          {
            rule: `self.matches(${celString('^sha256:[a-f0-9]{64}$')})`,
            message: '{field} must be "sha256:" followed by 64 lower-case hex digits',
          },
        ],
      }),
    ),
    size: req(int64("The blob's size in bytes.", { minimum: 0 })),
    mediaType: str('The blob\'s media type, e.g. "application/vnd.oci.image.layer.v1.tar+gzip".', {
      maxLength: 256,
    }),
  },
  { typeName: 'ImageBlob' },
);

const nodeProgress = obj(
  'How far one node has got.',
  {
    node: req(str('The node.', { maxLength: 253 })),
    campus: str("The node's campus.", { maxLength: 63 }),
    phase: enumOf(
      ['Pending', 'Downloading', 'Complete', 'Failed'],
      'Pending: not started. Downloading: fetching pieces. Complete: every blob verified. Failed: see message.',
      { typeName: 'NodeDistributionPhase', valuesName: 'nodeDistributionPhases' },
    ),
    bytesComplete: int64('Bytes the node holds, verified.', { minimum: 0 }),
    bytesTotal: int64('Bytes the node needs.', { minimum: 0 }),
    message: str('What went wrong, when Failed.', { maxLength: 1024 }),
  },
  { typeName: 'NodeDistributionProgress' },
);

export const imageDistribution: KindSource = {
  kind: 'ImageDistribution',
  plural: 'imagedistributions',
  singular: 'imagedistribution',
  shortNames: ['imgd'],
  scope: 'Namespaced',
  source: 'crds/source/image-distribution.ts',
  description:
    "An ImageDistribution puts one image's blobs on a set of nodes ahead of the pods that need them: node agents fetch pieces from each other (preferring peers in their own campus) and the registry sends each blob about once. The IMService controller makes one before a rollout; people may make one by hand.",
  spec: obj(
    'The image, which nodes get it, and how fast.',
    {
      image: req(
        str(
          'The image reference, e.g. "registry.local/yard/im-logic:1.4.2" or "…@sha256:<digest>". Fixed once created: make another ImageDistribution for another image.',
          {
            maxLength: 512,
            rules: [
              {
                rule: `self.matches(${celString(imageRe)})`,
                message:
                  '{field} must be an image reference such as "registry.local/yard/im-logic:1.4.2" (host/path:tag or @sha256:digest, lower-case path)',
              },
              {
                rule: 'self == oldSelf',
                message: '{field} is immutable: create another ImageDistribution for another image',
              },
            ],
          },
        ),
      ),
      blobs: list(
        "The blobs to distribute. Unset means all the blobs of the image's manifest (and, for an index, of its linux/amd64 and linux/arm64 images), as the registry lists them.",
        blob,
        { maxItems: maxBlobs, listType: 'map', listMapKeys: ['digest'] },
      ),
      campuses: campusList(
        'The campuses whose nodes get the image, e.g. ["campus-a"]. Unset means every campus.',
      ),
      nodeSelector: labelMap(
        'Labels a node must carry to get the image, in addition to `campuses`. Unset means every node of those campuses.',
      ),
      pieceSize: int64(
        'The size of the pieces blobs are cut into, in bytes, 64 KiB to 64 MiB: smaller pieces spread sooner, larger ones cost less bookkeeping.',
        { minimum: 65536, maximum: 67108864, default: 4194304 },
      ),
      limits: obj(
        'Per-node bandwidth limits, so distribution does not starve the services on the node.',
        {
          uploadBytesPerSecond: quantity(
            'The most a node sends to peers, in bytes per second, e.g. "100Mi". Unset means no limit.',
          ),
          downloadBytesPerSecond: quantity(
            'The most a node fetches, from peers and origin together, in bytes per second, e.g. "200Mi". Unset means no limit.',
          ),
        },
        { typeName: 'DistributionLimits' },
      ),
      origin: httpUrl(
        'The registry to fetch from when no peer has a piece, e.g. "https://registry.local". Unset means the registry of the image reference, over https.',
      ),
    },
    { typeName: 'ImageDistributionSpec' },
  ),
  status: obj(
    'What the distribution controller last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      phase: enumOf(
        ['Pending', 'Distributing', 'Complete', 'Failed'],
        'Pending: not started. Distributing: nodes are fetching. Complete: every selected node holds every blob, verified. Failed: see the conditions.',
        { typeName: 'ImageDistributionPhase', valuesName: 'imageDistributionPhases' },
      ),
      nodes: obj('The selected nodes.', {
        total: int32('Nodes selected.', { minimum: 0 }),
        complete: int32('Nodes holding every blob, verified.', { minimum: 0 }),
        summary: str('"complete/total", for `kubectl get`.', { maxLength: 32 }),
      }),
      progress: list(
        `Per-node progress: at most ${maxNodeEntries} entries, nodes not yet complete first; \`nodes\` counts every node.`,
        nodeProgress,
        { maxItems: maxNodeEntries, listType: 'map', listMapKeys: ['node'] },
      ),
      bytesFromOrigin: int64('Bytes fetched from the registry, over all nodes.', { minimum: 0 }),
      bytesFromPeers: int64('Bytes fetched from other nodes, over all nodes.', { minimum: 0 }),
      startTime: dateTime('When distribution started.'),
      completionTime: dateTime('When every node was complete.'),
      conditions: conditions('ImageDistribution', imageDistributionConditionTypes),
    },
    { typeName: 'ImageDistributionStatus' },
  ),
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image', description: 'The image.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The phase.' },
    {
      name: 'Nodes',
      type: 'string',
      jsonPath: '.status.nodes.summary',
      description: 'Complete nodes / selected nodes.',
    },
    {
      name: 'From Origin',
      type: 'integer',
      jsonPath: '.status.bytesFromOrigin',
      description: 'Bytes from the registry.',
    },
    {
      name: 'From Peers',
      type: 'integer',
      jsonPath: '.status.bytesFromPeers',
      description: 'Bytes from peers.',
    },
  ],
  conditionTypes: imageDistributionConditionTypes,
};
