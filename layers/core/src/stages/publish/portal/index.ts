export { publishPortal } from './publish-portal';
export { mapFeatureLimit } from './queries';
