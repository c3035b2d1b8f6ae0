import { z } from 'zod';
import { asList } from './lists';

/** Field types of the Frictionless Table Schema v1 specification. */
export const fieldTypes = [
  'string',
  'number',
  'integer',
  'boolean',
  'object',
  'array',
  'date',
  'time',
  'datetime',
  'year',
  'yearmonth',
  'duration',
  'geopoint',
  'geojson',
  'any',
] as const;

const stringOrList = z.union([z.string(), z.array(z.string()).min(1)]);

const constraintsSchema = z.looseObject({
  required: z.boolean().optional(),
  unique: z.boolean().optional(),
  minLength: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().nonnegative().optional(),
  minimum: z.union([z.number(), z.string()]).optional(),
  maximum: z.union([z.number(), z.string()]).optional(),
  pattern: z.string().optional(),
  enum: z.array(z.unknown()).optional(),
});

export const fieldSchema = z.looseObject({
  name: z.string().min(1),
  title: z.string().optional(),
  description: z.string().optional(),
  type: z.enum(fieldTypes).default('string'),
  format: z.string().default('default'),
  constraints: constraintsSchema.optional(),
  trueValues: z.array(z.string()).optional(),
  falseValues: z.array(z.string()).optional(),
  decimalChar: z.string().optional(),
  groupChar: z.string().optional(),
  bareNumber: z.boolean().optional(),
});

export const foreignKeySchema = z.looseObject({
  fields: stringOrList,
  reference: z.looseObject({ resource: z.string(), fields: stringOrList }),
});

export const tableSchemaSchema = z
  .looseObject({
    name: z.string().optional(),
    title: z.string().optional(),
    fields: z.array(fieldSchema).min(1),
    primaryKey: stringOrList.optional(),
    foreignKeys: z.array(foreignKeySchema).optional(),
    missingValues: z.array(z.string()).default(['']),
  })
  .superRefine((schema, ctx) => {
    const names = schema.fields.map((field) => field.name);
    const seen = new Set<string>();
    names.forEach((name, index) => {
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', index, 'name'],
          message: `duplicate field name "${name}"`,
        });
      }
      seen.add(name);
    });
    for (const key of asList(schema.primaryKey)) {
      if (!seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['primaryKey'],
          message: `primary key field "${key}" is not a field`,
        });
      }
    }
  });

export type TableSchema = z.infer<typeof tableSchemaSchema>;
export type Field = z.infer<typeof fieldSchema>;
export type FieldType = (typeof fieldTypes)[number];
