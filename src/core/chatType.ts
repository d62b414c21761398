/** The three MFT chat types, exactly as they appear in AFT_LOG.chat_type and in the folder layout. */
export const CHAT_TYPES = ['im', 'groupchat', 'persistent'] as const;
export type ChatType = (typeof CHAT_TYPES)[number];

export function isChatType(value: unknown): value is ChatType {
  return typeof value === 'string' && (CHAT_TYPES as readonly string[]).includes(value);
}
