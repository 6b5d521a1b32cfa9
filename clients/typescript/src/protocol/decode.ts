/**
 * Small decoders: each checks a JSON value's shape and copies only the fields
 * it knows. Re-encoding a decoded value therefore gives back the original
 * exactly when the SDK knows every field of it, which is what the example
 * test relies on to catch drift between the SDK and `protocol/`.
 */

/** A JSON value as the gateway carries it (numbers are doubles). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Thrown when a value does not have the shape a decoder expects. */
export class DecodeError extends Error {
  constructor(readonly path: string, readonly expected: string) {
    super(`${path || "(root)"}: expected ${expected}`);
    this.name = "DecodeError";
  }
}

/** Checks `value` and returns it typed, or throws a `DecodeError`. */
export type Decoder<T> = (value: unknown, path: string) => T;

/** Marks a field as optional: absent (or, leniently, `null`) reads as missing. */
export interface Optional<T> {
  readonly optional: Decoder<T>;
}

export function opt<T>(decoder: Decoder<T>): Optional<T> {
  return { optional: decoder };
}

type Field = Decoder<unknown> | Optional<unknown>;
type Required<F> = { [K in keyof F as F[K] extends Optional<unknown> ? never : K]: F[K] extends Decoder<infer T> ? T : never };
type Optionals<F> = { [K in keyof F as F[K] extends Optional<unknown> ? K : never]?: F[K] extends Optional<infer T> ? T : never };
type Flatten<T> = { [K in keyof T]: T[K] };
/** The type an `object` decoder of these fields produces. */
export type ObjectOf<F> = Flatten<Required<F> & Optionals<F>>;

export const str: Decoder<string> = (v, p) => {
  if (typeof v !== "string") throw new DecodeError(p, "a string");
  return v;
};

export const bool: Decoder<boolean> = (v, p) => {
  if (typeof v !== "boolean") throw new DecodeError(p, "a boolean");
  return v;
};

/** An integer JavaScript holds exactly (the gateway sends every integer below 2^53). */
export const int: Decoder<number> = (v, p) => {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new DecodeError(p, "an integer");
  return v;
};

export const json: Decoder<JsonValue> = (v, p) => {
  if (v === undefined) throw new DecodeError(p, "a JSON value");
  return v as JsonValue;
};

export function literal<const T extends string>(...values: T[]): Decoder<T> {
  return (v, p) => {
    if (typeof v !== "string" || !(values as string[]).includes(v)) {
      throw new DecodeError(p, `one of ${values.join(", ")}`);
    }
    return v as T;
  };
}

export function array<T>(item: Decoder<T>): Decoder<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) throw new DecodeError(p, "an array");
    return v.map((x, i) => item(x, `${p}[${i}]`));
  };
}

/** A JSON object used as a map (`reactions`, `my_reactions`, proxy `headers`). */
export function record<T>(value: Decoder<T>): Decoder<Record<string, T>> {
  return (v, p) => {
    if (!isObject(v)) throw new DecodeError(p, "an object");
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value(x, `${p}.${k}`);
    return out;
  };
}

export function object<F extends Record<string, Field>>(fields: F): Decoder<ObjectOf<F>> {
  return (v, p) => {
    if (!isObject(v)) throw new DecodeError(p, "an object");
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(fields)) {
      const x = v[name];
      const path = p ? `${p}.${name}` : name;
      if ("optional" in field) {
        if (x !== undefined && x !== null) out[name] = field.optional(x, path);
      } else {
        out[name] = field(x, path);
      }
    }
    return out as ObjectOf<F>;
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
