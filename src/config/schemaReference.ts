import type { z } from 'zod';

/** One key of the config file, as the reference page lists it. */
export interface KeyReference {
  /** Dotted path; `[]` for a list item, `<chatType>` for a map key. */
  key: string;
  accepts: string;
  default?: string;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string>;
  values?: unknown[];
  defaultValue?: unknown;
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; error?: (i: object) => unknown } } }>;
  error?: (i: object) => unknown;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The message a refinement or union carries, without the "key: " some messages start with. */
function messageOf(fn: ((i: object) => unknown) | undefined): string | undefined {
  const m = fn?.({});
  return typeof m === 'string' ? m.replace(/^[A-Za-z]+: /, '') : undefined;
}

function bounds(def: Def): string {
  const parts: string[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'greater_than') parts.push(`from ${String(d.value)}`);
    if (d.check === 'less_than') parts.push(`to ${String(d.value)}`);
  }
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** What a leaf schema accepts, in words. */
function accepts(schema: z.ZodType): string {
  const def = defOf(schema);
  const custom = def.checks?.map((c) => messageOf(c._zod.def.error)).find((m) => m);
  switch (def.type) {
    case 'string':
      return custom ?? 'text';
    case 'number':
      return `a number${bounds(def)}`;
    case 'boolean':
      return '`true` or `false`';
    case 'enum':
      return Object.values(def.entries ?? {}).map((v) => `\`${v}\``).join(', ');
    case 'literal':
      return (def.values ?? []).map((v) => `\`${String(v)}\``).join(', ');
    case 'union':
      return messageOf(def.error) ?? def.options!.map(accepts).join('; or ');
    case 'array':
      return `a list of ${accepts(def.element!)}`;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
      return accepts(def.innerType!);
    case 'pipe':
      return accepts(def.in!);
    default:
      return def.type;
  }
}

function render(value: unknown): string {
  return typeof value === 'string' ? `\`${value}\`` : `\`${JSON.stringify(value)}\``;
}

/** Every key the schema accepts, depth first, in the order the schema declares them. */
export function keyReference(schema: z.ZodType, prefix = '', defaultValue?: unknown): KeyReference[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'prefault':
      return keyReference(def.innerType!, prefix, defaultValue);
    case 'default':
      return keyReference(def.innerType!, prefix, def.defaultValue);
    case 'object': {
      const out: KeyReference[] = [];
      for (const [k, v] of Object.entries(def.shape!)) out.push(...keyReference(v, prefix ? `${prefix}.${k}` : k));
      return out;
    }
    case 'record':
      return keyReference(def.valueType!, `${prefix}.<${Object.values(defOf(def.keyType!).entries ?? { key: 'key' }).join('|')}>`);
    case 'array': {
      const element = defOf(def.element!);
      if (element.type === 'object' || element.type === 'union') return keyReference(def.element!, `${prefix}[]`);
      break;
    }
    case 'union': {
      const objects = def.options!.filter((o) => ['object', 'optional'].includes(defOf(o).type));
      if (objects.length === def.options!.length) {
        // A union of objects (postgres or oracle, sftp or local): every variant's keys, each once.
        const seen = new Map<string, KeyReference>();
        for (const o of objects) {
          for (const r of keyReference(o, prefix)) {
            const had = seen.get(r.key);
            if (!had) seen.set(r.key, r);
            else if (had.accepts !== r.accepts) had.accepts = `${had.accepts}; or ${r.accepts}`;
          }
        }
        return [...seen.values()];
      }
      break;
    }
  }
  return [{ key: prefix, accepts: accepts(schema), ...(defaultValue !== undefined && typeof defaultValue !== 'object' ? { default: render(defaultValue) } : {}) }];
}

/** The reference page: one table row a key. */
export function renderKeyReference(title: string, intro: string, rows: KeyReference[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`# ${title}`, '', intro, '', '| key | accepts | default in the schema |', '|---|---|---|'];
  for (const r of rows) lines.push(`| \`${esc(r.key)}\` | ${esc(r.accepts)} | ${r.default ? esc(r.default) : '-'} |`);
  return `${lines.join('\n')}\n`;
}
