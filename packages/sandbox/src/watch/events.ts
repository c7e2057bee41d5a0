// The unit of watch history: one write to one object.
import type { Obj } from '../storage/store.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  storage: string;
  rev: number;
  type: EventType;
  object: Obj;
  /** The object before this write (MODIFIED, DELETED): selectors need it to turn a change that
   *  moves an object out of a watch's selection into DELETED, and exact lists need it to rewind. */
  prev?: Obj;
}
