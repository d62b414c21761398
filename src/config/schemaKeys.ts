import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be checked against (several for a union). */
function objectsAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, value: unknown): Def[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return objectsAt(def.innerType!, path, value);
    case 'pipe':
      return objectsAt(def.in!, path, value);
    case 'union': {
      const all = def.options!.flatMap((o) => objectsAt(o, path, value));
      // A union told apart by its `type` key (postgres or oracle, sftp or local): the keys of the one named.
      const named = path.length ? [] : all.filter((d) => d.shape?.type?.safeParse(child(value, 'type')).success);
      return named.length ? named : all;
    }
    case 'array':
      return path.length && typeof path[0] === 'number' ? objectsAt(def.element!, path.slice(1), child(value, path[0])) : [];
    case 'object': {
      if (!path.length) return [def];
      const next = def.shape![String(path[0])];
      return next ? objectsAt(next, path.slice(1), child(value, path[0]!)) : [];
    }
    default:
      return [];
  }
}

const child = (value: unknown, key: PropertyKey): unknown => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined);

/** The keys the schema accepts for the object at `path` of `data`: the list an unknown key is compared with. */
export function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, data?: unknown): string[] {
  const keys = new Set<string>();
  for (const def of objectsAt(schema, path, data)) for (const k of Object.keys(def.shape ?? {})) keys.add(k);
  return [...keys];
}
