export {
  customResourceRequestSchema,
  readLogins,
  handleSchemaResource,
  type CustomResourceRequest,
} from './schema-resource';
