export {
  acceptedValues,
  cachedSecretCheck,
  parseRotatingSecret,
  rotatedSecret,
  rotatingSecretSchema,
  rotation,
  valuesInForce,
  type RotatingSecret,
} from './rotation';
