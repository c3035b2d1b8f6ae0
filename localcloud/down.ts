/** Stops the LocalStack started by up.ts (its state is in memory: the next start is fresh). */
import { stopLocalstack } from './localstack';

stopLocalstack().then((stopped) =>
  console.log(stopped ? 'LocalStack stopped' : 'LocalStack was not started by datacycle'),
);
