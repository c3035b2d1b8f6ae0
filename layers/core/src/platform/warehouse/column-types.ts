import type { Field } from '../table-schema/schema';

export type ColumnType =
  | 'text'
  | 'bigint'
  | 'numeric'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamptz'
  | 'integer'
  | 'geometry(Point,4326)'
  | 'geometry(Geometry,4326)'
  | 'jsonb';

/** PostgreSQL column type of each Table Schema field type. */
export function columnType(field: Field): ColumnType {
  switch (field.type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'bigint';
    case 'number':
      return 'numeric';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'datetime':
      return 'timestamptz';
    case 'year':
      return 'integer';
    case 'geopoint':
      return 'geometry(Point,4326)';
    case 'geojson':
      return 'geometry(Geometry,4326)';
    case 'object':
    case 'array':
      return 'jsonb';
    case 'yearmonth':
    case 'duration':
    case 'any':
      return 'text';
  }
}

/**
 * The column type a field is loaded into: its column's, but GeoJSON, which arrives as text
 * in a staging table and is parsed by PostGIS in the final INSERT (see loadTable).
 */
export function loadColumnType(field: Field): ColumnType {
  return field.type === 'geojson' ? 'text' : columnType(field);
}
