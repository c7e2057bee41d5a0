// events.k8s.io/v1 Events are stored as core/v1 Events (one storage, two views), converted
// field by field as k8s.io/kubernetes/pkg/apis/events/v1 conversion does.
type Obj = Record<string, unknown>;

export function eventToCore(e: Obj): Obj {
  const out: Obj = { apiVersion: 'v1', kind: 'Event', metadata: e.metadata };
  if (e.regarding !== undefined) out.involvedObject = e.regarding;
  if (e.note !== undefined) out.message = e.note;
  for (const k of ['reason', 'type', 'action', 'related', 'eventTime', 'reportingInstance'])
    if (e[k] !== undefined) out[k] = e[k];
  if (e.reportingController !== undefined) out.reportingComponent = e.reportingController;
  if (e.deprecatedSource !== undefined) out.source = e.deprecatedSource;
  if (e.deprecatedFirstTimestamp !== undefined) out.firstTimestamp = e.deprecatedFirstTimestamp;
  if (e.deprecatedLastTimestamp !== undefined) out.lastTimestamp = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== undefined) out.count = e.deprecatedCount;
  if (e.series !== undefined) {
    const s = e.series as Obj;
    out.series = { count: s.count, lastObservedTime: s.lastObservedTime };
  }
  return out;
}

export function eventFromCore(c: Obj): Obj {
  const out: Obj = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: c.metadata };
  for (const k of ['reason', 'type', 'action', 'related', 'reportingInstance', 'series'])
    if (c[k] !== undefined) out[k] = c[k];
  out.eventTime = c.eventTime ?? null;
  if (c.involvedObject !== undefined) out.regarding = c.involvedObject;
  if (c.message !== undefined) out.note = c.message;
  if (c.reportingComponent !== undefined) out.reportingController = c.reportingComponent;
  if (c.source !== undefined) out.deprecatedSource = c.source;
  if (c.firstTimestamp !== undefined) out.deprecatedFirstTimestamp = c.firstTimestamp;
  if (c.lastTimestamp !== undefined) out.deprecatedLastTimestamp = c.lastTimestamp;
  if (c.count !== undefined) out.deprecatedCount = c.count;
  return out;
}
