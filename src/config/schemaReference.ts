import type { z } from 'zod';
import { defOf, type Def } from './schemaKeys.js';

/** One key of the config file, as the reference page lists it. */
export interface KeyReference {
  /** Dotted path; `[]` for a list item, `<chatType>` for a map key. */
  key: string;
  accepts: string;
  default?: string;
}


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
      return custom ?? messageOf(def.error) ?? def.options!.map(accepts).join('; or ');
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

/** The schema a value is checked against before it is resolved (the input side of a transform). */
const inputOf = (s: z.ZodType): z.ZodType => (defOf(s).type === 'pipe' ? inputOf(defOf(s).in!) : s);

function render(value: unknown): string {
  return typeof value === 'string' ? `\`${value}\`` : `\`${JSON.stringify(value)}\``;
}

/** Every key the schema accepts, depth first, in the order the schema declares them. */
export function keyReference(schema: z.ZodType, prefix = '', defaultValue?: unknown): KeyReference[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
      return keyReference(def.innerType!, prefix, defaultValue);
    case 'default':
    case 'prefault':
      return keyReference(def.innerType!, prefix, def.defaultValue);
    case 'pipe':
      // A key that resolves its value (a duration, a size): documented as what it accepts.
      return keyReference(def.in!, prefix, defaultValue);
    case 'object': {
      const out: KeyReference[] = [];
      for (const [k, v] of Object.entries(def.shape!)) out.push(...keyReference(v, prefix ? `${prefix}.${k}` : k));
      return out;
    }
    case 'record':
      return keyReference(def.valueType!, `${prefix}.<${Object.values(defOf(def.keyType!).entries ?? { key: 'key' }).join('|')}>`);
    case 'array': {
      const element = defOf(inputOf(def.element!));
      if (element.type === 'object' || element.type === 'union') return keyReference(def.element!, `${prefix}[]`);
      break;
    }
    case 'union': {
      const objects = def.options!.filter((o) => ['object', 'optional'].includes(defOf(inputOf(o)).type));
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
