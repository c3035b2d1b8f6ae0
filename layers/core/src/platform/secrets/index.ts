export {
  acceptedValues,
  cachedSecretCheck,
  parseRotatingSecret,
  rotatedSecret,
  rotatingSecretSchema,
  rotation,
  sameSecret,
  valuesInForce,
  type RotatingSecret,
} from './rotation';
