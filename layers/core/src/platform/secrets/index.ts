export {
  acceptedValues,
  cachedSecretCheck,
  parseRotatingSecret,
  rotatedSecret,
  type RotatingSecret,
} from './rotation';
