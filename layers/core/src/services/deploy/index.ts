export {
  customResourceRequestSchema,
  handleSchemaResource,
  type CustomResourceRequest,
} from './schema-resource';
