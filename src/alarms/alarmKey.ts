import type { AlarmName } from './definitions.js';

/** One alarm instance: an alarm of a node, and of a chat type where that fits. */
export interface AlarmKey {
  name: AlarmName;
  node: string;
  chatType?: string;
}

export function keyId(k: AlarmKey): string {
  return k.chatType ? `${k.name}/${k.node}/${k.chatType}` : `${k.name}/${k.node}`;
}
